"""Decoding any supported recording into 16 kHz float32 channels with PyAV (bundled FFmpeg).

Streamed: FFmpeg's frames are resampled and written block by block (`BLOCK` samples) to
one temporary file per channel, and each channel comes back as a float32 array mapped
from its file (np.memmap). A 4-hour stereo call is 1.8 GB of float32: it lives on disk
(the job's temp space), never in the worker's memory, and never twice. The files are
unlinked as soon as they are created, so they vanish with the arrays, even on a crash.
Whoever reads a whole channel does it in blocks (`callsight_worker.samples`).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import av
import numpy as np

from callsight import limits
from callsight_worker.engines.base import SAMPLE_RATE, Audio
from callsight_worker.samples import release, spans

ALLOWED_CODECS = {
    "wav": None,  # any PCM/ADPCM/G.711 codec FFmpeg reads inside RIFF
    "mp3": {"mp3", "mp3float", "mp2", "mp2float"},
    "m4a": {"aac", "alac", "mp3", "mp3float", "aac_fixed"},
    "ogg": {"opus", "libopus", "vorbis", "libvorbis", "flac"},
}
BLOCK = 10 * SAMPLE_RATE  # resampled samples gathered before they are written: 10 s, 1.3 MB for stereo


class UndecodableAudio(Exception):
    """The file can never be decoded: a permanent failure with a readable reason."""


@dataclass
class DecodedAudio:
    channels: list[Audio]  # one float32 array per channel (at most two), 16 kHz, file-backed
    duration_s: float
    source_channels: int
    source_sample_rate: int
    codec: str


class ChannelFiles:
    """Resampled frames in, one float32 file per channel out, written a block at a time."""

    def __init__(self, channels: int, block: int = BLOCK, directory: Path | None = None) -> None:
        # closed by arrays() or close(); unlinked from the start
        self.files: list[IO[bytes]] = [tempfile.TemporaryFile(prefix="callsight-pcm-", dir=directory)  # noqa: SIM115
                                       for _ in range(channels)]
        self.block = block
        self.pending: list[np.ndarray] = []
        self.pending_n = 0
        self.total = 0

    def add(self, frames: np.ndarray) -> None:
        """frames: (channels, n) samples."""
        self.pending.append(frames)
        self.pending_n += frames.shape[1]
        self.total += frames.shape[1]
        if self.pending_n >= self.block:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        data = np.concatenate(self.pending, axis=1).astype(np.float32, copy=False)
        self.pending, self.pending_n = [], 0
        if not np.isfinite(data).all():
            data = np.nan_to_num(data, nan=0.0, posinf=0.0, neginf=0.0)
        for channel, f in zip(data, self.files, strict=True):
            f.write(np.ascontiguousarray(channel).data)

    def arrays(self) -> list[Audio]:
        """Every channel as a float32 array mapped from its file; the files are closed here."""
        self.flush()
        try:
            return [np.memmap(f, dtype=np.float32, mode="r+", shape=(self.total,)) for f in self.files]
        finally:
            self.close()

    def close(self) -> None:
        for f in self.files:
            f.close()


def decode(path: Path, audio_format: str, max_duration_s: float, block: int = BLOCK) -> DecodedAudio:
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
        # the gateway refuses these at upload (core/admission.py); checked again before any
        # sample is decoded, for what reached S3 another way or a header mutagen could not read
        if not limits.MIN_SAMPLE_RATE <= src_rate <= limits.MAX_SAMPLE_RATE:
            raise UndecodableAudio(f"the recording's sample rate ({src_rate} Hz) is outside "
                                   f"{limits.MIN_SAMPLE_RATE}-{limits.MAX_SAMPLE_RATE} Hz")
        declared_s = float(container.duration or 0) / av.time_base
        if declared_s > max_duration_s:
            raise UndecodableAudio(f"the recording is longer than the {max_duration_s / 3600:.0f} h limit")
        keep = 2 if src_channels >= 2 else 1
        resampler = av.AudioResampler(format="fltp", layout="stereo" if keep == 2 else "mono", rate=SAMPLE_RATE)
        out = ChannelFiles(keep, block)
        limit = int(max_duration_s * SAMPLE_RATE)
        try:
            try:
                for frame in container.decode(stream):
                    for resampled in resampler.resample(frame):
                        out.add(resampled.to_ndarray())
                    if out.total > limit:
                        raise UndecodableAudio(f"the recording is longer than the {max_duration_s / 3600:.0f} h limit")
                for resampled in resampler.resample(None):
                    out.add(resampled.to_ndarray())
            except av.error.FFmpegError as exc:
                if out.total == 0:
                    raise UndecodableAudio(f"the audio data could not be decoded ({_why(exc)})") from None
                # a truncated tail: keep what decoded cleanly
            if out.total == 0:
                raise UndecodableAudio("the file contains no decodable audio samples")
        except BaseException:
            out.close()
            raise
    return DecodedAudio(
        channels=[remove_drift(channel) for channel in out.arrays()],
        duration_s=out.total / SAMPLE_RATE,
        source_channels=src_channels,
        source_sample_rate=src_rate,
        codec=codec,
    )


DRIFT_WINDOW = SAMPLE_RATE // 50  # 20 ms: what varies slower than this is no sound
_BLOCK = 60 * SAMPLE_RATE


def remove_drift(samples: Audio) -> Audio:
    """The channel without its DC offset and infrasonic drift (below ~20 Hz), in place.

    Some recorders add a slowly wandering offset (handling, wind, a failing input stage)
    that can be louder than the voice: the speech detector then hears nothing. Each sample
    minus the mean of the 20 ms around it removes that and leaves every audible frequency;
    done in blocks, so a 4-hour channel needs no float64 copy of itself.
    """
    n = samples.size
    if n < DRIFT_WINDOW:
        return samples
    half = DRIFT_WINDOW // 2
    tail = np.empty(0, dtype=np.float64)  # the unchanged samples just before the block
    for start, stop in spans(n, _BLOCK):
        ahead = np.asarray(samples[start:min(n, stop + half)], dtype=np.float64)
        lo = start - tail.size
        sums = np.concatenate([[0.0], np.cumsum(np.concatenate([tail, ahead]))])
        idx = np.arange(start, stop)
        a, b = np.maximum(idx - half, 0) - lo, np.minimum(idx + half, n) - lo
        tail = np.array(samples[max(0, stop - half):stop], dtype=np.float64)  # before it changes
        samples[start:stop] -= ((sums[b] - sums[a]) / (b - a)).astype(np.float32)
        release(samples, start, stop)
    return samples


def _why(exc: Exception) -> str:
    """FFmpeg's own words, without the temp file's path."""
    text = getattr(exc, "strerror", None) or str(exc).strip() or type(exc).__name__
    return str(text)[:200]
