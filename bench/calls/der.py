"""Diarization error rate, as NIST md-eval defines it, on a 10 ms frame grid.

Per scored frame: error = max(reference speakers, hypothesis speakers) - correctly
matched speakers, under the one-to-one speaker mapping that maximises the matches;
DER = total error / total reference speaker time. Frames within `collar_s` of any
reference segment boundary are not scored (the usual 0.25 s collar). Overlapped speech
counts: a frame where both talk and the hypothesis names one is half missed.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

HOP_S = 0.01


@dataclass(frozen=True)
class DerResult:
    der: float
    missed_s: float
    false_alarm_s: float
    confusion_s: float
    scored_s: float  # reference speaker time scored
    mapping: dict[str, str]  # hypothesis speaker -> reference speaker


def _grid(segments: list[tuple[str, float, float]], names: list[str], n: int) -> np.ndarray:
    grid = np.zeros((len(names), n), dtype=bool)
    for speaker, start, end in segments:
        grid[names.index(speaker), int(round(start / HOP_S)):int(round(end / HOP_S))] = True
    return grid


def der(reference: list[tuple[str, float, float]], hypothesis: list[tuple[str, float, float]],
        collar_s: float = 0.25) -> DerResult:
    """DER of (speaker, start, end) hypothesis segments against the reference's."""
    end = max([e for _, _, e in reference + hypothesis] + [0.0])
    n = int(round(end / HOP_S)) + 1
    ref_names = sorted({s for s, _, _ in reference})
    hyp_names = sorted({s for s, _, _ in hypothesis})
    ref = _grid(reference, ref_names, n)
    hyp = _grid(hypothesis, hyp_names, n)
    scored = np.ones(n, dtype=bool)
    c = int(round(collar_s / HOP_S))
    for _, start, stop in reference:
        for t in (start, stop):
            i = int(round(t / HOP_S))
            scored[max(0, i - c):i + c] = False
    ref, hyp = ref[:, scored], hyp[:, scored]
    n_ref, n_hyp = ref.sum(axis=0), hyp.sum(axis=0)
    best: tuple[int, dict[str, str]] = (-1, {})
    # one-to-one mappings of hypothesis to reference speakers (few speakers: all of them)
    slots = ref_names + [None] * len(hyp_names)
    for perm in itertools.permutations(range(len(slots)), len(hyp_names)):
        matched = sum(int(np.sum(hyp[h] & ref[r])) for h, r in enumerate(perm) if r < len(ref_names))
        if matched > best[0]:
            best = (matched, {hyp_names[h]: ref_names[r] for h, r in enumerate(perm) if r < len(ref_names)})
    mapping = best[1]
    correct = np.zeros(ref.shape[1], dtype=np.int64)
    for h, r in mapping.items():
        correct += hyp[hyp_names.index(h)] & ref[ref_names.index(r)]
    missed = np.maximum(0, n_ref - n_hyp).sum()
    false_alarm = np.maximum(0, n_hyp - n_ref).sum()
    confusion = (np.minimum(n_ref, n_hyp) - correct).sum()
    total = n_ref.sum()
    return DerResult(
        der=float((missed + false_alarm + confusion) / total) if total else 0.0,
        missed_s=float(missed) * HOP_S, false_alarm_s=float(false_alarm) * HOP_S,
        confusion_s=float(confusion) * HOP_S, scored_s=float(total) * HOP_S, mapping=mapping,
    )
