"""What the documented AmiVoice engines accept (docs.amivoice.com, "音声認識エンジン").

Two things differ per engine and change what we send: whether it has an 8 kHz model
(telephone audio can then go as 8 kHz G.711 instead of 4x the bytes of upsampled PCM)
and whether it takes registered words (English engines do not). Engines not listed
are assumed 16 kHz-only and to take words; an operator lists further 8 kHz engines in
CALLSIGHT_AMIVOICE_8K_ENGINES.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EngineInfo:
    takes_8k: bool
    takes_words: bool


DOCUMENTED: dict[str, EngineInfo] = {
    # hybrid engines
    "-a-general": EngineInfo(takes_8k=True, takes_words=True),
    "-a-general-en": EngineInfo(takes_8k=False, takes_words=False),
    # End-to-End engines (8k / 16k), and their batch variants for the asynchronous interface
    "-a2-ja-general": EngineInfo(takes_8k=True, takes_words=True),
    "-a2-multi-general": EngineInfo(takes_8k=True, takes_words=True),
    "-a2-zh-general": EngineInfo(takes_8k=True, takes_words=True),
    "-a2b-ja-general": EngineInfo(takes_8k=True, takes_words=True),
    "-a2b-multi-general": EngineInfo(takes_8k=True, takes_words=True),
    "-a2b-zh-general": EngineInfo(takes_8k=True, takes_words=True),
}
UNKNOWN = EngineInfo(takes_8k=False, takes_words=True)


def engine_info(name: str, extra_8k: frozenset[str] = frozenset()) -> EngineInfo:
    info = DOCUMENTED.get(name, UNKNOWN)
    if name in extra_8k:
        return EngineInfo(takes_8k=True, takes_words=info.takes_words)
    return info
