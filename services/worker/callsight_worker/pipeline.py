"""One recording in, one transcript out: decode, split channels, transcribe, merge.

No queue, database or S3 here, so it can be run and measured on its own.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from callsight.telemetry import tracer
from callsight_worker.decode import DecodedAudio, decode
from callsight_worker.engines.base import TranscribeOptions, Transcriber
from callsight_worker.transcript import CUSTOMER, MIXED, OPERATOR, Transcript, merge_channels

_tracer = tracer("callsight.worker")


@dataclass
class PipelineResult:
    audio: DecodedAudio
    transcript: Transcript
    timings: dict[str, float] = field(default_factory=dict)


def speakers_for(channel_count: int, operator_channel: str) -> list[str]:
    if channel_count == 1:
        return [MIXED]
    return [OPERATOR, CUSTOMER] if operator_channel == "left" else [CUSTOMER, OPERATOR]


def _same_signal(a: np.ndarray, b: np.ndarray) -> bool:
    n = min(a.size, b.size)
    if n == 0:
        return True
    diff = float(np.sqrt(np.mean(np.square(a[:n] - b[:n], dtype=np.float64))))
    level = float(np.sqrt(np.mean(np.square(a[:n], dtype=np.float64))))
    return diff <= max(1e-6, 0.01 * level)


def transcribe_file(
    path: Path, audio_format: str, language: str, engine: Transcriber, operator_channel: str = "left",
    max_duration_s: float = 4 * 3600, options: TranscribeOptions = TranscribeOptions(),
) -> PipelineResult:
    """`options` carries what the call brings to every channel (vocabulary, job store, engine settings)."""
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    with _tracer.start_as_current_span("decode"):
        audio = decode(path, audio_format, max_duration_s)
    timings["decode"] = time.perf_counter() - t0
    if len(audio.channels) == 2 and _same_signal(audio.channels[0], audio.channels[1]):
        # a mono recording saved as stereo: one voice track, not two speakers
        audio.channels = audio.channels[:1]
    speakers = speakers_for(len(audio.channels), operator_channel)
    results = []
    t1 = time.perf_counter()
    with _tracer.start_as_current_span("transcribe") as span:
        span.set_attribute("callsight.engine", engine.name)
        span.set_attribute("callsight.audio_seconds", audio.duration_s)
        channel_options = replace(options, source_sample_rate=audio.source_sample_rate)
        for speaker, samples in zip(speakers, audio.channels, strict=True):
            results.append((speaker, engine.transcribe(samples, language, channel_options)))
    timings["transcribe"] = time.perf_counter() - t1
    transcript = merge_channels(results, audio.duration_s)
    return PipelineResult(audio=audio, transcript=transcript, timings=timings)
