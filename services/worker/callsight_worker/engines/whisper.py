"""The default offline engine: faster-whisper with Whisper base, int8 on CPU.

It decodes only what the pipeline says is each channel's own speech
(`TranscribeOptions.speech_regions`), so the other side's echo and the silences are never
decoded at all. The regions of each channel are packed into as few windows of at most 30 s as
they fill (`whisper_windows`); the windows of *all* channels are decoded together by faster-whisper's
`BatchedInferencePipeline`, `batch_size` windows at a time, where decoding channel after
channel with Whisper's sequential 30 s windows left most of the time to single-threaded parts.
The windows are shared out over `lanes`: model replicas (CTranslate2's `inter_threads`) that
decode side by side, each on its share of the cores. One lane on two threads kept 1.55 of
two cores busy (beam search steps on a small batch do not split well over threads); two
lanes of one thread took 25% less wall time and 10% less CPU for the same words
(bench/results.md, Ways). Each word goes back to the channel and the moment its region came from.

Without regions (a caller that knows nothing about the audio) the bundled Silero VAD is used
on the sequential path. A window that collapsed into a repetition loop is decoded again
region by region with temperature fallback, when the loop is long enough to have swallowed
speech (a word or phrase said three or four times is as often what the person said);
whatever loop remains is removed by the timeline's guards.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import BatchedInferencePipeline, WhisperModel
from faster_whisper.transcribe import restore_speech_timestamps
from faster_whisper.vad import collect_chunks

from callsight_worker import heap
from callsight_worker.engines.base import SAMPLE_RATE, Audio, ChannelTranscript, Segment, TranscribeOptions, Word
from callsight_worker.engines.whisper_windows import Window, pack, speech_pieces
from callsight_worker.model import MODEL_NAME, ensure_model
from callsight_worker.samples import rms
from callsight_worker.timeline.config import TimelineConfig
from callsight_worker.timeline.guards import loop_spans, normalise

log = logging.getLogger(__name__)

SILENCE_RMS = 1e-4  # about -80 dBFS: nothing audible on this channel
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0
# Whisper's prompt holds at most 223 tokens; hotwords past ~120 tokens crowd out the context
MAX_HOTWORD_CHARS = 400
LANGUAGE_CODES = {"ja": "ja-JP", "en": "en-US"}
# windows decoded together, over all lanes: the encoder's attention holds ~70 MB per 30 s
# window, so 8 cost ~900 MB at once and 4 ~500 MB, at the same speed (bench/results.md, Ways)
BATCH_SIZE = 4
MAX_LANES = 2  # model replicas decoding side by side; each holds a share of BATCH_SIZE
ROUND_BATCHES = 8  # batches of windows a lane hands to faster-whisper at once (see _decode_lane)
# a loop whose repeated copies hold fewer words is left to the guards, not decoded again: short
# repetitions are often said ("no, no, no, no") and a new decode costs a whole 30 s window per region
REDECODE_LOOP_WORDS = 6


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

    def __init__(self, model_dir: Path, threads: int = 1, beam_size: int = 5, batch_size: int = BATCH_SIZE,
                 lanes: int | None = None) -> None:
        ensure_model(model_dir)
        self.lanes = max(1, min(threads, MAX_LANES) if lanes is None else lanes)
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8",
                                  cpu_threads=max(1, threads // self.lanes), num_workers=self.lanes)
        self.batched = [BatchedInferencePipeline(self.model) for _ in range(self.lanes)]
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
        batch: list[tuple[int, Audio, list[tuple[int, int]]]] = []
        for i, (audio, options) in enumerate(channels):
            if audio.size == 0 or rms(audio) < SILENCE_RMS:
                continue
            if options.speech_regions is None:  # nothing known about the audio: Silero VAD, sequentially
                with self._lock:
                    results[i].segments.extend(self._decode(audio, language, options, None))
                continue
            regions = [(int(a * SAMPLE_RATE), min(audio.size, int(b * SAMPLE_RATE))) for a, b in options.speech_regions]
            regions = [(a, b) for a, b in regions if b > a]
            if regions:  # no regions: the pipeline found no speech of this side
                batch.append((i, audio, regions))
        if batch:
            with self._lock:
                decoded = self._decode_batched(pack(speech_pieces(batch)), language,
                                               hotwords(channels[batch[0][0]][1], language), on_progress)
                for i, audio, _ in batch:
                    options = channels[i][1]
                    segments = self._redecode_loops(audio, language, options, decoded.get(i, []), options.speech_regions)
                    results[i].segments.extend(segments)
        return results

    def _decode_batched(self, windows: list[Window], language: str, prompt: str | None,
                        on_progress: Callable[[float], None] | None) -> dict[int, list[Segment]]:
        """The windows decoded in batches, shared out over the lanes (every `lanes`-th window to
        each, so the lanes get alike shares of the call); each channel's segments, one per region
        it spoke in."""
        progress = _Progress(sum(w.size for w in windows), on_progress)
        shares = [windows[k:: self.lanes] for k in range(self.lanes)]
        shares = [share for share in shares if share]
        if len(shares) <= 1:
            decoded = [self._decode_lane(self.batched[0], windows, language, prompt, progress)]
        else:
            with ThreadPoolExecutor(max_workers=len(shares), thread_name_prefix="whisper-lane") as pool:
                decoded = list(pool.map(lambda k: self._decode_lane(self.batched[k], shares[k], language, prompt,
                                                                    progress), range(len(shares))))
        out: dict[int, list[Segment]] = {}
        for lane in decoded:
            for channel, segments in lane.items():
                out.setdefault(channel, []).extend(segments)
        return {channel: sorted(segments, key=lambda s: s.start) for channel, segments in out.items()}

    def _decode_lane(self, batched: BatchedInferencePipeline, windows: list[Window], language: str,
                     prompt: str | None, progress: _Progress) -> dict[int, list[Segment]]:
        """One lane's windows, `ROUND_BATCHES` batches at a time, each round read from the channels
        as it comes: the audio and the features held at once are the lanes' rounds (at most 16 min
        of speech at batch 4 over all lanes), however long the call is, and the heap the round's
        batches used is handed back after it (`heap.trim`)."""
        out: dict[int, list[Segment]] = {}
        lane_batch = max(1, -(-self.batch_size // self.lanes))
        per_round = lane_batch * ROUND_BATCHES
        for first in range(0, len(windows), per_round):
            group = windows[first: first + per_round]
            offsets = np.cumsum([0] + [w.size for w in group])
            audio = np.concatenate([w.read() for w in group])
            raw, _ = batched.transcribe(
                audio, language=language.split("-")[0], task="transcribe", beam_size=self.beam_size,
                word_timestamps=self.word_timestamps, without_timestamps=True, batch_size=lane_batch,
                clip_timestamps=[{"start": int(offsets[k]) / SAMPLE_RATE, "end": int(offsets[k + 1]) / SAMPLE_RATE}
                                 for k in range(len(group))],
                hotwords=prompt, log_prob_threshold=LOW_LOGPROB, no_speech_threshold=NO_SPEECH_PROB, temperature=0.0,
            )
            reported = 0
            for seg in raw:
                end = int(seg.end * SAMPLE_RATE)
                progress.add(max(0, end - reported))
                reported = max(reported, end)
                if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
                    continue
                # the window a segment came from (its `seek`, in frames); its own start can round
                # to just before the window
                at = int(seg.seek / self.model.frames_per_second * SAMPLE_RATE) + SAMPLE_RATE // 50
                k = min(len(group) - 1, max(0, int(np.searchsorted(offsets, at, side="right")) - 1))
                for channel, placed in _placed(seg, group[k], int(offsets[k]) / SAMPLE_RATE):
                    out.setdefault(channel, []).append(placed)
            progress.add(max(0, audio.size - reported))
            del audio, raw
            heap.trim()
        return out

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
            if sum(b - a for a, b in loop_spans([normalise(w.text) for w in seg.words], cfg)) < REDECODE_LOOP_WORDS:
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
        """Whisper's probability of each supported language for up to 30 s of speech.

        Safe to call from several threads at once: CTranslate2 hands each call to a free model
        replica (one per lane), so the two sides of a call are heard side by side."""
        _lang, _p, probs = self.model.detect_language(audio=audio[: 30 * SAMPLE_RATE])
        return {LANGUAGE_CODES[code]: float(p) for code, p in probs if code in LANGUAGE_CODES}


class _Progress:
    """How much of the windows' audio the lanes have decoded together, told to `on_progress`."""

    def __init__(self, total: int, on_progress: Callable[[float], None] | None) -> None:
        self.total, self.on_progress = total, on_progress
        self.done = 0
        self._lock = threading.Lock()

    def add(self, samples: int) -> None:
        if self.on_progress is None or not self.total:
            return
        with self._lock:  # told in order: the lanes' shares never step back
            self.done += samples
            self.on_progress(min(1.0, self.done / self.total))


