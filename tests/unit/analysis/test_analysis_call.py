from __future__ import annotations

import json

import pytest

from callsight_worker.analysis import ANALYSIS_VERSION, analyse_call
from callsight_worker.analysis.scorecard import DEFAULT_FORM_EN
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit

OP, CU = "operator", "customer"

KEYS = {
    "analysis_version", "language", "speaker_mode", "duration_s", "config", "metrics",
    "sentiment", "summary", "keywords", "pii", "scorecard",
}  # fmt: skip


def en_call():
    return call(
        [
            turn(
                OP, 0.5, 5, "Thank you for calling Acme, my name is Dana. How can I help you?", True
            ),
            turn(CU, 5.5, 12, "I was charged twice this month and I'm really annoyed.", True),
            turn(OP, 12.5, 18, "I'm sorry. Can you confirm your date of birth for me?", True),
            turn(CU, 18.5, 26, "Sure. My card is 4111 1111 1111 1111 if you need it.", True),
            turn(OP, 26.5, 34, "Thanks, I have refunded the duplicate charge to that card.", True),
            turn(CU, 34.5, 40, "Great, thank you so much, that's really helpful.", True),
            turn(OP, 40.5, 45, "Is there anything else I can help with? Have a great day.", True),
        ],
        duration=46,
    )


def test_analyse_call_keys_and_json():
    r = analyse_call(en_call())
    assert set(r) == KEYS
    assert r["analysis_version"] == ANALYSIS_VERSION
    json.dumps(r)
    assert r["metrics"]["speakers"][OP]["turns"] == 4
    assert r["sentiment"]["customer_change"] > 0
    assert r["summary"]["method"] == "extractive"
    assert r["summary"]["key_sentences"][CU]
    assert r["keywords"]
    assert r["pii"]["redacted"] is False and r["pii"]["counts"] == {"CARD": 1}
    assert r["scorecard"]["form"]["name"] == "default-en"
    assert r["config"]["form"]["fingerprint"] == r["scorecard"]["form"]["fingerprint"]


def test_analyse_call_redacted_never_leaks_card():
    r = analyse_call(en_call(), redact=True)
    assert set(r) == KEYS | {"redacted_transcript"}
    assert r["pii"]["redacted"] is True
    dumped = json.dumps(r)
    assert "4111" not in dumped
    assert "[CARD]" in r["redacted_transcript"]["turns"][3]["text"]
    assert any(w["text"].strip() == "[CARD]" for w in r["redacted_transcript"]["turns"][3]["words"])
    f = r["pii"]["findings"][0]
    assert (f["type"], f["turn_index"]) == ("CARD", 3)


def test_analyse_call_with_custom_form_dict():
    form = {**DEFAULT_FORM_EN, "name": "acme", "version": "7"}
    r = analyse_call(en_call(), form=form)
    assert r["scorecard"]["form"]["name"] == "acme" and r["scorecard"]["form"]["version"] == "7"
    assert r["scorecard"]["score"] == 100.0


def test_analyse_call_japanese_mono():
    t = call(
        [
            turn("mixed", 0, 5, "お電話ありがとうございます。担当の田中と申します。"),
            turn("mixed", 6, 12, "解約の手続きについて聞きたいのですが。"),
            turn("mixed", 13, 20, "かしこまりました。お電話ありがとうございました。"),
        ],
        language="ja-JP",
        mode="mono",
    )
    r = analyse_call(t)
    json.dumps(r, ensure_ascii=False)
    assert r["metrics"]["speakers"]["mixed"]["rate_unit"] == "cpm"
    assert r["scorecard"]["form"]["name"] == "default-ja"
    talk_share = next(i for i in r["scorecard"]["items"] if i["id"] == "talk_share")
    assert talk_share["passed"] is None
    assert r["sentiment"]["customer_start"] is None
