"""The channel's samples as a WAV file AmiVoice accepts (docs: "音声フォーマット").

AmiVoice takes 16-bit PCM at 8-48 kHz and G.711 (mu-law, A-law) at 8 kHz only, and
has 8 kHz engines "mainly for telephone audio". A telephone recording decoded to our
16 kHz floats carries nothing above 4 kHz, so it goes back down to 8 kHz G.711: the
engine made for it, a quarter of the bytes. Everything else goes as 16 kHz PCM WAV, or,
for long audio (the asynchronous interface), as FLAC: lossless, a headered format AmiVoice
takes, about half the bytes of PCM on speech (a 4 h channel: ~245 MB instead of 460 MB).
A header is always sent, so no `c` (codec) parameter is needed.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from typing import cast

import av
import numpy as np

from ..base import SAMPLE_RATE, Audio, PermanentTranscriptionError

TELEPHONE_RATE = 8000
G711 = {"mulaw": "pcm_mulaw", "alaw": "pcm_alaw"}


@dataclass(frozen=True)
class EncodedAudio:
    data: bytes
    sample_rate: int
    codec: str  # pcm_s16le, pcm_mulaw, pcm_alaw or flac
    duration_s: float

    @property
    def filename(self) -> str:
        return "audio.flac" if self.codec == "flac" else "audio.wav"

    @property
    def content_type(self) -> str:
        return "audio/flac" if self.codec == "flac" else "audio/wav"


def mono(audio: Audio) -> np.ndarray:
    samples = np.asarray(audio, dtype=np.float32)
    if samples.ndim == 2 and 1 in samples.shape:
        samples = samples.reshape(-1)
    if samples.ndim != 1:
        raise PermanentTranscriptionError(f"AmiVoice engine: expected mono audio, got an array of shape {samples.shape}")
    return np.clip(np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0), -1.0, 1.0)


def is_telephone_band(source_sample_rate: int) -> bool:
    return 0 < source_sample_rate <= TELEPHONE_RATE


def encode(samples: np.ndarray, *, telephone: bool, codec: str = "mulaw", compress: bool = False) -> EncodedAudio:
    """16 kHz float samples -> 8 kHz G.711 WAV for `telephone`, else 16 kHz FLAC (`compress`) or PCM WAV."""
    duration = samples.size / SAMPLE_RATE
    if not telephone:
        if compress:
            return EncodedAudio(_flac(samples), SAMPLE_RATE, "flac", duration)
        return EncodedAudio(_pcm16_wav(samples), SAMPLE_RATE, "pcm_s16le", duration)
    name = G711[codec]
    return EncodedAudio(_g711_wav(samples, name), TELEPHONE_RATE, name, duration)


def _pcm16_wav(samples: np.ndarray) -> bytes:
    pcm = np.round(samples * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


def _flac(samples: np.ndarray) -> bytes:
    buf = io.BytesIO()
    with av.open(buf, "w", format="flac") as out:
        stream = out.add_stream("flac", rate=SAMPLE_RATE, layout="mono")  # typed AudioStream by its literal codec
        if samples.size:
            pcm = np.round(samples * 32767.0).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(pcm, format="s16", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def _g711_wav(samples: np.ndarray, codec: str) -> bytes:
    """Resample to 8 kHz (FFmpeg's filtered resampler) and encode as a G.711 WAV."""
    buf = io.BytesIO()
    with av.open(buf, "w", format="wav") as out:
        stream = cast(av.AudioStream, out.add_stream(codec, rate=TELEPHONE_RATE, layout="mono"))
        resampler = av.AudioResampler(format="s16", layout="mono", rate=TELEPHONE_RATE)
        frames = []
        if samples.size:
            frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="flt", layout="mono")
            frame.sample_rate = SAMPLE_RATE
            frames = resampler.resample(frame)
        for resampled in [*frames, *resampler.resample(None)]:
            for packet in stream.encode(resampled):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