def _placed(seg: Any, window: Window, window_start_s: float) -> list[tuple[int, Segment]]:
    """A decoded segment of `window` (its times from the start of its batch) as one segment
    per piece its words fall in: `(channel, segment on that channel's timeline)`. A word goes
    by its middle; without word times the text goes to the piece the segment's middle is in."""
    doubts: dict[str, Any] = dict(avg_logprob=float(seg.avg_logprob), no_speech_prob=float(seg.no_speech_prob),
                                  compression_ratio=float(seg.compression_ratio))
    start_s, end_s = seg.start - window_start_s, seg.end - window_start_s
    words = [w for w in (seg.words or []) if w.word.strip()]
    if not words:
        text = seg.text.strip()
        if not text:
            return []
        k = window.piece_at((start_s + end_s) / 2)
        return [(window.pieces[k].channel, Segment(start=window.moment(k, start_s), end=window.moment(k, end_s),
                                                   text=text, **doubts))]
    groups: dict[int, list[Word]] = {}
    for w in words:
        a, b = w.start - window_start_s, w.end - window_start_s
        k = window.piece_at((a + b) / 2)
        groups.setdefault(k, []).append(Word(text=w.word.strip(), start=window.moment(k, a), end=window.moment(k, b),
                                             confidence=float(w.probability)))
    out = []
    for k, placed in sorted(groups.items()):
        joiner = "" if all(not w.text.isascii() for w in placed) else " "
        out.append((window.pieces[k].channel, Segment(start=placed[0].start, end=placed[-1].end,
                                                      text=joiner.join(w.text for w in placed), words=tuple(placed),
                                                      **doubts)))
    return out
