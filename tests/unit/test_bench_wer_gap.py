"""The timeline benchmark's WER-gap figures (bench/timeline.py): per set and side the set's
calls together, per call the worse side, and the redecoded copies kept out of the other targets."""

from __future__ import annotations

import pytest

from bench.calls.score import CallScore
from bench.timeline import REDECODED, totals, wer_gaps

pytestmark = pytest.mark.unit


def _call(name: str, condition: str, operator: float, customer: float) -> CallScore:
    return CallScore(name, condition, "en-US", error_rate={"operator": operator, "customer": customer},
                     talk_share_error=9.0 if condition == REDECODED else 1.0)


def _rows() -> dict[tuple[str, str], list[CallScore]]:
    return {
        ("en", "clean-ulaw"): [_call("en-1", "clean-ulaw", 0.02, 0.10), _call("en-2", "clean-ulaw", 0.02, 0.12)],
        ("en", "echo30-ulaw"): [_call("en-1", "echo30-ulaw", 0.02, 0.14), _call("en-2", "echo30-ulaw", 0.03, 0.11)],
        ("en", REDECODED): [_call("en-1", REDECODED, 0.02, 0.13), _call("en-2", REDECODED, 0.02, 0.12)],
        ("ja", "clean-ulaw"): [_call("ja-1", "clean-ulaw", 0.08, 0.05)],
        ("ja", "echo30-ulaw"): [_call("ja-1", "echo30-ulaw", 0.09, 0.052)],
    }


def test_the_gap_per_set_and_side_takes_the_sets_calls_together() -> None:
    lines = wer_gaps(_rows())
    # en customer: (14 + 11) / 2 - (10 + 12) / 2 = +1.5; en operator +0.5; ja +1.0 and +0.2
    assert "max +1.5 points (en customer)" in lines[0]
    assert "mean +0.8" in lines[0]


def test_per_call_the_worse_side_counts_echo_and_the_redecoded_copy_apart() -> None:
    echo, again = wer_gaps(_rows())[1:]
    # en-1: customer +4.0; en-2: operator +1.0; ja-1: operator +1.0
    assert "-30 dB echo" in echo and "mean +2.0, max +4.0 points, 67% of calls within 2" in echo
    # en-1: customer +3.0; en-2: 0.0
    assert "decoded again" in again and "mean +1.5, max +3.0 points, 50% of calls within 2" in again


def test_the_redecoded_copies_stay_out_of_the_other_targets() -> None:
    assert "max 1.0 points, 100% of calls within" in totals(_rows())
