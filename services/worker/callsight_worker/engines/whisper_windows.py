"""Packing a call's speech into Whisper's 30 s windows, and placing the words back.

Whisper's encoder costs the same for every window, full or not, and on CPU it is most of a
call's decoding time: the fewer windows a call's speech fills, the faster it is done.
Cutting windows at region boundaries one after the other left most windows 20-28 s full (an
utterance that does not fit starts the next window). So each channel's regions are packed
first fit in the order they were said: a region goes into the first of the channel's newest
few windows it still fits in, and a window holds its regions in time order, so it reads like
the stretch of the call it came from. A window never mixes channels: with the other side's
voice in the same window Whisper base dropped whole utterances (customer-side WER 16% -> 32%
on the 5-minute benchmark call), where a window of one voice lost nothing.

A region longer than a window is cut at its quietest 100 ms after 20 s. Every word the
decoder returns goes back to the region its middle falls in: its channel and its time on
that channel's timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from callsight_worker.engines.base import SAMPLE_RATE, Audio
from callsight_worker.samples import release

WINDOW = 30 * SAMPLE_RATE  # Whisper's input
MIN_CUT = 20 * SAMPLE_RATE  # a region longer than a window is cut at its quietest 100 ms after 20 s
HOP = SAMPLE_RATE // 10
OPEN_WINDOWS = 4  # the newest windows a piece may still join: a window stays one stretch of the call


@dataclass(frozen=True)
class Piece:
    """Samples [start, end) of one channel: a speech region, or a part of a long one."""

    channel: int  # the caller's index of the channel
    audio: Audio
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start

    def read(self) -> Audio:
        """The piece's samples as float32; their pages are handed back once read."""
        out = np.array(self.audio[self.start: self.end], dtype=np.float32)
        release(self.audio, self.start, self.end)
        return out


@dataclass
class Window:
    """Pieces decoded together as one Whisper input, end to end in this order."""

    pieces: list[Piece]

    @property
    def size(self) -> int:
        return sum(p.size for p in self.pieces)

    def read(self) -> Audio:
        return np.concatenate([p.read() for p in self.pieces]) if self.pieces else np.zeros(0, np.float32)

    def _bounds(self) -> np.ndarray:
        return np.cumsum([0] + [p.size for p in self.pieces])

    def piece_at(self, at: float) -> int:
        """The index of the piece holding second `at` of the window (the first or last one
        for a moment before or after them)."""
        k = int(np.searchsorted(self._bounds(), at * SAMPLE_RATE, side="right")) - 1
        return min(len(self.pieces) - 1, max(0, k))

    def moment(self, k: int, at: float) -> float:
        """Second `at` of the window as a moment on the channel of piece `k`, held inside the piece."""
        piece = self.pieces[k]
        inside = min(max(float(at) * SAMPLE_RATE - float(self._bounds()[k]), 0.0), float(piece.size))
        return float((piece.start + inside) / SAMPLE_RATE)  # a plain float: it ends up in JSON


def _quietest_cut(audio: Audio, start: int) -> int:
    """The middle of the quietest 100 ms in [start + 20 s, start + 30 s)."""
    frames = np.asarray(audio[start + MIN_CUT: start + WINDOW], dtype=np.float32).reshape(-1, HOP)
    return start + MIN_CUT + int(np.argmin(np.mean(frames**2, axis=1))) * HOP + HOP // 2


def speech_pieces(channels: Sequence[tuple[int, Audio, Sequence[tuple[int, int]]]]) -> list[Piece]:
    """Every channel's regions (`(index, audio, [(start, end) samples])`) as pieces of at most
    a window, all channels together in the order they start."""
    pieces: list[Piece] = []
    for index, audio, regions in channels:
        for start, end in regions:
            start, end = max(0, start), min(audio.size, end)
            while end - start > WINDOW:
                cut = _quietest_cut(audio, start)
                pieces.append(Piece(index, audio, start, cut))
                start = cut
            if end > start:
                pieces.append(Piece(index, audio, start, end))
    return sorted(pieces, key=lambda p: (p.start, p.channel))


def pack(pieces: Sequence[Piece]) -> list[Window]:
    """First fit, in order, channel by channel: each piece goes into the first of its channel's
    newest `OPEN_WINDOWS` windows with room for it, else into a new one."""
    windows: list[Window] = []
    for channel in sorted({p.channel for p in pieces}):
        windows += _pack_one([p for p in pieces if p.channel == channel])
    return windows


def _pack_one(pieces: Sequence[Piece]) -> list[Window]:
    windows: list[Window] = []
    room: list[int] = []
    for piece in pieces:
        k = next((i for i in range(max(0, len(room) - OPEN_WINDOWS), len(room)) if room[i] >= piece.size), None)
        if k is None:
            windows.append(Window([]))
            room.append(WINDOW)
            k = len(windows) - 1
        windows[k].pieces.append(piece)
        room[k] -= piece.size
    for window in windows:
        window.pieces.sort(key=lambda p: p.start)
    return windows
