"""QA evaluation forms and their scoring.

A contact centre writes its own form (plain JSON: the same dict `ScorecardForm.from_dict`
reads). Each item is a rule that passes or fails with evidence a supervisor can jump
to (turn, speaker, time, the words that matched), and the call's score is the weighted
share of passed items, 0-100.

Phrases are matched fuzzily, because ASR and people both vary the words: text is
normalised (NFKC, lowercase, punctuation and — in Japanese — spaces dropped,
katakana folded to hiragana, honorific and kanji/kana spellings such as 致します /
いたします, ござります / ございます, 有難う / ありがとう folded) and the phrase is then
compared to the best-matching window of each turn with rapidfuzz's partial ratio.
Tense or a single mis-heard character (ございます / ございました) stays above the
threshold; phrases of four characters or fewer must match exactly.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz

from callsight_worker.analysis._text import (
    is_japanese,
    normalise,
    normalise_with_map,
    time_at_offset,
)
from callsight_worker.analysis.metrics import CallMetrics, compute_metrics
from callsight_worker.transcript import MIXED, OPERATOR, Transcript

REQUIRED_PHRASE = "required_phrase"
FORBIDDEN_PHRASE = "forbidden_phrase"
MAX_SILENCE_S = "max_silence_s"
MAX_OPERATOR_TALK_SHARE = "max_operator_talk_share"
KINDS = (REQUIRED_PHRASE, FORBIDDEN_PHRASE, MAX_SILENCE_S, MAX_OPERATOR_TALK_SHARE)
STAGES = ("greeting", "identity_check", "closing", "other")
SPEAKERS = ("operator", "customer", "any")

# Similarity (0-100) a phrase needs. Forbidden phrases are stricter: a false
# accusation costs more than a missed one.
DEFAULT_THRESHOLD = {REQUIRED_PHRASE: 80.0, FORBIDDEN_PHRASE: 90.0}
EXACT_MAX_CHARS = 4


@dataclass(frozen=True)
class FormItem:
    id: str
    kind: str
    weight: float = 1.0
    label: str = ""
    stage: str = "other"
    phrases: tuple[str, ...] = ()  # alternatives; any one of them counts
    speaker: str = "operator"  # operator | customer | any
    within_first_s: float | None = None  # the phrase must start in the first N s
    within_last_s: float | None = None  # ... or in the last N s of the call
    threshold: float | None = None  # similarity 0-100; None: the kind's default
    limit: float | None = None  # seconds (max_silence_s) or share 0-1 (talk share)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FormItem:
        kind = d.get("kind", "")
        if kind not in KINDS:
            raise ValueError(f"item {d.get('id')!r}: unknown kind {kind!r}, expected {KINDS}")
        window = d.get("window") or {}
        phrases = d.get("phrases", d.get("alternatives", ()))
        if isinstance(phrases, str):
            phrases = (phrases,)
        item = cls(
            id=str(d.get("id") or kind),
            kind=kind,
            weight=float(d.get("weight", 1.0)),
            label=str(d.get("label", "")),
            stage=str(d.get("stage", "other")),
            phrases=tuple(str(p) for p in phrases),
            speaker=str(d.get("speaker", "operator")),
            within_first_s=_opt_float(d.get("within_first_s", window.get("first_s"))),
            within_last_s=_opt_float(d.get("within_last_s", window.get("last_s"))),
            threshold=_opt_float(d.get("threshold")),
            limit=_opt_float(d.get("limit", d.get("value"))),
        )
        item.validate()
        return item

    def validate(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"item {self.id!r}: unknown stage {self.stage!r}")
        if self.speaker not in SPEAKERS:
            raise ValueError(f"item {self.id!r}: unknown speaker {self.speaker!r}")
        if self.weight < 0:
            raise ValueError(f"item {self.id!r}: weight must be >= 0")
        if self.kind in (REQUIRED_PHRASE, FORBIDDEN_PHRASE) and not self.phrases:
            raise ValueError(f"item {self.id!r}: {self.kind} needs phrases")
        if self.kind in (MAX_SILENCE_S, MAX_OPERATOR_TALK_SHARE) and self.limit is None:
            raise ValueError(f"item {self.id!r}: {self.kind} needs a limit")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["phrases"] = list(self.phrases)
        return {k: v for k, v in d.items() if v is not None}


def _opt_float(v: Any) -> float | None:
    return None if v is None else float(v)


@dataclass(frozen=True)
class ScorecardForm:
    name: str
    language: str
    items: tuple[FormItem, ...]
    version: str = "1"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ScorecardForm:
        items = tuple(FormItem.from_dict(i) for i in d.get("items", ()))
        ids = [i.id for i in items]
        if len(set(ids)) != len(ids):
            raise ValueError(f"form {d.get('name')!r}: item ids must be unique")
        return cls(
            name=str(d.get("name", "form")),
            language=str(d.get("language", "")),
            items=items,
            version=str(d.get("version", "1")),
        )

    @classmethod
    def from_json(cls, text: str) -> ScorecardForm:
        return cls.from_dict(json.loads(text))

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "language": self.language,
            "version": self.version,
            "items": [i.to_dict() for i in self.items],
        }

    @property
    def fingerprint(self) -> str:
        """Hash of the rules, stored with each result so stale scores can be found."""
        canon = json.dumps(self.to_dict(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canon.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Evidence:
    turn_index: int | None
    speaker: str | None
    start: float | None
    text: str
    similarity: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        if self.start is not None:
            d["start"] = round(self.start, 3)
        if self.similarity is not None:
            d["similarity"] = round(self.similarity, 1)
        return d


@dataclass
class ItemResult:
    id: str
    kind: str
    stage: str
    label: str
    weight: float
    passed: bool | None  # None: not applicable to this call (left out of the score)
    detail: str = ""
    evidence: list[Evidence] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "stage": self.stage,
            "label": self.label,
            "weight": self.weight,
            "passed": self.passed,
            "detail": self.detail,
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass
class ScorecardResult:
    form_name: str
    form_version: str
    form_fingerprint: str
    score: float | None  # 0-100, None when no item applied
    items: list[ItemResult]

    def to_dict(self) -> dict[str, Any]:
        return {
            "form": {
                "name": self.form_name,
                "version": self.form_version,
                "fingerprint": self.form_fingerprint,
            },
            "score": self.score,
            "passed": sum(1 for i in self.items if i.passed),
            "failed": sum(1 for i in self.items if i.passed is False),
            "items": [i.to_dict() for i in self.items],
        }


# ---------------------------------------------------------------------------
# Matching


def phrase_similarity(phrase: str, text: str, language: str) -> tuple[float, int, int]:
    """(similarity 0-100, start, end) of the best window of `text` for `phrase`.

    Start and end index the original `text`, so evidence quotes what was said.
    """
    p = normalise(phrase, language)
    t, index = normalise_with_map(text, language)
    if not p or not t:
        return 0.0, 0, 0
    if len(p) <= EXACT_MAX_CHARS:
        hit = t.find(p)
        if hit < 0:
            return 0.0, 0, 0
        return 100.0, index[hit], index[hit + len(p) - 1] + 1
    if len(t) < len(p):
        # the whole turn is shorter than the phrase: compare it as a whole,
        # partial matching would find a short turn ("はい") inside any phrase
        return float(fuzz.ratio(p, t)), index[0], index[-1] + 1
    al = fuzz.partial_ratio_alignment(p, t)
    if al is None or al.dest_end <= al.dest_start:
        return 0.0, 0, 0
    start, end, score = al.dest_start, al.dest_end, float(al.score)
    if end - start < len(p):
        # rapidfuzz lets the window shrink at the text's edges ("承知しました" would match
        # "了解しました" on "しました"); score the full-length window there instead
        left = max(0, end - len(p))
        right = max(0, min(start, len(t) - len(p)))
        candidates = [(left, left + len(p)), (right, right + len(p))]
        score, start, end = max((float(fuzz.ratio(p, t[a:b])), a, b) for a, b in candidates)
    return score, index[start], index[end - 1] + 1


def _speaker_ok(item: FormItem, speaker: str) -> bool:
    # A mono call has one "mixed" voice: the phrase may be either side's.
    return item.speaker == "any" or speaker in (item.speaker, MIXED)


def find_phrase(transcript: Transcript, item: FormItem, duration: float) -> list[Evidence]:
    """Every turn where one of the item's phrases is said, inside its time window."""
    threshold = item.threshold if item.threshold is not None else DEFAULT_THRESHOLD[item.kind]
    found: list[Evidence] = []
    for i, turn in enumerate(transcript.turns):
        if not _speaker_ok(item, turn.speaker) or not turn.text.strip():
            continue
        best: Evidence | None = None
        for phrase in item.phrases:
            score, a, b = phrase_similarity(phrase, turn.text, transcript.language)
            if score < threshold:
                continue
            at = time_at_offset(turn, a)
            if item.within_first_s is not None and at > item.within_first_s:
                continue
            if item.within_last_s is not None and at < duration - item.within_last_s:
                continue
            if best is None or (best.similarity or 0) < score:
                best = Evidence(i, turn.speaker, at, turn.text[a:b], score)
        if best is not None:
            found.append(best)
    return found


