"""The default offline engine: faster-whisper with Whisper base, int8 on CPU.

It decodes only what the pipeline says is each channel's own speech
(`TranscribeOptions.speech_regions`), so the other side's echo and the silences are never
decoded at all. The regions of *all* channels of a call are cut out, packed into windows of
at most 30 s (cut at region boundaries, a longer region at its quietest moment) and decoded
together by faster-whisper's `BatchedInferencePipeline`, `batch_size` windows at a time:
one call keeps every core busy, where decoding channel after channel with Whisper's
sequential 30 s windows left most of the time to single-threaded parts (measured in
bench/results.md). Word times are mapped back to each channel's own timeline.

Without regions (a caller that knows nothing about the audio) the bundled Silero VAD is used
on the sequential path. A window that collapsed into a repetition loop is decoded again
region by region with temperature fallback; whatever loop remains is removed by the
timeline's guards.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import collect_chunks

from callsight_worker import heap
from callsight_worker.engines.base import SAMPLE_RATE, Audio, ChannelTranscript, Segment, TranscribeOptions, Word
from callsight_worker.model import MODEL_NAME, ensure_model
from callsight_worker.samples import release, rms
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.guards import loop_spans, normalise

log = logging.getLogger(__name__)

SILENCE_RMS = 1e-4  # about -80 dBFS: nothing audible on this channel
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
# Whisper's prompt holds at most 223 tokens; hotwords past ~120 tokens crowd out the context
MAX_HOTWORD_CHARS = 400
LANGUAGE_CODES = {"ja": "ja-JP", "en": "en-US"}
WINDOW = 30 * SAMPLE_RATE  # Whisper's input
MIN_CUT = 20 * SAMPLE_RATE  # a region longer than a window is cut at its quietest 100 ms after 20 s
# windows decoded together: the encoder's attention holds ~70 MB per 30 s window, so 8 cost
# ~900 MB at once and 4 ~500 MB, at the same speed (bench/results.md, Ways)
BATCH_SIZE = 4
ROUND_BATCHES = 8  # batches of windows handed to faster-whisper at once (see _decode_batched)


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

    def __init__(self, model_dir: Path, threads: int = 1, beam_size: int = 5, batch_size: int = BATCH_SIZE) -> None:
        ensure_model(model_dir)
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
        self.batched = BatchedInferencePipeline(self.model)
        self.beam_size = beam_size
        self.batch_size = batch_size
        self.word_timestamps = True  # the timeline needs them; bench/speed.py measures their cost
        self._lock = threading.Lock()

    # ---- transcription ---------------------------------------------------------------

    def transcribe(self, audio: Audio, language: str, options: TranscribeOptions = TranscribeOptions()) -> ChannelTranscript:
        return self.transcribe_channels([(audio, options)], language, options.on_progress)[0]

    def transcribe_channels(self, channels: list[tuple[Audio, TranscribeOptions]], language: str,
                            on_progress: Callable[[float], None] | None = None) -> list[ChannelTranscript]:
        results = [ChannelTranscript(language=language, engine=self.name, model=MODEL_NAME) for _ in channels]
        batch: list[_Channel] = []
        for i, (audio, options) in enumerate(channels):
            if audio.size == 0 or rms(audio) < SILENCE_RMS:
                continue
            if options.speech_regions is None:  # nothing known about the audio: Silero VAD, sequentially
                with self._lock:
                    results[i].segments.extend(self._decode(audio, language, options, None))
                continue
            chunks = [{"start": int(a * SAMPLE_RATE), "end": min(audio.size, int(b * SAMPLE_RATE))}
                      for a, b in options.speech_regions]
            chunks = [c for c in chunks if c["end"] > c["start"]]
            if chunks:  # no regions: the pipeline found no speech of this side
                batch.append(_Channel(i, audio, options, chunks))
        if batch:
            with self._lock:
                decoded = self._decode_batched(batch, language, on_progress)
                for channel in batch:
                    segments = self._redecode_loops(channel.audio, language, channel.options, decoded[channel.index],
                                                    channel.options.speech_regions)
                    results[channel.index].segments.extend(segments)
        return results

    def _decode_batched(self, channels: list[_Channel], language: str,
                        on_progress: Callable[[float], None] | None) -> dict[int, list[Segment]]:
        """Every channel's regions, joined per channel, packed in windows, decoded in batches.

        The windows go to faster-whisper `ROUND_BATCHES` batches at a time, each round
        cut from the channels as it comes: the audio and the features held at once are a
        round's (at most 16 min of speech at batch 4), however long the call is, and the
        heap the round's batches used is handed back after it (`heap.trim`).
        """
        plan: list[tuple[_Channel, int, int]] = []  # (channel, start, stop) in its joined speech
        for channel in channels:
            plan += [(channel, a, b) for a, b in _windows(channel.joined)]
        total = sum(b - a for _, a, b in plan)
        by_channel: dict[int, list[Any]] = {c.index: [] for c in channels}
        per_round = self.batch_size * ROUND_BATCHES
        done = 0
        for first in range(0, len(plan), per_round):
            group = plan[first: first + per_round]
            offsets = np.cumsum([0] + [b - a for _, a, b in group])
            audio = np.concatenate([c.joined.read(a, b) for c, a, b in group])
            raw, _ = self.batched.transcribe(
                audio, language=language.split("-")[0], task="transcribe", beam_size=self.beam_size,
                word_timestamps=self.word_timestamps, without_timestamps=True, batch_size=self.batch_size,
                clip_timestamps=[{"start": int(offsets[k]) / SAMPLE_RATE, "end": int(offsets[k + 1]) / SAMPLE_RATE}
                                 for k in range(len(group))],
                hotwords=hotwords(channels[0].options, language), log_prob_threshold=LOW_LOGPROB,
                no_speech_threshold=NO_SPEECH_PROB, temperature=0.0,
            )
            for seg in raw:
                if on_progress is not None and total:
                    on_progress(min(1.0, (done + seg.end * SAMPLE_RATE) / total))
                # the window a segment came from (its `seek`, in frames) tells the channel; its own
                # start can round to just before the window
                at = int(seg.seek / self.model.frames_per_second * SAMPLE_RATE) + SAMPLE_RATE // 50
                k = min(len(group) - 1, max(0, int(np.searchsorted(offsets, at, side="right")) - 1))
                channel, start, _ = group[k]
                by_channel[channel.index].append(_shifted(seg, (int(offsets[k]) - start) / SAMPLE_RATE))
            done += audio.size
            del audio, raw
            heap.trim()
        return {c.index: _per_region(self._segments(restore_speech_timestamps(by_channel[c.index], c.chunks,
                                                                                SAMPLE_RATE)), c.options.speech_regions or ())
                for c in channels}

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
            log.info("repetition loop in %.1f-%.1f s (%s...): decoding its speech again", seg.start, seg.end, seg.text[:60])
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


class _Channel:
    """One channel in a batched decode: its speech regions, end to end."""

    def __init__(self, index: int, audio: Audio, options: TranscribeOptions, chunks: list[dict[str, int]]) -> None:
        self.index, self.audio, self.options, self.chunks = index, audio, options, chunks
        self.joined = JoinedSpeech(audio, chunks)


class JoinedSpeech:
    """A channel's speech regions end to end, read a window at a time: never copied whole."""

    def __init__(self, audio: Audio, chunks: list[dict[str, int]]) -> None:
        self.audio, self.chunks = audio, chunks
        self.bounds = np.cumsum([0] + [c["end"] - c["start"] for c in chunks])  # joined position of each region
        self.size = int(self.bounds[-1])

    def read(self, start: int, stop: int) -> Audio:
        """Samples [start, stop) of the joined speech, as float32."""
        parts: list[Audio] = []
        k = max(0, int(np.searchsorted(self.bounds, start, side="right")) - 1)
        while start < stop and k < len(self.chunks):
            at = self.chunks[k]["start"] + start - int(self.bounds[k])
            take = min(stop, int(self.bounds[k + 1])) - start
            parts.append(np.array(self.audio[at: at + take], dtype=np.float32))
            release(self.audio, at, at + take)
            start += take
            k += 1
        return np.concatenate(parts) if parts else np.zeros(0, np.float32)


