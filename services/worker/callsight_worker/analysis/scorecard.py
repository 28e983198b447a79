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

from dataclasses import asdict, dataclass, field
from typing import Any

from rapidfuzz import fuzz

from callsight.qa_form import (
    DEFAULT_FORM_EN,
    DEFAULT_FORM_JA,
    FORBIDDEN_PHRASE,
    KINDS,
    MAX_OPERATOR_TALK_SHARE,
    MAX_SILENCE_S,
    REQUIRED_PHRASE,
    SPEAKERS,
    STAGES,
    FormItem,
    ScorecardForm,
    default_form,
)
from callsight_worker.analysis._text import (
    normalise,
    normalise_with_map,
    time_at_offset,
)
from callsight_worker.analysis.metrics import CallMetrics, compute_metrics
from callsight_worker.transcript import MIXED, OPERATOR, SEPARATED_MODES, Transcript

# The form itself (items, validation, the defaults) lives in the shared library so the
# gateway can validate a form without importing the worker; re-exported here.
__all__ = [
    "DEFAULT_FORM_EN", "DEFAULT_FORM_JA", "FORBIDDEN_PHRASE", "KINDS", "MAX_OPERATOR_TALK_SHARE",
    "MAX_SILENCE_S", "REQUIRED_PHRASE", "SPEAKERS", "STAGES", "FormItem", "ScorecardForm",
    "default_form", "evaluate", "evaluate_item", "find_phrase", "phrase_similarity",
]

# Similarity (0-100) a phrase needs. Forbidden phrases are stricter: a false
# accusation costs more than a missed one.
DEFAULT_THRESHOLD = {REQUIRED_PHRASE: 80.0, FORBIDDEN_PHRASE: 90.0}
EXACT_MAX_CHARS = 4


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
        res.passed = bool(longest <= item.limit)
        res.detail = f"longest silence {longest:.1f} s (limit {item.limit:g} s)"
        if gap and not res.passed:
            res.evidence = [Evidence(None, None, gap.start, f"silence of {longest:.1f} s")]
    elif item.kind == MAX_OPERATOR_TALK_SHARE:
        assert item.limit is not None
        op = metrics.speakers.get(OPERATOR)
        if op is None or metrics.speaker_mode not in SEPARATED_MODES:
            res.detail = "not applicable: speakers are not separated (mono)"
        else:
            res.passed = bool(op.talk_share <= item.limit)
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
