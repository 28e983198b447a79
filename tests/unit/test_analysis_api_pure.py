"""The gateway's validation of QA forms and re-run filters (pure)."""

from __future__ import annotations

import datetime as dt

import pytest

from callsight_upload.api.analysis import rerun_scope
from callsight_upload.core.errors import ApiError
from callsight_upload.core.qa_forms import validated_form

pytestmark = pytest.mark.unit

GOOD = {"name": "acme", "language": "en-US", "items": [
    {"id": "hello", "kind": "required_phrase", "phrases": ["thank you for calling"], "weight": 2},
    {"id": "quiet", "kind": "max_silence_s", "limit": 10},
]}


def test_a_good_form_is_stored_in_its_canonical_shape() -> None:
    form = validated_form(GOOD)
    assert [i["id"] for i in form["items"]] == ["hello", "quiet"]
    assert form["items"][0]["phrases"] == ["thank you for calling"]


@pytest.mark.parametrize(("body", "message"), [
    ([1, 2], "JSON object"),
    ({"name": "x"}, "non-empty list 'items'"),
    ({"items": ["greeting"]}, "each item must be a JSON object"),
    ({"items": [{"id": "a", "kind": "shout"}]}, "unknown kind 'shout'"),
    ({"items": [{"id": "a", "kind": "required_phrase"}]}, "needs phrases"),
    ({"items": [{"id": "a", "kind": "max_silence_s"}]}, "needs a limit"),
    ({"items": [{"id": "a", "kind": "max_silence_s", "limit": "ten"}]}, "not valid"),
    ({"items": [{"id": "a", "kind": "max_silence_s", "limit": 1}] * 2}, "unique"),
])
def test_a_bad_form_says_what_is_wrong(body: object, message: str) -> None:
    with pytest.raises(ApiError) as err:
        validated_form(body)
    assert err.value.status == 400 and message in err.value.message


def test_rerun_filters_are_read_and_checked() -> None:
    scope, operator = rerun_scope({"department": "sales", "operator_id": "op-1", "date_from": "2026-01-01",
                                   "status": "Done"}, "org")
    assert (scope.org_id, scope.department, scope.date_from, operator) == ("org", "sales", dt.date(2026, 1, 1), "op-1")


@pytest.mark.parametrize(("filters", "message"), [
    ({"date_from": "yesterday"}, "date_from must be a date"),
    ({"date_from": "2026-02-01", "date_to": "2026-01-01"}, "must not be after"),
    ({"status": "Failed"}, "only Done calls"),
    ({"colour": "red"}, "unknown filters"),
    ("sales", "JSON object"),
])
def test_bad_rerun_filters_are_refused(filters: object, message: str) -> None:
    with pytest.raises(ApiError) as err:
        rerun_scope(filters, "org")
    assert err.value.status == 400 and message in err.value.message