# ---------------------------------------------------------------------------
# Scoring


def _window_text(item: FormItem) -> str:
    if item.within_first_s is not None:
        return f" within the first {item.within_first_s:g} s"
    if item.within_last_s is not None:
        return f" within the last {item.within_last_s:g} s"
    return ""


def evaluate_item(
    transcript: Transcript, item: FormItem, metrics: CallMetrics
) -> ItemResult:
    res = ItemResult(item.id, item.kind, item.stage, item.label or item.id, item.weight, None)
    if item.kind == REQUIRED_PHRASE:
        found = find_phrase(transcript, item, metrics.duration_s)
        res.passed = bool(found)
        res.evidence = found[:1]
        res.detail = (
            f"said by {found[0].speaker} at {found[0].start:.1f} s"
            if found
            else f"none of {len(item.phrases)} phrase(s) said by {item.speaker}{_window_text(item)}"
        )
    elif item.kind == FORBIDDEN_PHRASE:
        found = find_phrase(transcript, item, metrics.duration_s)
        res.passed = not found
        res.evidence = found
        res.detail = f"said {len(found)} time(s)" if found else "not said"
    elif item.kind == MAX_SILENCE_S:
        assert item.limit is not None
        gap = metrics.longest_gap
        longest = gap.duration if gap else 0.0
        res.passed = longest <= item.limit
        res.detail = f"longest silence {longest:.1f} s (limit {item.limit:g} s)"
        if gap and not res.passed:
            res.evidence = [Evidence(None, None, gap.start, f"silence of {longest:.1f} s")]
    elif item.kind == MAX_OPERATOR_TALK_SHARE:
        assert item.limit is not None
        op = metrics.speakers.get(OPERATOR)
        if op is None or metrics.speaker_mode != "stereo":
            res.detail = "not applicable: speakers are not separated (mono)"
        else:
            res.passed = op.talk_share <= item.limit
            res.detail = f"operator talk share {op.talk_share:.0%} (limit {item.limit:.0%})"
    return res


