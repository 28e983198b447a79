"""Long channels read block by block, so a 4-hour call never sits in memory.

A decoded channel is a float32 array backed by a temporary file (`decode`); reading it
maps its pages into the worker, and they would stay counted in its memory until the
call ends. Every pass over a whole channel therefore goes block by block and hands each
block's pages back (`release`) once read: the data stays in the file (and the page
cache, which the kernel reclaims under pressure), the worker's own memory stays flat.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator

import numpy as np

from callsight_worker.engines.base import SAMPLE_RATE, Audio

BLOCK = 60 * SAMPLE_RATE  # samples per block: 60 s, 3.8 MB of float32


def spans(total: int, block: int = BLOCK) -> Iterator[tuple[int, int]]:
    """[start, stop) of consecutive blocks covering `total` samples."""
    for start in range(0, total, block):
        yield start, min(total, start + block)


def release(samples: Audio, start: int = 0, stop: int | None = None) -> None:
    """Hand back the pages of samples[start:stop] of a file-backed array (a no-op for others)."""
    mm = getattr(samples, "_mmap", None)
    stop = samples.size if stop is None else min(stop, samples.size)
    if not isinstance(mm, mmap.mmap) or stop <= start or mm.closed:
        return
    origin = np.frombuffer(mm, dtype=np.uint8, count=1).ctypes.data
    first = samples.ctypes.data - origin + start * samples.itemsize
    last = samples.ctypes.data - origin + stop * samples.itemsize
    first -= first % mmap.PAGESIZE  # madvise wants a page-aligned start; the data stays in the file
    mm.madvise(mmap.MADV_DONTNEED, first, last - first)


def rms(samples: Audio, start: int = 0, stop: int | None = None) -> float:
    """Root mean square of samples[start:stop], without a float64 copy of them."""
    stop = samples.size if stop is None else min(stop, samples.size)
    if stop <= start:
        return 0.0
    total = 0.0
    for a, b in spans(stop - start):
        block = samples[start + a: start + b]
        total += float(np.sum(np.square(block, dtype=np.float64)))
        release(samples, start + a, start + b)
    return float(np.sqrt(total / (stop - start)))
