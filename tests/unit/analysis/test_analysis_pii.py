from __future__ import annotations

import pytest

from callsight_worker.analysis.pii import (
    CARD,
    EMAIL,
    NUMBER,
    PHONE,
    find_pii,
    luhn_ok,
    redact_text,
    redact_transcript,
)
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit


def redacted(text: str, language: str = "en-US") -> str:
    return redact_text(text, find_pii(text, language))


def test_luhn():
    assert luhn_ok("4111111111111111")
    assert luhn_ok("5500005555555559")
    assert not luhn_ok("4111111111111112")


@pytest.mark.parametrize(
    "number", ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111111111111111", "378282246310005"]
)
def test_card_numbers_luhn_valid_are_redacted(number):
    assert (
        redacted(f"my card is {number}, expiry next year") == "my card is [CARD], expiry next year"
    )


@pytest.mark.parametrize(
    "number", ["4111 1111 1111 1112", "1234567890123456", "1234-5678-9012-3456"]
)
def test_luhn_invalid_numbers_stay(number):
    text = f"your order number is {number} ok"
    assert redacted(text) == text
    assert redacted(f"注文番号は{number}です", "ja-JP") == f"注文番号は{number}です"


@pytest.mark.parametrize(
    "phone",
    [
        "03-1234-5678",
        "090-1234-5678",
        "0120-123-456",
        "0312345678",
        "+81 90-1234-5678",
        "+81-3-1234-5678",
        "０９０－１２３４－５６７８",
    ],
)
def test_japanese_phones(phone):
    assert redacted(f"電話番号は{phone}です", "ja-JP") == "電話番号は[PHONE]です"


@pytest.mark.parametrize(
    "phone", ["(555) 123-4567", "555-123-4567", "555.123.4567", "+1 555 123 4567", "1-555-123-4567"]
)
def test_us_phones(phone):
    assert redacted(f"call me back on {phone} please") == "call me back on [PHONE] please"


def test_not_phones():
    for text in ["the date is 2024-01-15 at 10:30", "it costs 1,280 yen", "order 12345"]:
        assert redacted(text) == text


def test_email():
    assert redacted("it's john.doe+bills@example.co.uk thanks") == "it's [EMAIL] thanks"
    assert redacted("メールはtaro.yamada@example.jpです", "ja-JP") == "メールは[EMAIL]です"


def test_spoken_digits_english():
    assert redacted("it's four five six seven eight nine zero one") == "it's [NUMBER]"
    assert redacted("account double seven three, four five six one.") == "account [NUMBER]."
    # a spoken card number that passes Luhn is a card
    spoken_card = " ".join(["four"] + ["one"] * 15)
    assert redacted(f"card {spoken_card} thanks") == "card [CARD] thanks"
    # a spoken phone number
    assert redacted("five five five one two three four five six seven") == "[PHONE]"


def test_short_spoken_numbers_and_ordinary_words_stay():
    for text in [
        "I have two kids and one dog",
        "give me one or two days",
        "it was three four years",
    ]:
        assert redacted(text) == text


def test_spoken_digits_japanese():
    assert redacted("口座番号はいちにさんよんごろくななです", "ja-JP") == "口座番号は[NUMBER]です"
    assert (
        redacted("番号はゼロきゅうゼロのいちにさんよんのごろくななはちです", "ja-JP")
        == "番号は[PHONE]です"
    )
    assert redacted("会員番号はイチ、ニ、サン、ヨン、ゴ、ロク、ナナ、ハチです", "ja-JP") == (
        "会員番号は[NUMBER]です"
    )
    assert redacted("カードは４１１１１１１１１１１１１１１１です", "ja-JP") == "カードは[CARD]です"


def test_japanese_ordinary_text_stays():
    for text in [
        "三日にご連絡します",
        "にさん日で届きます",
        "一時間ほどお待ちください",
        "ご確認ください",
    ]:
        assert redacted(text, "ja-JP") == text


def test_redact_transcript_text_words_and_findings():
    t = call(
        [
            turn("operator", 0, 3, "May I have your card number?", words=True),
            turn(
                "customer",
                3,
                10,
                "Sure it is 4111 1111 1111 1111 and my email is a@b.com",
                words=True,
            ),
        ]
    )
    red, findings = redact_transcript(t)
    assert red.turns[1].text == "Sure it is [CARD] and my email is [EMAIL]"
    assert [w.text.strip() for w in red.turns[1].words] == [
        "Sure",
        "it",
        "is",
        "[CARD]",
        "and",
        "my",
        "email",
        "is",
        "[EMAIL]",
    ]
    card_word = red.turns[1].words[3]
    assert card_word.start == pytest.approx(t.turns[1].words[3].start)
    assert card_word.end == pytest.approx(t.turns[1].words[6].end)
    assert [(f.type, f.turn_index) for f in findings] == [(CARD, 1), (EMAIL, 1)]
    f = findings[0]
    assert t.turns[1].text[f.start : f.end] == "4111 1111 1111 1111"
    assert f.time == pytest.approx(t.turns[1].words[3].start)
    # the input is untouched and clean turns are the same objects
    assert "4111" in t.turns[1].text
    assert red.turns[0] is t.turns[0]


def test_types():
    kinds = {f.type for f in find_pii("a@b.co、090-1234-5678、4111111111111111", "ja-JP")}
    assert kinds == {EMAIL, PHONE, CARD}
    assert NUMBER not in kinds