def evaluate(
    transcript: Transcript, form: ScorecardForm, metrics: CallMetrics | None = None
) -> ScorecardResult:
    """Evaluate every item and the weighted score: 100 * passed weight / applicable weight."""
    m = metrics or compute_metrics(transcript)
    items = [evaluate_item(transcript, item, m) for item in form.items]
    applicable = sum(i.weight for i in items if i.passed is not None)
    passed = sum(i.weight for i in items if i.passed)
    score = round(100.0 * passed / applicable, 1) if applicable > 0 else None
    return ScorecardResult(form.name, form.version, form.fingerprint, score, items)


# ---------------------------------------------------------------------------
# Default forms

DEFAULT_FORM_JA: dict[str, Any] = {
    "name": "default-ja",
    "language": "ja-JP",
    "version": "1",
    "items": [
        {
            "id": "greeting",
            "label": "第一声の挨拶",
            "kind": REQUIRED_PHRASE,
            "stage": "greeting",
            "phrases": [
                "お電話ありがとうございます",
                "お待たせいたしました",
                "お電話いただきありがとうございます",
            ],
            "window": {"first_s": 30},
            "weight": 2,
        },
        {
            "id": "self_introduction",
            "label": "名乗り",
            "kind": REQUIRED_PHRASE,
            "stage": "greeting",
            "phrases": ["と申します", "が承ります", "が担当いたします"],
            "window": {"first_s": 60},
            "weight": 1,
        },
        {
            "id": "identity_check",
            "label": "本人確認",
            "kind": REQUIRED_PHRASE,
            "stage": "identity_check",
            "phrases": [
                "ご本人様確認",
                "ご本人様でいらっしゃいますか",
                "生年月日をお伺い",
                "ご登録のお名前",
                "フルネームでお願い",
                "お客様番号をお伺い",
            ],
            "weight": 2,
        },
        {
            "id": "cushion_words",
            "label": "クッション言葉",
            "kind": REQUIRED_PHRASE,
            "stage": "other",
            "phrases": [
                "恐れ入りますが",
                "お手数ですが",
                "申し訳ございませんが",
                "差し支えなければ",
            ],
            "weight": 1,
        },
        {
            "id": "closing",
            "label": "終話の挨拶",
            "kind": REQUIRED_PHRASE,
            "stage": "closing",
            "phrases": [
                "お電話ありがとうございました",
                "失礼いたします",
                "ご利用ありがとうございました",
            ],
            "window": {"last_s": 60},
            "weight": 2,
        },
        {
            "id": "ng_words",
            "label": "NGワード（了解しました・わかりません・できません）",
            "kind": FORBIDDEN_PHRASE,
            "stage": "other",
            "phrases": ["了解しました", "わかりません", "できません", "知りません"],
            "weight": 2,
        },
        {
            "id": "dead_air",
            "label": "10秒以上の沈黙なし",
            "kind": MAX_SILENCE_S,
            "limit": 10,
            "weight": 1,
        },
        {
            "id": "talk_share",
            "label": "オペレーターの発話比率 65% 以下",
            "kind": MAX_OPERATOR_TALK_SHARE,
            "limit": 0.65,
            "weight": 1,
        },
    ],
}

