"""The one interface every transcription engine implements.

An engine hears one channel at a time: mono float32 samples at 16 kHz, the language
it is told, and `TranscribeOptions` (the organisation's vocabulary, the recording's own
sample rate, the speech regions the pipeline found). It returns timed words; how they
are grouped into segments is the engine's business. Utterances, turns, echo suppression
and hallucination guards are built outside, from the words, the same way for every engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000
LANGUAGES = ("ja-JP", "en-US")


@dataclass(frozen=True)
class Word:
    text: str
    start: float  # seconds from the start of the recording
    end: float
    confidence: float  # 0..1


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    words: tuple[Word, ...] = ()
    # the decoder's own doubts, when the engine reports them (Whisper does; None = unknown)
    avg_logprob: float | None = None
    no_speech_prob: float | None = None
    compression_ratio: float | None = None


@dataclass(frozen=True)
class ChannelTranscript:
    """What an engine heard on one channel."""

    language: str
    engine: str
    model: str
    segments: list[Segment] = field(default_factory=list)

    @property
    def text(self) -> str:
        joiner = "" if self.language.startswith("ja") else " "
        return joiner.join(s.text for s in self.segments).strip()


@dataclass(frozen=True)
class VocabularyTerm:
    """A product name or term of the organisation the engine should prefer.

    `text` is how it is written in transcripts ("Callsight", "光回線プラス");
    `reading` is how it is said, for engines that need it (AmiVoice: kana for Japanese).
    """

    text: str
    reading: str = ""


class EngineJobStore(Protocol):
    """Where a cloud engine keeps the id of a job it started for this call.

    A remote job outlives the worker that started it: a restarted or redelivered job
    finds the id here and resumes polling instead of submitting (and paying for) the
    audio again. `key` is chosen by the engine (it names the request: engine,
    parameters, audio); the store keeps it with the call.
    """

    def load(self, key: str) -> str | None: ...

    def save(self, key: str, job_id: str) -> None: ...

    def forget(self, key: str) -> None: ...


@dataclass(frozen=True)
class TranscribeOptions:
    """What the pipeline knows about a channel beyond its samples."""

    vocabulary: tuple[VocabularyTerm, ...] = ()
    # the recording's own sample rate: 8000 means telephone band (G.711 etc.)
    source_sample_rate: int = SAMPLE_RATE
    # the channel's own speech (seconds), after echo suppression; None = not known
    speech_regions: tuple[tuple[float, float], ...] | None = None
    # remote jobs of this call (cloud engines); None = nothing to resume, keep nothing
    job_store: EngineJobStore | None = None
    # the organisation's settings for the engine in use (e.g. AmiVoice engine names and
    # logging); each engine validates its own, an empty mapping means its defaults
    engine_settings: Mapping[str, Any] = field(default_factory=dict)
    # told the fraction (0..1) of this channel's audio heard so far, as the engine goes;
    # an engine that cannot tell never calls it (the pipeline then moves per channel)
    on_progress: Callable[[float], None] | None = None


class TranscriptionError(Exception):
    """Base class; `permanent` tells the worker whether retrying can help."""

    permanent = False


class PermanentTranscriptionError(TranscriptionError):
    """Retrying cannot help (bad credentials, audio the engine rejects)."""

    permanent = True


class TransientTranscriptionError(TranscriptionError):
    """Retrying later may help (timeouts, 5xx, rate limits)."""

    permanent = False


Audio = npt.NDArray[np.float32]


@runtime_checkable
class MultiChannelTranscriber(Protocol):
    """An engine that does better with all channels of a call at once (Whisper batches them)."""

    def transcribe_channels(self, channels: list[tuple[Audio, TranscribeOptions]], language: str,
                            on_progress: Callable[[float], None] | None = None) -> list[ChannelTranscript]:
        """One result per channel, in order; `on_progress` is told the fraction decoded of all of them."""
        ...


class Transcriber(Protocol):
    """A speech-to-text engine for one channel of 16 kHz mono audio."""

    name: str

    def transcribe(self, audio: Audio, language: str, options: TranscribeOptions = TranscribeOptions()) -> ChannelTranscript:
        """Transcribe `audio` (float32 in [-1, 1], 16 kHz mono) spoken in `language`."""
        ...
