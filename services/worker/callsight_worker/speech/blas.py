"""How many threads numpy's BLAS may run while the transcription worker computes voiceprints.

Only the transcription worker's speech code uses it (threadpoolctl is in its image only).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from functools import cache

from threadpoolctl import ThreadpoolController


@cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()  # the BLAS libraries loaded now (numpy's), found once


def blas_threads(limit: int | None) -> AbstractContextManager[object]:
    """numpy's BLAS on at most `limit` cores inside the block (None: as it was).

    OpenBLAS starts a thread per core of the node, not of the worker's share: on a shared
    or loaded node its threads wait on each other, and the small matrix products of the
    speaker encoder ran 2-25x slower on 2 threads than on 1 (docs/diarization.md, "Speed").
    """
    if limit is None:
        return nullcontext()
    return _blas().limit(limits=max(1, limit), user_api="blas")
