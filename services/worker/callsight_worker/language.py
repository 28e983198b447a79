"""Which language a call is transcribed in: the one asked for, or the one its audio is in.

* No language on the upload: detect it among the supported ones from up to 30 s of each
  side's own speech; use it when the detector is sure (`min_confidence` of the supported
  languages' probability and `min_support` of all of it), else the organisation's default.
* A language on the upload: keep it, but when the audio confidently sounds like another
  supported language (`mismatch_confidence`), say so in a warning on the call: the
  transcript of a call decoded in the wrong language is not to be trusted.

The detector is Whisper's language identification (any engine's calls use it when the
worker has the Whisper model); without one the requested or default language is used.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from callsight.db.calls_repo import LanguageDecision
from callsight_worker.engines.base import SAMPLE_RATE, Audio

SUPPORTED = ("ja-JP", "en-US")
NAMES = {"ja-JP": "Japanese", "en-US": "English"}


@runtime_checkable
class LanguageDetector(Protocol):
    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        """Probability of each supported language (codes of SUPPORTED) for this audio."""
        ...


@dataclass(frozen=True)
class LanguageConfig:
    min_speech_s: float = 2.0  # less own speech than this: no detection
    sample_s: float = 30.0  # speech per side given to the detector
    min_confidence: float = 0.8  # share of the winner among the supported languages
    min_support: float = 0.3  # share of all probability on the supported languages
    mismatch_confidence: float = 0.9


@dataclass(frozen=True)
class LanguageGuess:
    language: str
    confidence: float  # of `language` among the supported languages
    support: float  # probability mass on the supported languages at all
    speech_s: float


def speech_sample(audio: Audio, regions: list[tuple[float, float]], seconds: float) -> Audio:
    """Up to `seconds` of the channel's own speech, joined."""
    parts: list[Audio] = []
    total = 0
    limit = int(seconds * SAMPLE_RATE)
    for start, end in regions:
        a, b = int(start * SAMPLE_RATE), int(end * SAMPLE_RATE)
        piece = audio[a:min(b, a + limit - total)]
        parts.append(piece)
        total += piece.size
        if total >= limit:
            break
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)


def detect(detector: LanguageDetector, samples: list[Audio], cfg: LanguageConfig | None = None) -> LanguageGuess | None:
    """The supported language the speech samples (one per side) are in, weighted by their length."""
    cfg = cfg or LanguageConfig()
    weights: dict[str, float] = dict.fromkeys(SUPPORTED, 0.0)
    seconds = 0.0
    heard = [sample for sample in samples if sample.size >= SAMPLE_RATE]  # under a second tells nothing
    # the sides side by side: a detector with several model replicas (Whisper's lanes) hears them at once
    with ThreadPoolExecutor(max_workers=max(1, len(heard)), thread_name_prefix="language") as pool:
        found = list(pool.map(detector.language_probabilities, heard))
    for sample, probs in zip(heard, found, strict=True):
        length = sample.size / SAMPLE_RATE
        for code in SUPPORTED:
            weights[code] += probs.get(code, 0.0) * length
        seconds += length
    if seconds < cfg.min_speech_s:
        return None
    mass = sum(weights.values())
    best = max(SUPPORTED, key=lambda c: weights[c])
    return LanguageGuess(best, weights[best] / mass if mass > 0 else 0.0, mass / seconds, seconds)


def decide(requested: str | None, default: str, guess: LanguageGuess | None,
           cfg: LanguageConfig | None = None) -> tuple[LanguageDecision, list[dict[str, str]]]:
    """The language to transcribe in, and the warnings a supervisor should see."""
    cfg = cfg or LanguageConfig()
    detected = guess.language if guess else None
    confidence = round(guess.confidence, 3) if guess else None
    warnings: list[dict[str, str]] = []
    if requested:
        if guess and guess.language != requested and guess.confidence >= cfg.mismatch_confidence \
                and guess.support >= cfg.min_support:
            warnings.append({"code": "language_mismatch", "message": (
                f"The call was uploaded as {NAMES.get(requested, requested)} ({requested}) but sounds like "
                f"{NAMES.get(guess.language, guess.language)} ({guess.language}, confidence {guess.confidence:.0%}); "
                f"it was transcribed as {requested}, so the transcript and analysis may be wrong. "
                f"Upload it again with language={guess.language} if that is right.")})
        return LanguageDecision(requested, "request", detected, confidence), warnings
    if guess and guess.confidence >= cfg.min_confidence and guess.support >= cfg.min_support:
        return LanguageDecision(guess.language, "detected", detected, confidence), warnings
    if guess:
        warnings.append({"code": "language_uncertain", "message": (
            f"The language could not be told from the audio with confidence ({NAMES.get(guess.language)} at "
            f"{guess.confidence:.0%}); the organisation's default, {default}, was used.")})
    return LanguageDecision(default, "default", detected, confidence), warnings
