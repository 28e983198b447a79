"""The default offline engine: faster-whisper with Whisper base, int8 on CPU.

It decodes only what the pipeline says is the channel's own speech
(`TranscribeOptions.speech_regions`): the regions are cut out, joined, decoded as one
stream and the word times mapped back, the way faster-whisper's own VAD filter does it,
but with the pipeline's regions, so the other side's echo is never decoded at all. Without
regions (a caller that knows nothing about the audio) the bundled Silero VAD is used.

A segment that collapsed into a repetition loop is decoded again region by region with
temperature fallback; whatever loop remains is removed by the timeline's guards.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import collect_chunks

from callsight_worker.engines.base import SAMPLE_RATE, Audio, ChannelTranscript, Segment, TranscribeOptions, Word
from callsight_worker.model import MODEL_NAME, ensure_model
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.guards import loop_spans, normalise

SILENCE_RMS = 1e-4  # about -80 dBFS: nothing audible on this channel
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
# Whisper's prompt holds at most 223 tokens; hotwords past ~120 tokens crowd out the context
MAX_HOTWORD_CHARS = 400
LANGUAGE_CODES = {"ja": "ja-JP", "en": "en-US"}


def hotwords(options: TranscribeOptions, language: str) -> str | None:
    """The organisation's terms as Whisper's hotword prompt, in the order the organisation lists them.

    Not for Japanese: there the prompt makes Whisper base truncate and garble sentences
    (bench/vocabulary.py); Japanese terms are matched by their reading after transcription
    (`callsight_worker.timeline.vocabulary_fix`).
    """
    if language.lower().startswith("ja"):
        return None
    terms: list[str] = []
    size = 0
    for term in options.vocabulary:
        text = term.text.strip()
        if not text or text in terms:
            continue
        if size + len(text) + 2 > MAX_HOTWORD_CHARS:
            break
        terms.append(text)
        size += len(text) + 2
    return ", ".join(terms) if terms else None


def _reporting(segments: Iterable[Any], decoded_s: float, on_progress: Callable[[float], None] | None) -> Iterator[Any]:
    """Passes Whisper's segments on as they are decoded, telling how far into the audio it is."""
    for seg in segments:
        if on_progress is not None and decoded_s > 0:
            on_progress(min(1.0, float(seg.end) / decoded_s))
        yield seg


class WhisperTranscriber:
    name = "whisper"

    def __init__(self, model_dir: Path, threads: int = 1, beam_size: int = 5) -> None:
        ensure_model(model_dir)
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
        self.beam_size = beam_size
        self._lock = threading.Lock()

    # ---- transcription ---------------------------------------------------------------

    def transcribe(self, audio: Audio, language: str, options: TranscribeOptions = TranscribeOptions()) -> ChannelTranscript:
        result = ChannelTranscript(language=language, engine=self.name, model=MODEL_NAME)
        if audio.size == 0 or float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < SILENCE_RMS:
            return result
        regions = options.speech_regions
        if regions is not None and not regions:
            return result  # the pipeline found no speech of this side
        with self._lock:
            segments = self._decode(audio, language, options, regions)
            segments = self._redecode_loops(audio, language, options, segments, regions)
        result.segments.extend(segments)
        return result

    def _decode(self, audio: Audio, language: str, options: TranscribeOptions,
                regions: tuple[tuple[float, float], ...] | None, temperature: Iterable[float] = (0.0, 0.2, 0.4)) -> list[Segment]:
        kwargs: dict[str, Any] = dict(
            language=language.split("-")[0], task="transcribe", beam_size=self.beam_size, word_timestamps=True,
            condition_on_previous_text=False, no_speech_threshold=NO_SPEECH_PROB, log_prob_threshold=LOW_LOGPROB,
            compression_ratio_threshold=2.4,
            # each fallback decodes the window again: cap the worst case at 3 passes
            temperature=tuple(temperature), hotwords=hotwords(options, language),
        )
        if regions is None:
            raw, _ = self.model.transcribe(audio, vad_filter=True,
                                           vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 200}, **kwargs)
            return self._segments(_reporting(raw, audio.size / SAMPLE_RATE, options.on_progress))
        chunks = [{"start": int(a * SAMPLE_RATE), "end": min(audio.size, int(b * SAMPLE_RATE))} for a, b in regions]
        chunks = [c for c in chunks if c["end"] > c["start"]]
        if not chunks:
            return []
        pieces, _ = collect_chunks(audio, chunks)
        joined = np.concatenate(pieces).astype(np.float32, copy=False)
        raw, _ = self.model.transcribe(joined, vad_filter=False, **kwargs)
        raw = _reporting(raw, joined.size / SAMPLE_RATE, options.on_progress)
        return self._segments(restore_speech_timestamps(raw, chunks, SAMPLE_RATE))

    @staticmethod
    def _segments(raw: Iterable[Any]) -> list[Segment]:
        out = []
        for seg in raw:
            if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
                continue
            text = seg.text.strip()
            if not text:
                continue
            words = tuple(
                Word(text=w.word.strip(), start=float(w.start), end=float(w.end), confidence=float(w.probability))
                for w in (seg.words or []) if w.word.strip()
            )
            out.append(Segment(start=float(seg.start), end=float(seg.end), text=text, words=words,
                               avg_logprob=float(seg.avg_logprob), no_speech_prob=float(seg.no_speech_prob),
                               compression_ratio=float(seg.compression_ratio)))
        return out

    def _redecode_loops(self, audio: Audio, language: str, options: TranscribeOptions, segments: list[Segment],
                        regions: tuple[tuple[float, float], ...] | None) -> list[Segment]:
        """Decode each region under a looping segment on its own, with sampling from the start."""
        if not regions:
            return segments
        cfg = TimelineConfig()
        out: list[Segment] = []
        for seg in segments:
            if not loop_spans([normalise(w.text) for w in seg.words], cfg):
                out.append(seg)
                continue
            under = tuple(r for r in regions if r[1] > seg.start and r[0] < seg.end)
            again: list[Segment] = []
            for region in under:
                again += self._decode(audio, language, options, (region,), temperature=(0.2, 0.4, 0.6))
            out += again if again else [seg]
        return out

    # ---- language ----------------------------------------------------------------------

    def language_probabilities(self, audio: Audio) -> dict[str, float]:
        """Whisper's probability of each supported language for up to 30 s of speech."""
        with self._lock:
            _lang, _p, probs = self.model.detect_language(audio=audio[: 30 * SAMPLE_RATE])
        return {LANGUAGE_CODES[code]: float(p) for code, p in probs if code in LANGUAGE_CODES}
