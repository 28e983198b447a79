"""The arithmetic of the streamed decode: blocks written to per-channel files, pages handed
back, a channel's speech regions read end to end and cut into Whisper windows."""

from __future__ import annotations

import numpy as np
import psutil
import pytest

from callsight_worker.decode import ChannelFiles
from callsight_worker.engines.base import SAMPLE_RATE
from callsight_worker.engines.whisper import WINDOW, JoinedSpeech, _windows
from callsight_worker.samples import release, rms, spans

pytestmark = pytest.mark.unit


def test_frames_of_any_size_come_back_as_the_same_channels() -> None:
    rng = np.random.default_rng(3)
    frames = [rng.standard_normal((2, n)).astype(np.float32) for n in (1152, 7, 0, 4000, 1, 999)]
    frames[3][1, 10] = np.nan
    frames[4][0, 0] = np.inf
    files = ChannelFiles(2, block=1000)
    for f in frames:
        files.add(f)
    left, right = files.arrays()
    expected = np.nan_to_num(np.concatenate(frames, axis=1), nan=0.0, posinf=0.0, neginf=0.0)
    assert left.dtype == np.float32 and left.size == expected.shape[1] == files.total
    assert np.array_equal(left, expected[0]) and np.array_equal(right, expected[1])


def test_blocks_cover_every_sample_once() -> None:
    for total, block in ((0, 5), (5, 5), (11, 5), (1, 100)):
        covered = [i for a, b in spans(total, block) for i in range(a, b)]
        assert covered == list(range(total))


def test_released_pages_leave_the_process_and_the_data_stays() -> None:
    files = ChannelFiles(1, block=SAMPLE_RATE)
    for _ in range(16 * 60):  # 16 min: 61 MB of float32
        files.add(np.full((1, SAMPLE_RATE), 0.25, np.float32))
    (channel,) = files.arrays()
    me = psutil.Process()
    before = me.memory_info().rss
    assert float(np.sum(channel, dtype=np.float64)) == pytest.approx(0.25 * channel.size)
    touched = me.memory_info().rss
    release(channel)
    after = me.memory_info().rss
    assert touched - before > 50 * 2**20 and touched - after > 50 * 2**20, (before, touched, after)
    assert rms(channel) == pytest.approx(0.25)  # read back from the file


def test_joined_speech_reads_the_regions_end_to_end() -> None:
    audio = np.arange(200_000, dtype=np.float32)
    chunks = [{"start": 100, "end": 5000}, {"start": 7000, "end": 7001}, {"start": 9000, "end": 150_000}]
    joined = JoinedSpeech(audio, chunks)
    whole = np.concatenate([audio[c["start"]:c["end"]] for c in chunks])
    assert joined.size == whole.size
    for a, b in ((0, whole.size), (0, 1), (4899, 4902), (4900, 4901), (10, 100_000), (whole.size - 3, whole.size)):
        assert np.array_equal(joined.read(a, b), whole[a:b]), (a, b)


def test_windows_cover_the_joined_speech_in_pieces_of_at_most_30_s() -> None:
    rng = np.random.default_rng(5)
    audio = rng.standard_normal(20 * 60 * SAMPLE_RATE).astype(np.float32)
    starts = np.sort(rng.choice(audio.size - 50 * SAMPLE_RATE, 40, replace=False))
    chunks = [{"start": int(s), "end": int(s + rng.integers(SAMPLE_RATE // 2, 45 * SAMPLE_RATE))} for s in starts]
    chunks = [c for i, c in enumerate(chunks) if i == 0 or c["start"] >= chunks[i - 1]["end"]]
    joined = JoinedSpeech(audio, chunks)
    windows = _windows(joined)
    assert windows[0][0] == 0 and windows[-1][1] == joined.size
    assert all(b - a <= WINDOW for a, b in windows)
    assert all(windows[i][1] == windows[i + 1][0] for i in range(len(windows) - 1))
