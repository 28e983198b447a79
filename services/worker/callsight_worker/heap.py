"""Handing freed heap memory back to the system between the rounds of a long call.

CTranslate2 decodes on its own threads; glibc gives each thread its own heap arena and
keeps what a batch freed there for reuse, so a worker's memory creeps up batch after
batch on a long call (measured: a 28-minute call peaked 270 MB lower with trimming).
`malloc_trim` returns the free pages at once; elsewhere than glibc it is a no-op.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


def trim() -> None:
    """Give the heap's free pages back to the system (glibc), if it can."""
    release = _malloc_trim()
    if release is not None:
        release(0)
