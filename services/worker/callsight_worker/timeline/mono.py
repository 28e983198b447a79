"""A mono track's words become operator and customer utterances, or stay "mixed" when unsure.

    words of the track ─▶ voices (speech.diarization) ─▶ each word to its voice
        ─▶ utterances per voice (the shared utterance builder, on that voice's speech)
        ─▶ operator and customer (timeline.roles) ─▶ utterances named by role

The result says how the speakers were told apart (`speakers`), which is stored on the
call and in the transcript's meta, so a supervisor can see the evidence and swap the
roles (`timeline.role_swap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from callsight_worker.engines.base import Audio, Word
from callsight_worker.speech.channels import ChannelSpeech
from callsight_worker.speech.diarization import (
    VOICE_NAMES,
    DiarizationConfig,
    Encoder,
    diarize,
    voice_speech,
    word_voices,
)
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.roles import RoleDecision, RolesConfig, decide_roles
from callsight_worker.timeline.turns import assemble
from callsight_worker.timeline.utterances import build_utterances
from callsight_worker.transcript import CUSTOMER, MIXED, OPERATOR, Turn


@dataclass
class MonoSpeakers:
    utterances: list[Turn]
    speakers: dict[str, Any]  # how the speakers were told apart (stored on the call)
    warnings: list[dict[str, str]] = field(default_factory=list)


def not_separated(reason: str, method: str = "diarization") -> dict[str, Any]:
    return {"method": method, "separated": False, "reason": reason, "voices": [], "operator_voice": None,
            "confidence": None, "source": "detected", "evidence": []}


def separate(samples: Audio, speech: ChannelSpeech, words: list[Word], language: str, duration_s: float,
             encoder: Encoder | None, cfg: TimelineConfig, dcfg: DiarizationConfig,
             form: dict[str, Any] | None = None, company_names: tuple[str, ...] = (),
             rcfg: RolesConfig | None = None) -> MonoSpeakers:
    rcfg = rcfg or RolesConfig()
    if encoder is None:
        speakers = not_separated("speaker separation is off", method="none")
        return MonoSpeakers(build_utterances(MIXED, words, speech, language, cfg), speakers)
    found = diarize(samples, speech, encoder, dcfg)
    if not found.separated:
        speakers = not_separated(found.reason) | {"diarization": found.to_dict() | {"model": encoder.name}}
        warning = {"code": "speakers_not_separated", "message": (
            f"Operator and customer could not be told apart on this one-track recording ({found.reason}); "
            "the transcript keeps both voices as \u201cmixed\u201d.")}
        return MonoSpeakers(build_utterances(MIXED, words, speech, language, cfg), speakers, [warning])
    voices = [VOICE_NAMES[v] for v in range(found.voices)]
    of_word = word_voices(words, found)
    by_voice: list[Turn] = []
    for v, name in enumerate(voices):
        mine = [w for w, x in zip(words, of_word, strict=True) if x == v]
        by_voice += build_utterances(name, mine, voice_speech(speech, found, v), language, cfg)
    decision = decide_roles(assemble(by_voice, language, cfg), voices, language, duration_s, form,
                            company_names, rcfg)
    utterances = [replace(t, speaker=decision.roles[t.speaker], voice=t.speaker) for t in by_voice]
    speakers = described(decision, voices, utterances, source="detected")
    speakers["diarization"] = found.to_dict() | {"model": encoder.name, "config": dcfg.to_dict()}
    warnings = []
    if decision.confidence < rcfg.min_confidence:
        warnings.append({"code": "roles_uncertain", "message": (
            f"Which voice is the operator is uncertain (confidence {decision.confidence:.0%}); "
            "check the transcript and swap the roles if they are the wrong way round.")})
    return MonoSpeakers(utterances, speakers, warnings)


def described(decision: RoleDecision, voices: list[str], utterances: list[Turn], source: str) -> dict[str, Any]:
    talk = {role: round(sum(t.end - t.start for t in utterances if t.speaker == role), 2)
            for role in (OPERATOR, CUSTOMER)}
    return {
        "method": "diarization", "separated": True, "reason": None,
        "voices": [{"voice": v, "role": decision.roles[v]} for v in voices],
        "operator_voice": decision.operator_voice, "confidence": decision.confidence, "source": source,
        "evidence": [e.to_dict() for e in decision.evidence], "scores": decision.to_dict()["scores"],
        "talk_s": talk,
    }
