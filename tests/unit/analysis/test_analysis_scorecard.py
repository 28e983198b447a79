from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from callsight_worker.analysis._text import normalise
from callsight_worker.analysis.scorecard import (
    ScorecardForm,
    default_form,
    evaluate,
    phrase_similarity,
)
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit

OP, CU = "operator", "customer"


def form(*items, language="ja-JP"):
    return ScorecardForm.from_dict({"name": "t", "language": language, "items": list(items)})


def item_result(result, item_id):
    return next(i for i in result.items if i.id == item_id)


# --- normalisation and fuzzy matching ---------------------------------------


def test_normalise_japanese():
    assert normalise("オデンワ、ありがとう御座います！", "ja-JP") == normalise(
        "お電話 ありがとうございます。", "ja-JP"
    )
    assert normalise("確認致します", "ja-JP") == normalise("確認いたします", "ja-JP")
    assert normalise("ＡＢＣ１２３", "ja-JP") == "abc123"


def test_normalise_english():
    assert normalise("  Thank you, for CALLING!! ", "en-US") == "thank you for calling"
    assert normalise("I don't know.", "en-US") == "i dont know"


@pytest.mark.parametrize(
    ("phrase", "said"),
    [
        ("お電話ありがとうございます", "はい、お電話ありがとうございました。"),  # tense
        ("お電話ありがとうございます", "お電話ありがとうござります、ABC社です"),  # archaic form
        ("お電話ありがとうございます", "お電話有難うございます"),  # kanji spelling
        ("お待たせいたしました", "大変お待たせ致しました"),  # 致しました
        ("失礼いたします", "それでは失礼致します。"),
        ("ご本人様確認", "ご本人さま確認のため"),
        ("フルネームでお願い", "フルネームでおねがいします"),
    ],
)
def test_honorific_variants_match(phrase, said):
    score, a, b = phrase_similarity(phrase, said, "ja-JP")
    assert score >= 80, (phrase, said, score)
    assert b > a


@pytest.mark.parametrize(
    ("phrase", "said"),
    [
        ("わかりません", "はい、わかりました。"),
        ("お電話ありがとうございます", "はい"),  # a short turn is not inside a long phrase
        ("了解しました", "承知しました"),
    ],
)
def test_different_phrases_do_not_match(phrase, said):
    assert phrase_similarity(phrase, said, "ja-JP")[0] < 80


def test_evidence_quotes_original_text():
    score, a, b = phrase_similarity(
        "お電話ありがとうございます", "はい、お電話有難う御座います。", "ja-JP"
    )
    assert "はい、お電話有難う御座います。"[a:b] == "お電話有難う御座います"
    assert score == 100


# --- items ------------------------------------------------------------------


def test_required_phrase_window_speaker_and_evidence():
    t = call(
        [
            turn(CU, 0, 2, "もしもし"),
            turn(OP, 2, 6, "はい、お電話ありがとうござります。担当の鈴木と申します。"),
            turn(CU, 6, 10, "お電話ありがとうございます"),  # wrong speaker
            turn(OP, 40, 50, "お電話ありがとうございました。失礼致します。"),
        ],
        language="ja-JP",
        duration=50,
    )
    greeting = {
        "id": "greeting",
        "kind": "required_phrase",
        "stage": "greeting",
        "phrases": ["お電話ありがとうございます"],
        "window": {"first_s": 30},
        "weight": 2,
    }
    closing = {
        "id": "closing",
        "kind": "required_phrase",
        "stage": "closing",
        "phrases": ["失礼いたします"],
        "window": {"last_s": 20},
    }
    late_greeting = {**greeting, "id": "late", "window": {"first_s": 1}}
    r = evaluate(t, form(greeting, closing, late_greeting))
    g = item_result(r, "greeting")
    assert g.passed is True
    [ev] = g.evidence
    assert (ev.turn_index, ev.speaker) == (1, OP)
    assert ev.text == "お電話ありがとうござります"
    assert 2.0 <= ev.start < 3.0  # interpolated inside the turn (no words)
    c = item_result(r, "closing")
    assert c.passed is True and c.evidence[0].turn_index == 3
    assert c.evidence[0].text == "失礼致します"
    assert item_result(r, "late").passed is False  # nothing by the operator in the first 1 s
    assert r.score == pytest.approx(100 * 3 / 5)  # greeting 2 + closing 1 of 5


