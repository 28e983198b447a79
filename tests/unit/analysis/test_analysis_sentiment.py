from __future__ import annotations

import pytest

from callsight_worker.analysis.sentiment import (
    NEGATIVE,
    NEUTRAL,
    POSITIVE,
    analyse_sentiment,
    label_for,
    score_text,
)
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Thank you so much, that was really helpful!", POSITIVE),
        ("This is terrible, I'm really angry about the extra charges.", NEGATIVE),
        ("I'd like to change the billing address on my account.", NEUTRAL),
        ("Please hold while I check.", NEUTRAL),
    ],
)
def test_english_direction(text, label):
    assert label_for(score_text(text, "en-US")) == label


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("ご丁寧に対応していただき、本当に助かりました。", POSITIVE),
        ("とても分かりやすい説明で嬉しいです。", POSITIVE),
        ("何度電話してもつながらなくて困っています。", NEGATIVE),
        ("対応が最悪で、不満です。", NEGATIVE),
        ("住所の変更をお願いしたいのですが。", NEUTRAL),
        ("お客様番号はお手元にございますか。", NEUTRAL),
    ],
)
def test_japanese_direction(text, label):
    assert label_for(score_text(text, "ja-JP")) == label


def test_scores_are_bounded():
    for text, lang in [
        ("great great great wonderful excellent amazing!!!", "en-US"),
        ("最悪です。ひどい。困ります。", "ja-JP"),
        ("", "en-US"),
    ]:
        assert -1.0 <= score_text(text, lang) <= 1.0


def test_customer_start_end_and_change_en():
    t = call(
        [
            turn("customer", 0, 10, "I'm furious, you charged me twice and this is terrible."),
            turn("operator", 10, 20, "I'm sorry about that, let me check your account."),
            turn("customer", 20, 30, "Okay, the account number is on my letter."),
            turn("operator", 30, 40, "I have refunded the second charge."),
            turn("customer", 40, 50, "Great, thank you so much, that's really helpful!"),
        ]
    )
    s = analyse_sentiment(t)
    assert s.customer_start is not None and s.customer_start < 0
    assert s.customer_end is not None and s.customer_end > 0
    assert s.customer_change == pytest.approx(s.customer_end - s.customer_start)
    assert s.customer_change is not None and s.customer_change > 1.0
    cust = s.speakers["customer"]
    assert cust.slope > 0
    assert cust.segments[0] is not None and cust.segments[0] < 0
    assert cust.segments[-1] is not None and cust.segments[-1] > 0
    assert [ts.turn_index for ts in s.turns] == [0, 1, 2, 3, 4]


def test_customer_trend_ja_gets_worse():
    t = call(
        [
            turn("customer", 0, 10, "先日はご丁寧に対応していただき助かりました。"),
            turn("operator", 10, 20, "ありがとうございます。本日はどのようなご用件でしょうか。"),
            turn(
                "customer", 20, 30, "ところが、また同じ不具合が出て本当に困っています。最悪です。"
            ),
        ],
        language="ja-JP",
    )
    s = analyse_sentiment(t)
    assert s.customer_start is not None and s.customer_start > 0
    assert s.customer_end is not None and s.customer_end < 0
    assert s.customer_change is not None and s.customer_change < 0
    assert s.speakers["customer"].slope < 0


def test_no_customer_means_no_customer_scores():
    s = analyse_sentiment(call([turn("mixed", 0, 5, "hello")], mode="mono"))
    assert s.customer_start is None and s.customer_change is None
    assert "mixed" in s.speakers
    import json

    json.dumps(s.to_dict())
