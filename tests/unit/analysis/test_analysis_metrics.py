from __future__ import annotations

import pytest

from callsight_worker.analysis.metrics import MetricsConfig, compute_metrics, merge_intervals
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit

OP, CU = "operator", "customer"


@pytest.fixture
def timeline():
    """Known answers worked out by hand (see each test)."""
    return call(
        [
            turn(OP, 0, 10),
            turn(CU, 12, 20),
            turn(OP, 19, 30),  # starts while the customer talks; customer goes on 1 s
            turn(CU, 25, 25.5, "yes"),  # backchannel inside the operator's turn
            turn(CU, 35, 50),
            turn(OP, 49.8, 50.1),  # latching: customer ends 0.2 s later, no interruption
        ],
        duration=60,
    )


def test_talk_time_and_share(timeline):
    m = compute_metrics(timeline)
    assert m.speakers[OP].talk_time_s == pytest.approx(21.3)
    assert m.speakers[CU].talk_time_s == pytest.approx(23.5)
    assert m.speakers[OP].talk_share == pytest.approx(21.3 / 44.8)
    assert m.speakers[CU].talk_share == pytest.approx(23.5 / 44.8)
    assert m.talk_listen_ratio == pytest.approx(21.3 / 23.5)
    assert m.talk_time_s == pytest.approx(43.1)  # union: 0-10, 12-30, 35-50.1
    assert m.speakers[OP].turns == 3 and m.speakers[CU].turns == 3


def test_silence_gap_and_non_talk(timeline):
    m = compute_metrics(timeline, MetricsConfig(silence_min_s=2.0))
    assert m.non_talk_time_s == pytest.approx(16.9)
    assert m.non_talk_start_s == pytest.approx(0.0)
    assert m.non_talk_end_s == pytest.approx(9.9)
    assert [(g.start, g.end) for g in m.silences] == [(10, 12), (30, 35)]
    assert m.silence_count == 2 and m.silence_time_s == pytest.approx(7.0)
    assert m.longest_gap is not None
    assert (m.longest_gap.start, m.longest_gap.duration) == (30, 5)
    # the default (MiiTel's 3 s) keeps only the long gap; the longest gap does not change
    m3 = compute_metrics(timeline)
    assert [(g.start, g.end) for g in m3.silences] == [(30, 35)]
    assert m3.longest_gap == m.longest_gap


def test_overlap(timeline):
    m = compute_metrics(timeline)
    assert m.overlap_time_s == pytest.approx(1.0 + 0.5 + 0.2)
    assert m.overlap_count == 1  # only the 1.0 s episode reaches MiiTel's 1 s threshold
    assert compute_metrics(timeline, MetricsConfig(overlap_min_s=0.0)).overlap_count == 3


def test_speaker_switches(timeline):
    # op, cu, op, [cu backchannel skipped], cu, op -> 4 switches
    assert compute_metrics(timeline).speaker_switches == 4


def test_interruption_who_interrupted_whom(timeline):
    m = compute_metrics(timeline)
    assert len(m.interruptions) == 1
    i = m.interruptions[0]
    assert (i.by, i.interrupted, i.at) == (OP, CU, 19)
    assert i.overlap_s == pytest.approx(1.0)
    assert (i.turn_index, i.interrupted_turn_index) == (2, 1)
    assert m.speakers[OP].interruptions_made == 1 and m.speakers[CU].times_interrupted == 1
    assert m.speakers[CU].interruptions_made == 0
    assert m.speakers[CU].backchannels == 1


def test_interruption_threshold():
    # the operator keeps talking 0.4 s after the customer starts: below 0.5 s, no interruption
    t = call([turn(OP, 0, 10), turn(CU, 9.6, 15)])
    assert compute_metrics(t).interruptions == []
    assert (
        len(compute_metrics(t, MetricsConfig(interruption_min_remaining_s=0.3)).interruptions) == 1
    )
    # customer cuts in with a real turn at 5 s while the operator goes on to 10 s
    t2 = call([turn(OP, 0, 10), turn(CU, 5, 12)])
    [i] = compute_metrics(t2).interruptions
    assert (i.by, i.interrupted, i.at, i.overlap_s) == (CU, OP, 5, 5)


def test_longest_monologue(timeline):
    m = compute_metrics(timeline)
    assert (m.speakers[OP].longest_monologue_s, m.speakers[OP].longest_monologue_start) == (11, 19)
    assert (m.speakers[CU].longest_monologue_s, m.speakers[CU].longest_monologue_start) == (15, 35)


def test_monologue_joins_turns_across_short_pause_and_backchannel():
    joined = call([turn(OP, 0, 10), turn(CU, 10.2, 10.6, "uh-huh"), turn(OP, 11, 20)])
    assert compute_metrics(joined).speakers[OP].longest_monologue_s == pytest.approx(20)
    broken = call([turn(OP, 0, 10), turn(CU, 10.2, 11.5, "wait a second"), turn(OP, 11.6, 20)])
    assert compute_metrics(broken).speakers[OP].longest_monologue_s == pytest.approx(10)
    paused = call([turn(OP, 0, 10), turn(OP, 13, 20)])  # 3 s pause > 2 s
    assert compute_metrics(paused).speakers[OP].longest_monologue_s == pytest.approx(10)


def test_rate_english_words_per_minute():
    text = " ".join(["word"] * 60)
    m = compute_metrics(call([turn(OP, 0, 30, text), turn(CU, 30, 60, "I don't know, maybe.")]))
    assert m.speakers[OP].rate == pytest.approx(120.0)
    assert m.speakers[OP].rate_unit == "wpm"
    assert m.speakers[CU].units == 4  # don't is one word
    assert m.speakers[CU].rate == pytest.approx(8.0)


def test_rate_japanese_characters_per_minute_without_punctuation():
    text = "あ" * 50 + "、。 　！？" + "イ" * 40 + "漢字一二三四五六七八"  # 100 counted
    m = compute_metrics(call([turn(OP, 0, 60, text)], language="ja-JP"))
    assert m.speakers[OP].units == 100
    assert m.speakers[OP].rate == pytest.approx(100.0)
    assert m.speakers[OP].rate_unit == "cpm"


def test_non_talk_at_start_and_end():
    m = compute_metrics(call([turn(CU, 4, 6), turn(OP, 7, 9)], duration=12))
    assert m.non_talk_start_s == 4 and m.non_talk_end_s == 3
    assert m.non_talk_time_s == pytest.approx(8)  # 4 + 1 + 3
    assert m.longest_gap is not None and m.longest_gap.start == 6
    assert m.silences == []  # the 1 s inner gap is below the 3 s threshold


def test_mono_has_no_overlap_or_interruptions():
    m = compute_metrics(call([turn("mixed", 0, 10), turn("mixed", 12, 20)], mode="mono"))
    assert set(m.speakers) == {"mixed"}
    assert m.overlap_time_s == 0 and m.interruptions == [] and m.talk_listen_ratio is None
    assert m.speakers["mixed"].talk_share == 1.0


def test_empty_call():
    m = compute_metrics(call([], duration=30))
    assert m.talk_time_s == 0 and m.non_talk_time_s == 30 and m.longest_gap is None
    assert m.speakers[OP].talk_share == 0


def test_merge_intervals():
    assert merge_intervals([(5, 6), (0, 2), (1, 3), (3, 4)]) == [(0, 4), (5, 6)]


def test_to_dict_is_json_ready(timeline):
    import json

    d = compute_metrics(timeline).to_dict()
    json.dumps(d)
    assert d["interruptions"][0]["by"] == OP and d["longest_gap"]["start"] == 30