def test_evidence_time_from_words():
    t = call([turn(OP, 10, 14, "hello thank you for calling acme", words=True)], duration=60)
    f = form(
        {"id": "g", "kind": "required_phrase", "phrases": ["thank you for calling"]},
        language="en-US",
    )
    [ev] = evaluate(t, f).items[0].evidence
    assert ev.start == pytest.approx(t.turns[0].words[1].start)
    assert ev.text == "thank you for calling"


def test_english_fuzzy_required_and_forbidden():
    t = call(
        [
            turn(OP, 0, 5, "Hi, thanks for calling Acme, how can I help?"),
            turn(CU, 5, 10, "I don't know what happened to my bill."),  # customer may say it
            turn(OP, 10, 20, "Sir, please calm down, I'm checking."),
        ]
    )
    f = form(
        {"id": "g", "kind": "required_phrase", "phrases": ["thank you for calling"], "weight": 1},
        {
            "id": "f",
            "kind": "forbidden_phrase",
            "phrases": ["calm down", "I don't know"],
            "weight": 3,
        },
        language="en-US",
    )
    r = evaluate(t, f)
    assert item_result(r, "g").passed is True
    forb = item_result(r, "f")
    assert forb.passed is False
    assert [(e.turn_index, e.speaker, e.text) for e in forb.evidence] == [(2, OP, "calm down")]
    assert r.score == pytest.approx(25.0)


def test_forbidden_phrase_japanese():
    t = call(
        [
            turn(OP, 0, 5, "はい、了解しました。"),
            turn(OP, 5, 10, "かしこまりました。わかりました。"),
            turn(CU, 10, 12, "できませんか？"),
        ],
        language="ja-JP",
    )
    f = form(
        {
            "id": "ng",
            "kind": "forbidden_phrase",
            "phrases": ["了解しました", "わかりません", "できません"],
        }
    )
    res = evaluate(t, f).items[0]
    assert res.passed is False
    assert [e.turn_index for e in res.evidence] == [
        0
    ]  # わかりました ≠ わかりません; customer ignored
    clean = call([turn(OP, 0, 5, "かしこまりました。承知いたしました。")], language="ja-JP")
    assert evaluate(clean, f).items[0].passed is True


def test_max_silence_and_talk_share():
    t = call([turn(OP, 0, 30), turn(CU, 42, 50)], duration=50)
    f = form(
        {"id": "s", "kind": "max_silence_s", "limit": 10, "weight": 1},
        {"id": "s15", "kind": "max_silence_s", "limit": 15, "weight": 1},
        {"id": "share", "kind": "max_operator_talk_share", "limit": 0.65, "weight": 2},
        {"id": "share80", "kind": "max_operator_talk_share", "limit": 0.8, "weight": 1},
    )
    r = evaluate(t, f)
    s = item_result(r, "s")
    assert s.passed is False and s.evidence[0].start == 30
    assert item_result(r, "s15").passed is True
    assert item_result(r, "share").passed is False  # 30 / 38 = 79%
    assert item_result(r, "share80").passed is True
    assert r.score == pytest.approx(100 * 2 / 5)


def test_verdicts_are_plain_booleans_when_times_are_numpy_floats():
    # a worker stores the card as JSON: numpy's bool would fail it ("Object of type bool is not
    # JSON serializable", a Failed call)
    f64 = np.float64
    t = call([turn(OP, f64(0), f64(30)), turn(CU, f64(42), f64(50))], duration=f64(50))
    r = evaluate(t, form({"id": "s", "kind": "max_silence_s", "limit": 10, "weight": 1},
                         {"id": "share", "kind": "max_operator_talk_share", "limit": 0.65, "weight": 1}))
    assert [type(i.passed) for i in r.items] == [bool, bool]
    json.dumps(r.to_dict())


