"""Which voice of a diarized mono call is the operator: decided from evidence, with a confidence.

Evidence, each with a weight (a voice's score is the sum of its evidence):

* **the organisation's QA form**: a phrase of one of its operator items (greeting,
  self-introduction, identity check, closing...) said by a voice inside the item's time
  window, counted once per item: `phrase_weight` for greeting and identity-check items,
  `other_phrase_weight` for the rest; a phrase of a customer item counts for the customer;
* **the company name** (the organisation's name) said in the first `opening_turns`
  turns: operators name the company when they answer;
* **who speaks first** (`first_speaker_weight`): the operator answers an inbound call;
* **talk share** (up to `talk_share_weight`, in proportion to the voice's share above
  half): operators usually talk more.

With two voices the operator is the voice with the higher score and the confidence is
`1 / (1 + exp(-score margin))`: first speaker alone gives ~0.73, a greeting from the
form ~0.95, contradicting evidence pulls it towards 0.5. With three or four voices the
operator is the highest-scoring one and every other voice is a customer. A confidence
under `min_confidence` puts a warning on the call: a supervisor should check, and can
swap the roles.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from callsight.qa_form import REQUIRED_PHRASE, ScorecardForm, default_form
from callsight_worker.analysis._text import time_at_offset
from callsight_worker.analysis.scorecard import DEFAULT_THRESHOLD, phrase_similarity
from callsight_worker.transcript import BACKCHANNEL, CUSTOMER, OPERATOR, Turn


@dataclass(frozen=True)
class RolesConfig:
    phrase_weight: float = 2.0  # a greeting or identity-check phrase of the form
    other_phrase_weight: float = 1.0  # any other operator phrase of the form (closing, cushion words, ...)
    company_weight: float = 1.5
    first_speaker_weight: float = 1.0
    talk_share_weight: float = 1.0  # at a 100% share; proportional above 50%
    opening_turns: int = 6  # the company name counts in these first turns
    min_confidence: float = 0.7

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Evidence:
    kind: str  # "phrase" | "company_name" | "first_speaker" | "talk_share"
    voice: str
    weight: float  # for the operator (negative: for the customer)
    detail: str  # what was heard, for people
    start: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"kind": self.kind, "voice": self.voice, "weight": round(self.weight, 3),
                             "detail": self.detail}
        if self.start is not None:
            d["start"] = round(self.start, 3)
        return d


@dataclass
class RoleDecision:
    roles: dict[str, str]  # voice -> "operator" | "customer"
    confidence: float
    evidence: list[Evidence] = field(default_factory=list)
    scores: dict[str, float] = field(default_factory=dict)

    @property
    def operator_voice(self) -> str:
        return next(v for v, r in self.roles.items() if r == OPERATOR)

    @property
    def sure(self) -> bool:
        return self.confidence >= RolesConfig().min_confidence

    def to_dict(self) -> dict[str, Any]:
        return {"roles": dict(self.roles), "operator_voice": self.operator_voice,
                "confidence": round(self.confidence, 3), "scores": {v: round(s, 3) for v, s in self.scores.items()},
                "evidence": [e.to_dict() for e in self.evidence]}


def _phrase_evidence(turns: list[Turn], form: ScorecardForm, language: str, duration: float,
                     cfg: RolesConfig) -> list[Evidence]:
    out: list[Evidence] = []
    for item in form.items:
        if item.kind != REQUIRED_PHRASE or item.speaker not in (OPERATOR, CUSTOMER):
            continue
        threshold = item.threshold if item.threshold is not None else DEFAULT_THRESHOLD[item.kind]
        weight = cfg.phrase_weight if item.stage in ("greeting", "identity_check") else cfg.other_phrase_weight
        sign = 1.0 if item.speaker == OPERATOR else -1.0
        heard: set[str] = set()
        for turn in turns:
            if turn.speaker in heard or not turn.text.strip():
                continue
            for phrase in item.phrases:
                score, a, b = phrase_similarity(phrase, turn.text, language)
                if score < threshold:
                    continue
                at = time_at_offset(turn, a)
                if item.within_first_s is not None and at > item.within_first_s:
                    continue
                if item.within_last_s is not None and at < duration - item.within_last_s:
                    continue
                heard.add(turn.speaker)
                out.append(Evidence("phrase", turn.speaker, sign * weight,
                                    f"{item.label or item.id}: \u201c{turn.text[a:b]}\u201d", at))
                break
    return out


def _company_evidence(turns: list[Turn], company_names: tuple[str, ...], language: str,
                      cfg: RolesConfig) -> list[Evidence]:
    out: list[Evidence] = []
    opening = [t for t in turns if t.kind != BACKCHANNEL][:cfg.opening_turns]
    for name in (n for n in company_names if n.strip()):
        for turn in opening:
            score, a, b = phrase_similarity(name, turn.text, language)
            if score >= DEFAULT_THRESHOLD[REQUIRED_PHRASE]:
                out.append(Evidence("company_name", turn.speaker, cfg.company_weight,
                                    f"company name: \u201c{turn.text[a:b]}\u201d", time_at_offset(turn, a)))
                break
    return out


def decide_roles(turns: list[Turn], voices: list[str], language: str, duration: float,
                 form: ScorecardForm | dict[str, Any] | None = None, company_names: tuple[str, ...] = (),
                 cfg: RolesConfig | None = None) -> RoleDecision:
    """Operator and customer(s) among `voices`, from the turns of each voice (speaker = voice)."""
    cfg = cfg or RolesConfig()
    if isinstance(form, dict):
        form = ScorecardForm.from_dict(form)
    form = form or default_form(language)
    evidence = _phrase_evidence(turns, form, language, duration, cfg)
    evidence += _company_evidence(turns, company_names, language, cfg)
    main = [t for t in turns if t.kind != BACKCHANNEL and t.speaker in voices]
    if main:
        first = min(main, key=lambda t: t.start)
        evidence.append(Evidence("first_speaker", first.speaker, cfg.first_speaker_weight,
                                 "spoke first", first.start))
    talk = {v: sum(t.end - t.start for t in turns if t.speaker == v) for v in voices}
    total = sum(talk.values())
    if total > 0:
        for v in voices:
            share = talk[v] / total
            if share > 0.5:
                evidence.append(Evidence("talk_share", v, cfg.talk_share_weight * (share - 0.5) * 2,
                                         f"talked {share:.0%} of the time"))
    scores = {v: sum(e.weight for e in evidence if e.voice == v) for v in voices}
    ranked = sorted(voices, key=lambda v: (-scores[v], voices.index(v)))
    operator = ranked[0]
    runner_up = scores[ranked[1]] if len(ranked) > 1 else 0.0
    confidence = 1.0 / (1.0 + math.exp(-(scores[operator] - runner_up)))
    roles = {v: OPERATOR if v == operator else CUSTOMER for v in voices}
    return RoleDecision(roles, round(confidence, 3), evidence, scores)
