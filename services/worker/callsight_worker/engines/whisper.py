"""The default offline engine: faster-whisper with Whisper base, int8 on CPU.

Guards against Whisper's habit of inventing words on silence and noise: the bundled
Silero VAD cuts non-speech first, near-silent channels are skipped outright, and
segments the model itself thinks are not speech are dropped.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
from faster_whisper import WhisperModel

from callsight_worker.engines.base import Audio, ChannelTranscript, Segment, TranscribeOptions, Word
from callsight_worker.model import MODEL_NAME, ensure_model

SILENCE_RMS = 1e-4  # about -80 dBFS: nothing audible on this channel
NO_SPEECH_PROB = 0.6
LOW_LOGPROB = -1.0


class WhisperTranscriber:
    name = "whisper"

    def __init__(self, model_dir: Path, threads: int = 1, beam_size: int = 5) -> None:
        ensure_model(model_dir)
        self.model = WhisperModel(str(model_dir), device="cpu", compute_type="int8", cpu_threads=threads, num_workers=1)
        self.beam_size = beam_size
        self._lock = threading.Lock()

    def transcribe(self, audio: Audio, language: str, options: TranscribeOptions = TranscribeOptions()) -> ChannelTranscript:
        result = ChannelTranscript(language=language, engine=self.name, model=MODEL_NAME)
        if audio.size == 0 or float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < SILENCE_RMS:
            return result
        with self._lock:
            segments, _info = self.model.transcribe(
                audio,
                language=language.split("-")[0],
                task="transcribe",
                beam_size=self.beam_size,
                vad_filter=True,
                vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 200},
                word_timestamps=True,
                condition_on_previous_text=False,
                no_speech_threshold=NO_SPEECH_PROB,
                log_prob_threshold=LOW_LOGPROB,
                compression_ratio_threshold=2.4,
                # each fallback decodes the window again: cap the worst case at 3 passes
                temperature=(0.0, 0.2, 0.4),
            )
            for seg in segments:
                if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < LOW_LOGPROB:
                    continue
                text = seg.text.strip()
                if not text:
                    continue
                words = tuple(
                    Word(text=w.word.strip(), start=float(w.start), end=float(w.end), confidence=float(w.probability))
                    for w in (seg.words or [])
                    if w.word.strip()
                )
                result.segments.append(Segment(start=float(seg.start), end=float(seg.end), text=text, words=words))
        return result
