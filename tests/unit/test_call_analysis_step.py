"""The worker's analysis step and the figures copied out of an analysis (pure)."""

from __future__ import annotations

import pytest

from callsight.db.analyses_repo import denormalise
from callsight.qa_form import ScorecardForm
from callsight_worker.call_analysis import analyse_for_storage
from callsight_worker.transcript import Transcript
from tests.unit.analysis.analysis_builders import call, turn

pytestmark = pytest.mark.unit

CARD = "4111 1111 1111 1111"


def _en_call() -> Transcript:
    return call([
        turn("operator", 0, 4, "Thank you for calling, my name is Ann."),
        turn("customer", 5, 9, f"My card is {CARD} and I am unhappy."),
        turn("operator", 13, 16, "Thank you, goodbye."),
    ])


def test_analysis_runs_with_the_default_form_when_the_org_has_none() -> None:
    done = analyse_for_storage(_en_call(), None, redact=False, analyse=True)
    assert done.error is None and done.result is not None
    assert done.result["config"]["form"]["name"] == "default-en"
    assert done.transcript.turns[1].text.endswith("I am unhappy.") and CARD in done.transcript.turns[1].text


def test_redaction_masks_the_transcript_to_store_and_keeps_no_copy_in_the_result() -> None:
    done = analyse_for_storage(_en_call(), None, redact=True, analyse=True)
    assert CARD not in done.transcript.turns[1].text and "[CARD]" in done.transcript.turns[1].text
    assert done.result is not None and "redacted_transcript" not in done.result
    assert done.result["pii"]["counts"] == {"CARD": 1}
    assert CARD not in str(done.result)


def test_redaction_applies_even_when_analytics_are_off() -> None:
    done = analyse_for_storage(_en_call(), None, redact=True, analyse=False)
    assert done.result is None and done.error is None
    assert "[CARD]" in done.transcript.turns[1].text


def test_a_failing_analysis_keeps_the_transcript_and_reports_why() -> None:
    bad_form = {"name": "x", "items": [{"id": "a", "kind": "no_such_rule"}]}
    done = analyse_for_storage(_en_call(), bad_form, redact=True, analyse=True)
    assert done.result is None
    assert done.error is not None and "no_such_rule" in done.error
    assert "[CARD]" in done.transcript.turns[1].text  # still redacted


def test_japanese_call_is_scored_with_the_japanese_default_form() -> None:
    ja = call([
        turn("operator", 0, 4, "お電話ありがとうございます。サポート窓口の山田でございます。"),
        turn("customer", 4.5, 8, "請求について聞きたいのですが。"),
        turn("operator", 9, 12, "恐れ入りますが、お名前を頂戴できますでしょうか。"),
        turn("operator", 20, 23, "お電話ありがとうございました。失礼いたします。"),
    ], language="ja-JP")
    done = analyse_for_storage(ja, None, redact=False, analyse=True)
    assert done.result is not None
    card = done.result["scorecard"]
    assert card["form"]["name"] == "default-ja"
    by_id = {i["id"]: i["passed"] for i in card["items"]}
    assert by_id["greeting"] is True and by_id["closing"] is True
    assert done.result["metrics"]["speakers"]["operator"]["rate_unit"] == "cpm"


def test_a_stored_transcript_reads_back_equal() -> None:
    t = _en_call()
    assert Transcript.from_dict(t.to_dict()).to_dict() == t.to_dict()


def test_denormalised_figures_come_from_the_result() -> None:
    result = analyse_for_storage(_en_call(), None, redact=False, analyse=True).result
    assert result is not None
    figures = denormalise(result)
    assert figures["qa_score"] == result["scorecard"]["score"]
    assert figures["operator_talk_share"] == result["metrics"]["speakers"]["operator"]["talk_share"]
    assert figures["silence_total_s"] == 4  # 9 -> 13 s is the only gap of 3 s or more
    assert figures["longest_silence_s"] == 4
    assert figures["interruptions"] == 0
    assert figures["customer_sentiment_change"] == result["sentiment"]["customer_change"]
    assert set(figures["qa_items"]) == {i["id"] for i in result["scorecard"]["items"]}


def test_denormalise_tolerates_an_empty_result() -> None:
    assert denormalise({})["qa_score"] is None and denormalise({})["qa_items"] is None


def test_the_shared_form_loader_rejects_a_bad_item_with_its_id() -> None:
    with pytest.raises(ValueError, match="'closing'.*needs phrases"):
        ScorecardForm.from_dict({"items": [{"id": "closing", "kind": "required_phrase"}]})
