"""The arithmetic of the streamed decode: blocks written to per-channel files, pages handed
back, a channel's speech regions read end to end and cut into Whisper windows."""

from __future__ import annotations

import numpy as np
import psutil
import pytest
from faster_whisper.transcribe import Segment, Word

from callsight_worker.decode import ChannelFiles
from callsight_worker.engines.base import SAMPLE_RATE
from callsight_worker.engines.whisper import _placed
from callsight_worker.engines.whisper_windows import WINDOW, Piece, Window, pack, speech_pieces
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


def test_speech_pieces_cover_every_region_in_pieces_of_at_most_a_window() -> None:
    rng = np.random.default_rng(5)
    audio = rng.standard_normal(20 * 60 * SAMPLE_RATE).astype(np.float32)
    other = rng.standard_normal(audio.size).astype(np.float32)
    starts = np.sort(rng.choice(audio.size - 50 * SAMPLE_RATE, 40, replace=False))
    regions = [(int(s), int(s + rng.integers(SAMPLE_RATE // 2, 45 * SAMPLE_RATE))) for s in starts]
    regions = [r for i, r in enumerate(regions) if all(r[0] >= q[1] for q in regions[:i])]
    pieces = speech_pieces([(0, audio, regions), (3, other, [(5, 100), (200, 300)])])
    assert all(0 < p.size <= WINDOW for p in pieces)
    assert [p.start for p in pieces] == sorted(p.start for p in pieces)
    assert sorted((p.start, p.end) for p in pieces if p.channel == 3) == [(5, 100), (200, 300)]
    mine = sorted((p.start, p.end) for p in pieces if p.channel == 0)
    assert sum(b - a for a, b in mine) == sum(b - a for a, b in regions)  # nothing lost, nothing twice
    assert all(mine[i][1] <= mine[i + 1][0] for i in range(len(mine) - 1))
    assert any(b - a > WINDOW for a, b in regions)  # the case of a long region was exercised


def test_pack_fills_windows_with_every_piece_once_in_time_order() -> None:
    rng = np.random.default_rng(7)
    audio = np.zeros(3600 * SAMPLE_RATE, np.float32)
    at, regions = 0, []
    for _ in range(300):  # utterances of 0.3-14 s with pauses, as on a call
        at += int(rng.uniform(0.2, 3) * SAMPLE_RATE)
        length = int(rng.uniform(0.3, 14) * SAMPLE_RATE)
        regions.append((at, at + length))
        at += length
    pieces = speech_pieces([(0, audio, regions[0::2]), (1, audio, regions[1::2])])
    windows = pack(pieces)
    placed = [p for w in windows for p in w.pieces]
    assert sorted(placed, key=lambda p: (p.channel, p.start)) == sorted(pieces, key=lambda p: (p.channel, p.start))
    assert all(w.size <= WINDOW for w in windows)
    assert all([p.start for p in w.pieces] == sorted(p.start for p in w.pieces) for w in windows)
    assert all(len({p.channel for p in w.pieces}) == 1 for w in windows)  # one voice per window
    for channel in (0, 1):
        speech = sum(p.size for p in pieces if p.channel == channel)
        used = sum(1 for w in windows if w.pieces[0].channel == channel)
        assert used <= np.ceil(speech / WINDOW) * 1.05 + 1, (used, speech / WINDOW)


def _segment(words: list[tuple[str, float, float]]) -> Segment:
    ws = [Word(start=a, end=b, word=f" {t}", probability=0.9) for t, a, b in words]
    return Segment(id=1, seek=0, start=ws[0].start, end=ws[-1].end, text="".join(w.word for w in ws), tokens=[1],
                   avg_logprob=-0.2, compression_ratio=1.1, no_speech_prob=0.01, words=ws, temperature=0.0)


def test_the_words_of_a_window_go_back_to_their_channel_and_moment() -> None:
    audio = np.zeros(600 * SAMPLE_RATE, np.float32)
    # the operator's 2 s at 100 s, then the customer's 3 s at 40 s, in a window starting 60 s into its batch
    window = Window([Piece(0, audio, 100 * SAMPLE_RATE, 102 * SAMPLE_RATE), Piece(1, audio, 40 * SAMPLE_RATE,
                                                                                   43 * SAMPLE_RATE)])
    seg = _segment([("thank", 60.1, 60.5), ("you", 60.5, 61.9), ("hi", 62.2, 62.6), ("there", 62.6, 64.8)])
    placed = _placed(seg, window, 60.0)
    assert [(c, s.text, s.start, s.end) for c, s in placed] == [(0, "thank you", pytest.approx(100.1), 101.9),
                                                                 (1, "hi there", pytest.approx(40.2), 42.8)]
    assert [w.text for w in placed[1][1].words] == ["hi", "there"]
    # faster-whisper's times can be numpy floats: what goes on must be plain floats (it ends up in JSON)
    numpy_times = _segment([("hello", 60.1, 60.5)])
    numpy_times.words[0].start, numpy_times.words[0].end = np.float64(60.1), np.float64(60.5)
    (_, hello), = _placed(numpy_times, window, 60.0)
    assert all(type(x) is float for x in (hello.start, hello.end, hello.words[0].start, hello.words[0].end))
    # a word straddling two pieces goes where its middle is, its time held inside that piece
    (channel, one), = _placed(_segment([("so", 61.0, 62.4)]), window, 60.0)
    assert channel == 0 and (one.start, one.end) == (pytest.approx(101.0), 102.0)


class _Lane:
    """faster-whisper's batched pipeline as far as a lane uses it: one segment per clip, its one
    word spanning the clip's first second, told by the clip's `seek`."""

    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.clips = 0

    def transcribe(self, audio: np.ndarray, clip_timestamps: list[dict[str, float]], **_: object) -> tuple[list[Segment], None]:
        import threading

        self.threads.add(threading.current_thread().name)
        out = []
        for clip in clip_timestamps:
            self.clips += 1
            a = clip["start"]
            words = [Word(start=a, end=a + 1.0, word=f" w{int(a)}", probability=0.9)]
            out.append(Segment(id=1, seek=int(a * 100), start=a, end=a + 1.0, text=words[0].word, tokens=[1],
                               avg_logprob=-0.2, compression_ratio=1.1, no_speech_prob=0.01, words=words,
                               temperature=0.0))
        return out, None


def test_lanes_share_the_windows_and_every_word_comes_back_to_its_channel() -> None:
    from callsight_worker.engines.whisper import WhisperTranscriber

    audio = [np.zeros(400 * SAMPLE_RATE, np.float32) for _ in range(2)]
    # each channel: regions of 10 s every 20 s -> 3 regions per window, 7 windows in all
    regions = [[(s * SAMPLE_RATE, (s + 10) * SAMPLE_RATE) for s in range(0, 200 if c == 0 else 140, 20)] for c in (0, 1)]
    windows = pack(speech_pieces([(c, audio[c], regions[c]) for c in (0, 1)]))
    engine = object.__new__(WhisperTranscriber)
    lanes = [_Lane(), _Lane()]
    engine.lanes, engine.batched, engine.batch_size, engine.beam_size, engine.word_timestamps = 2, lanes, 4, 5, True
    engine.model = type("M", (), {"frames_per_second": 100})()
    told: list[float] = []
    out = engine._decode_batched(windows, "en-US", None, told.append)
    assert sum(lane.clips for lane in lanes) == len(windows) and all(lane.clips for lane in lanes)
    assert lanes[0].threads.isdisjoint(lanes[1].threads)
    # each window's first piece gets the word: its channel and its moment on that channel
    firsts = sorted((w.pieces[0].channel, w.pieces[0].start / SAMPLE_RATE) for w in windows)
    assert sorted((c, s.start) for c, segs in out.items() for s in segs) == firsts
    assert all(s.start <= t.start for segs in out.values() for s, t in zip(segs, segs[1:], strict=False))
    assert told == sorted(told) and told[-1] == pytest.approx(1.0)
