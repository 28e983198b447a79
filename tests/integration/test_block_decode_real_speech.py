"""A 3-minute stereo call of real speech, decoded block by block into file-backed channels,
is the same audio as the whole file decoded in memory (what the worker did before), and
its speech activity, from blocks whose pages are handed back, is the same too."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np
import pytest

from callsight_worker.decode import decode, remove_drift
from callsight_worker.engines.base import SAMPLE_RATE
from callsight_worker.speech import channels as speech_channels
from tests import audio

pytestmark = pytest.mark.integration


def _call(path: Path, minutes: float = 3.0) -> Path:
    """LibriVox sentences, one side then the other, with pauses, as a stereo MP3."""
    clips = [audio.speech(n) for n in audio.SPEECH]
    left: list[np.ndarray] = []
    right: list[np.ndarray] = []
    i = n = 0
    while n < minutes * 60 * SAMPLE_RATE:
        clip, gap = clips[i % len(clips)], audio.silence(0.4 + 0.3 * (i % 3))
        mine, other = (left, right) if i % 2 == 0 else (right, left)
        mine += [clip, gap]
        other += [np.zeros_like(clip), gap]
        n += clip.size + gap.size
        i += 1
    return audio.encode(path, [np.concatenate(left), np.concatenate(right)], "mp3", rate=8000)


def _in_memory(path: Path) -> np.ndarray:
    """The whole file resampled in memory, as the worker's decode did before it streamed,
    drift removed from each channel in one piece."""
    chunks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SAMPLE_RATE)
        for frame in container.decode(stream):
            chunks += [f.to_ndarray() for f in resampler.resample(frame)]
        chunks += [f.to_ndarray() for f in resampler.resample(None)]
    whole = np.concatenate(chunks, axis=1).astype(np.float32)
    return np.stack([remove_drift(channel.copy()) for channel in whole])  # the decoder's one filter


def test_block_decode_equals_the_in_memory_decode(tmp_path: Path) -> None:
    path = _call(tmp_path / "call.mp3")
    reference = _in_memory(path)
    for block in (SAMPLE_RATE // 3, 10 * SAMPLE_RATE):
        decoded = decode(path, "mp3", max_duration_s=4 * 3600, block=block)
        assert [c.size for c in decoded.channels] == [reference.shape[1]] * 2
        assert decoded.duration_s == pytest.approx(reference.shape[1] / SAMPLE_RATE)
        for i, channel in enumerate(decoded.channels):
            assert isinstance(channel, np.memmap)
            assert np.array_equal(channel, reference[i]), (block, i)
    assert decoded.duration_s > 170
    # speech activity read block by block from the files (pages handed back) = from memory
    from_files = speech_channels.analyse(decoded.channels)
    from_memory = speech_channels.analyse([reference[0].copy(), reference[1].copy()])
    for a, b in zip(from_files, from_memory, strict=True):
        assert a.own.sum() > 1000
        assert np.array_equal(a.own, b.own) and np.array_equal(a.heard, b.heard)
