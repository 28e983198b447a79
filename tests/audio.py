"""Test recordings: real human speech (Debian's pocketsphinx-testdata) encoded with PyAV
into every supported format, plus silence, noise and broken files."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import cast

import av
import numpy as np

LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")
# (file, words that must appear in the transcript)
SPEECH = {
    "dashwood": ("sense_and_sensibility_01_austen_64kb-0870.wav", ["dashwood", "leisure", "prudently"]),
    "ill_disposed": ("sense_and_sensibility_01_austen_64kb-0880.wav", ["young", "man"]),
    "selfish": ("sense_and_sensibility_01_austen_64kb-0890.wav", ["cold", "selfish"]),
    "amiable": ("sense_and_sensibility_01_austen_64kb-0930.wav", ["amiable", "himself"]),
}
RATE = 16_000


def speech(name: str) -> np.ndarray:
    """16 kHz float32 mono samples of one LibriVox clip."""
    path = LIBRIVOX / SPEECH[name][0]
    if not path.exists():
        raise FileNotFoundError(f"{path} missing: run `make install` (apt package pocketsphinx-testdata)")
    return decode_to_16k(path)


CODECS = {
    "wav": ("wav", "pcm_s16le", "s16"),
    "wav-mulaw": ("wav", "pcm_mulaw", "s16"),  # what PBXs store: G.711 at 8 kHz
    "mp3": ("mp3", "libmp3lame", "fltp"),
    "m4a": ("mp4", "aac", "fltp"),
    "ogg-opus": ("ogg", "libopus", "flt"),
    "ogg-vorbis": ("ogg", "vorbis", "fltp"),
}


def encode(path: Path, channels: list[np.ndarray], kind: str, rate: int = RATE) -> Path:
    """Write float32 channels (same length) at `rate` as `kind` (see CODECS)."""
    container_format, codec, sample_format = CODECS[kind]
    if codec == "vorbis" and len(channels) == 1:
        channels = channels * 2  # FFmpeg's own Vorbis encoder writes stereo only
    out_rate = 48_000 if codec == "libopus" else rate
    layout = "stereo" if len(channels) == 2 else "mono"
    n = max(len(c) for c in channels)
    data = np.zeros((len(channels), n), dtype=np.float32)
    for i, c in enumerate(channels):
        data[i, : len(c)] = c
    with av.open(str(path), "w", format=container_format) as out:
        stream = cast(av.AudioStream, out.add_stream(codec, rate=out_rate))
        stream.layout = layout
        if codec == "vorbis":
            stream.codec_context.options = {"strict": "experimental"}
        resampler = av.AudioResampler(format=sample_format, layout=layout, rate=out_rate)
        frame_size = 960
        for start in range(0, n, frame_size):
            block = np.ascontiguousarray(data[:, start : start + frame_size])
            frame = av.AudioFrame.from_ndarray(block, format="fltp", layout=layout)
            frame.sample_rate = rate
            frame.time_base = Fraction(1, rate)
            frame.pts = start
            for f in resampler.resample(frame):
                for packet in stream.encode(f):
                    out.mux(packet)
        for f in resampler.resample(None):
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * RATE), dtype=np.float32)


def noise(seconds: float, level: float = 0.05, seed: int = 7) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * level).astype(np.float32)


def stereo_call(path: Path, kind: str = "wav") -> Path:
    """Operator on the left, customer on the right, taking turns."""
    op1, cu1, op2 = speech("dashwood"), speech("ill_disposed"), speech("amiable")
    gap = silence(0.8)
    left = np.concatenate([op1, gap, silence(len(cu1) / RATE), gap, op2])
    right = np.concatenate([silence(len(op1) / RATE), gap, cu1, gap, silence(len(op2) / RATE)])
    return encode(path, [left, right], kind)


def corrupt_wav(path: Path) -> Path:
    """A RIFF/WAVE header that lies: it promises audio, then garbage follows."""
    header = b"RIFF" + (10_000_000).to_bytes(4, "little") + b"WAVE" + b"fmt " + (16).to_bytes(4, "little")
    header += (0x7777).to_bytes(2, "little") + (0).to_bytes(2, "little") + (0).to_bytes(4, "little") * 2 + (0).to_bytes(4, "little")
    path.write_bytes(header + b"data" + (1 << 31).to_bytes(4, "little") + bytes(range(256)) * 40)
    return path


def decode_to_16k(path: Path) -> np.ndarray:
    """Any recording as 16 kHz float32 mono samples."""
    with av.open(str(path)) as container:
        resampler = av.AudioResampler(format="flt", layout="mono", rate=RATE)
        parts = [f.to_ndarray().reshape(-1) for frame in container.decode(audio=0) for f in resampler.resample(frame)]
    return np.concatenate(parts).astype(np.float32)
