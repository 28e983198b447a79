"""A corpus of malformed recordings fed to the worker's decoding pipeline: each ends with
a readable reason (or a clean, empty result), never a crash or runaway memory."""

from __future__ import annotations

import os
import resource
import struct
from pathlib import Path

import pytest

from callsight_worker.decode import UndecodableAudio, decode
from tests import audio

pytestmark = pytest.mark.unit


def wav_header(channels: int, rate: int, bits: int, data_bytes: int, fmt: int = 1, riff_size: int | None = None) -> bytes:
    block = channels * bits // 8
    return (b"RIFF" + struct.pack("<I", riff_size if riff_size is not None else min(36 + data_bytes, 0xFFFFFFFF)) + b"WAVE"
            + b"fmt " + struct.pack("<IHHIIHH", 16, fmt, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
            + b"data" + struct.pack("<I", data_bytes))


def corpus(tmp: Path) -> dict[str, tuple[Path, str]]:
    good = audio.encode(tmp / "good.wav", [audio.speech("selfish")], "wav").read_bytes()
    mp3 = audio.encode(tmp / "good.mp3", [audio.speech("selfish")], "mp3").read_bytes()
    m4a = audio.encode(tmp / "good.m4a", [audio.speech("selfish")], "m4a").read_bytes()
    ogg = audio.encode(tmp / "good.ogg", [audio.speech("selfish")], "ogg-opus").read_bytes()
    cases = {
        "truncated WAV header": (good[:30], "wav"),
        "WAV with zero channels": (wav_header(0, 16000, 16, 32000) + b"\0" * 32000, "wav"),
        "WAV with zero sample rate": (wav_header(1, 0, 16, 32000) + b"\0" * 32000, "wav"),
        "WAV declaring 4 GB of samples, holding 1 KB": (wav_header(1, 16000, 16, 0xFFFFFFF0) + os.urandom(1024), "wav"),
        "WAV with a lying RIFF size": (wav_header(1, 16000, 16, 1000, riff_size=7) + b"\1" * 1000, "wav"),
        "WAV with an unknown codec id": (wav_header(1, 16000, 16, 4000, fmt=0x7777) + os.urandom(4000), "wav"),
        "WAV declaring 1 Hz, 8-bit stereo, 4 h in 29 KB": (wav_header(2, 1, 8, 28800) + os.urandom(28800), "wav"),
        "WAV with 65535 channels": (wav_header(65535, 16000, 16, 4000) + os.urandom(4000), "wav"),
        "MP3 cut after 200 bytes": (mp3[:200], "mp3"),
        "MP3 header then random bytes": (b"ID3\x04\0\0\0\0\0\0" + os.urandom(20000), "mp3"),
        "M4A with its moov atom cut": (m4a[: len(m4a) // 3], "m4a"),
        "M4A ftyp then zeros": (m4a[:32] + b"\0" * 5000, "m4a"),
        "OGG page header then garbage": (ogg[:28] + os.urandom(5000), "ogg"),
        "OGG cut in the middle": (ogg[: len(ogg) // 2], "ogg"),
        "PNG named .wav": (b"\x89PNG\r\n\x1a\n" + os.urandom(3000), "wav"),
        "empty file": (b"", "wav"),
    }
    out = {}
    for i, (name, (data, fmt)) in enumerate(cases.items()):
        path = tmp / f"case{i}.{fmt}"
        path.write_bytes(data)
        out[name] = (path, fmt)
    return out


def test_every_malformed_file_fails_with_a_reason_or_decodes_cleanly(tmp_path: Path) -> None:
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = {}
    for name, (path, fmt) in corpus(tmp_path).items():
        try:
            decoded = decode(path, fmt, max_duration_s=4 * 3600)
            outcomes[name] = f"decoded {decoded.duration_s:.2f} s"
            assert decoded.duration_s < 60, name
        except UndecodableAudio as exc:
            assert str(exc), name
            outcomes[name] = f"Failed: {exc}"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 300, grown_mb
    failed = [n for n, o in outcomes.items() if o.startswith("Failed")]
    # the plainly broken ones must be refused, not "transcribed" as something
    for must_fail in ("truncated WAV header", "WAV with zero channels", "WAV with an unknown codec id",
                      "PNG named .wav", "empty file", "M4A ftyp then zeros",
                      "WAV declaring 1 Hz, 8-bit stereo, 4 h in 29 KB"):
        assert must_fail in failed, (must_fail, outcomes[must_fail])


def test_the_duration_limit_stops_decoding_early(tmp_path: Path) -> None:
    path = audio.encode(tmp_path / "long.wav", [audio.noise(30.0)], "wav")
    with pytest.raises(UndecodableAudio, match="longer than"):
        decode(path, "wav", max_duration_s=10)