DEFAULT_FORM_EN: dict[str, Any] = {
    "name": "default-en",
    "language": "en-US",
    "version": "1",
    "items": [
        {
            "id": "greeting",
            "label": "Greeting",
            "kind": REQUIRED_PHRASE,
            "stage": "greeting",
            "phrases": ["thank you for calling", "how can I help you", "how may I help you"],
            "window": {"first_s": 30},
            "weight": 2,
        },
        {
            "id": "self_introduction",
            "label": "Agent gives their name",
            "kind": REQUIRED_PHRASE,
            "stage": "greeting",
            "phrases": ["my name is", "you're speaking with", "you are speaking with"],
            "window": {"first_s": 60},
            "weight": 1,
        },
        {
            "id": "identity_check",
            "label": "Identity verification",
            "kind": REQUIRED_PHRASE,
            "stage": "identity_check",
            "phrases": [
                "verify your identity",
                "confirm your date of birth",
                "can you confirm your",
                "security question",
                "last four digits",
            ],
            "weight": 2,
        },
        {
            "id": "closing",
            "label": "Closing",
            "kind": REQUIRED_PHRASE,
            "stage": "closing",
            "phrases": [
                "is there anything else I can help",
                "thank you for calling",
                "have a great day",
                "have a nice day",
            ],
            "window": {"last_s": 60},
            "weight": 2,
        },
        {
            "id": "forbidden",
            "label": "No dismissive phrases",
            "kind": FORBIDDEN_PHRASE,
            "stage": "other",
            "phrases": [
                "calm down",
                "that's not my job",
                "I don't know",
                "there's nothing I can do",
                "that's not my problem",
            ],
            "weight": 2,
        },
        {
            "id": "dead_air",
            "label": "No silence over 10 s",
            "kind": MAX_SILENCE_S,
            "limit": 10,
            "weight": 1,
        },
        {
            "id": "talk_share",
            "label": "Agent talk share at most 65%",
            "kind": MAX_OPERATOR_TALK_SHARE,
            "limit": 0.65,
            "weight": 1,
        },
    ],
}


def default_form(language: str) -> ScorecardForm:
    """The built-in form for a call's language (ja-JP or en-US)."""
    return ScorecardForm.from_dict(DEFAULT_FORM_JA if is_japanese(language) else DEFAULT_FORM_EN)