def _windows(joined: JoinedSpeech) -> list[tuple[int, int]]:
    """Windows of at most 30 s over a channel's joined speech: cut between regions when one ends
    near the limit, and a region that does not fit at its quietest 100 ms after 20 s."""
    out: list[tuple[int, int]] = []
    start = 0
    while joined.size - start > WINDOW:
        inside = [int(b) for b in joined.bounds if start + MIN_CUT <= b <= start + WINDOW]
        if inside:
            cut = inside[-1]
        else:
            hop = SAMPLE_RATE // 10
            frames = joined.read(start + MIN_CUT, start + WINDOW).reshape(-1, hop)
            cut = start + MIN_CUT + int(np.argmin(np.mean(frames**2, axis=1))) * hop + hop // 2
        out.append((start, cut))
        start = cut
    if joined.size > start:
        out.append((start, joined.size))
    return out


def _shifted(seg: Any, by_s: float) -> Any:
    """A batched segment's times moved from the whole batch to its channel's joined speech."""
    seg.start, seg.end = seg.start - by_s, seg.end - by_s
    for w in seg.words or []:
        w.start, w.end = w.start - by_s, w.end - by_s
    return seg


def _per_region(segments: list[Segment], regions: tuple[tuple[float, float], ...]) -> list[Segment]:
    """A batched window holds many utterances in one segment: split its words by speech region,
    so a loop found later is decoded again region by region, not the whole window."""
    if not regions:
        return segments
    starts = [a for a, _ in regions]
    out: list[Segment] = []
    for seg in segments:
        groups: dict[int, list[Word]] = {}
        for w in seg.words:
            k = max(0, int(np.searchsorted(starts, (w.start + w.end) / 2, side="right")) - 1)
            groups.setdefault(k, []).append(w)
        for words in (groups[k] for k in sorted(groups)):
            joiner = "" if all(not w.text.isascii() for w in words) else " "
            out.append(Segment(start=words[0].start, end=words[-1].end, text=joiner.join(w.text for w in words),
                               words=tuple(words), avg_logprob=seg.avg_logprob, no_speech_prob=seg.no_speech_prob,
                               compression_ratio=seg.compression_ratio))
    return out