def test_talk_share_not_applicable_on_mono_is_left_out_of_score():
    t = call([turn("mixed", 0, 30, "お電話ありがとうございます")], language="ja-JP", mode="mono")
    f = form(
        {"id": "g", "kind": "required_phrase", "phrases": ["お電話ありがとうございます"]},
        {"id": "share", "kind": "max_operator_talk_share", "limit": 0.5, "weight": 5},
    )
    r = evaluate(t, f)
    assert item_result(r, "g").passed is True  # mixed speaker may be the operator
    assert item_result(r, "share").passed is None
    assert r.score == 100.0


def test_weighting():
    t = call([turn(OP, 0, 5, "hello")], language="en-US")
    f = form(
        {"id": "a", "kind": "required_phrase", "phrases": ["hello"], "weight": 3},
        {"id": "b", "kind": "required_phrase", "phrases": ["goodbye"], "weight": 1},
        {"id": "c", "kind": "forbidden_phrase", "phrases": ["whatever"], "weight": 6},
        language="en-US",
    )
    assert evaluate(t, f).score == pytest.approx(90.0)


def test_form_from_json_validation_and_fingerprint():
    raw: dict[str, Any] = {
        "name": "acme",
        "language": "en-US",
        "items": [{"id": "g", "kind": "required_phrase", "alternatives": "hello", "weight": 2}],
    }
    f = ScorecardForm.from_json(json.dumps(raw))
    assert f.items[0].phrases == ("hello",)
    assert ScorecardForm.from_dict(f.to_dict()) == f
    changed = {**raw, "items": [{**raw["items"][0], "weight": 3}]}
    assert ScorecardForm.from_dict(changed).fingerprint != f.fingerprint
    with pytest.raises(ValueError, match="unknown kind"):
        ScorecardForm.from_dict({"items": [{"id": "x", "kind": "nope"}]})
    with pytest.raises(ValueError, match="needs phrases"):
        ScorecardForm.from_dict({"items": [{"id": "x", "kind": "required_phrase"}]})
    with pytest.raises(ValueError, match="needs a limit"):
        ScorecardForm.from_dict({"items": [{"id": "x", "kind": "max_silence_s"}]})


def test_default_forms_on_good_calls():
    ja = call(
        [
            turn(OP, 0.5, 6, "お電話ありがとうございます。ABC株式会社、担当の佐藤と申します。"),
            turn(CU, 6.5, 10, "請求書の件で電話しました。"),
            turn(OP, 10.5, 16, "恐れ入りますが、ご本人様確認のため生年月日をお伺いできますか。"),
            turn(CU, 16.5, 20, "一九八〇年一月一日です。"),
            turn(
                OP, 20.5, 30, "ありがとうございます。確認いたしました。請求額は五千円でございます。"
            ),
            turn(CU, 30.5, 38, "分かりました。ありがとうございます。助かりました。"),
            turn(OP, 38.5, 44, "お電話ありがとうございました。失礼いたします。"),
        ],
        language="ja-JP",
        duration=45,
    )
    r = evaluate(ja, default_form("ja-JP"))
    assert r.score == 100.0, [(i.id, i.detail) for i in r.items if not i.passed]
    en = call(
        [
            turn(OP, 0.5, 5, "Thank you for calling Acme, my name is Dana. How can I help you?"),
            turn(CU, 5.5, 9, "Hi, I have a question about my bill."),
            turn(OP, 9.5, 14, "Sure. Can you confirm your date of birth for me?"),
            turn(CU, 14.5, 17, "It's January first, nineteen eighty."),
            turn(OP, 17.5, 25, "Thanks. Your balance is fifty dollars, due next week."),
            turn(CU, 25.5, 33, "Great, that's all I needed, I'll pay it next week. Thank you."),
            turn(OP, 33.5, 38, "Is there anything else I can help with? Have a great day."),
        ],
        duration=39,
    )
    r = evaluate(en, default_form("en-US"))
    assert r.score == 100.0, [(i.id, i.detail) for i in r.items if not i.passed]
    json.dumps(r.to_dict(), ensure_ascii=False)
