"""Decoding any supported recording into 16 kHz float32 channels with PyAV (bundled FFmpeg)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from callsight_worker.engines.base import SAMPLE_RATE, Audio

ALLOWED_CODECS = {
    "wav": None,  # any PCM/ADPCM/G.711 codec FFmpeg reads inside RIFF
    "mp3": {"mp3", "mp3float", "mp2", "mp2float"},
    "m4a": {"aac", "alac", "mp3", "mp3float", "aac_fixed"},
    "ogg": {"opus", "libopus", "vorbis", "libvorbis", "flac"},
}


class UndecodableAudio(Exception):
    """The file can never be decoded: a permanent failure with a readable reason."""


@dataclass
class DecodedAudio:
    channels: list[Audio]  # one float32 array per channel (at most two), 16 kHz
    duration_s: float
    source_channels: int
    source_sample_rate: int
    codec: str


def decode(path: Path, audio_format: str, max_duration_s: float) -> DecodedAudio:
    try:
        container = av.open(str(path), metadata_errors="ignore")
    except (av.error.FFmpegError, UnicodeDecodeError, ValueError) as exc:
        raise UndecodableAudio(f"the file could not be opened as {audio_format.upper()} audio ({_why(exc)})") from None
    with container:
        if not container.streams.audio:
            raise UndecodableAudio("the file contains no audio stream")
        stream = container.streams.audio[0]
        if stream.codec_context is None:
            raise UndecodableAudio("the audio stream uses a codec that cannot be decoded")
        codec = stream.codec_context.name
        allowed = ALLOWED_CODECS.get(audio_format)
        if allowed is not None and codec not in allowed:
            raise UndecodableAudio(f"{audio_format.upper()} file uses the {codec} codec, which is not supported here")
        src_channels = stream.codec_context.channels or 0
        src_rate = stream.codec_context.sample_rate or 0
        if src_channels < 1 or src_rate < 1:
            raise UndecodableAudio("the audio stream declares no channels or no sample rate")
        keep = 2 if src_channels >= 2 else 1
        resampler = av.AudioResampler(format="fltp", layout="stereo" if keep == 2 else "mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        total = 0
        limit = int(max_duration_s * SAMPLE_RATE)
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    total += arr.shape[1]
                if total > limit:
                    raise UndecodableAudio(f"the recording is longer than the {max_duration_s / 3600:.0f} h limit")
            for out in resampler.resample(None):
                arr = out.to_ndarray()
                chunks.append(arr)
                total += arr.shape[1]
        except av.error.FFmpegError as exc:
            if total == 0:
                raise UndecodableAudio(f"the audio data could not be decoded ({_why(exc)})") from None
            # a truncated tail: keep what decoded cleanly
    if total == 0:
        raise UndecodableAudio("the file contains no decodable audio samples")
    data = np.concatenate(chunks, axis=1).astype(np.float32, copy=False)
    if not np.isfinite(data).all():
        data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
    return DecodedAudio(
        channels=[np.ascontiguousarray(data[i]) for i in range(keep)],
        duration_s=total / SAMPLE_RATE,
        source_channels=src_channels,
        source_sample_rate=src_rate,
        codec=codec,
    )


def _why(exc: Exception) -> str:
    """FFmpeg's own words, without the temp file's path."""
    text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
    return str(text)[:200]
