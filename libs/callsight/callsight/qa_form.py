"""QA evaluation forms: the JSON an organisation writes, its validation and the defaults.

Shared by the gateway (which validates a form when an organisation saves it) and the
worker (whose scorecard evaluates calls against it). Pure data, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from typing import Any

REQUIRED_PHRASE = "required_phrase"
FORBIDDEN_PHRASE = "forbidden_phrase"
MAX_SILENCE_S = "max_silence_s"
MAX_OPERATOR_TALK_SHARE = "max_operator_talk_share"
KINDS = (REQUIRED_PHRASE, FORBIDDEN_PHRASE, MAX_SILENCE_S, MAX_OPERATOR_TALK_SHARE)
STAGES = ("greeting", "identity_check", "closing", "other")
SPEAKERS = ("operator", "customer", "any")


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
    return ScorecardForm.from_dict(DEFAULT_FORM_JA if language.lower().startswith("ja") else DEFAULT_FORM_EN)
