"""Validation of an organisation's QA form, shared by the API and the Settings page."""

from __future__ import annotations

from typing import Any

from callsight.qa_form import ScorecardForm
from callsight_upload.core.errors import ApiError
from callsight_upload.core.validation import reject_nul_in_json

MAX_ITEMS = 100


def validated_form(body: Any) -> dict[str, Any]:
    """The form as it will be stored, or a 400 that says what is wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_form", "send the form as a JSON object with 'name', 'language' and 'items'")
    reject_nul_in_json(body, "invalid_form")
    items = body.get("items")
    if not isinstance(items, list) or not items:
        raise ApiError(400, "invalid_form", "the form needs a non-empty list 'items'")
    if len(items) > MAX_ITEMS:
        raise ApiError(400, "invalid_form", f"the form has {len(items)} items; at most {MAX_ITEMS}")
    if not all(isinstance(i, dict) for i in items):
        raise ApiError(400, "invalid_form", "each item must be a JSON object")
    try:
        form = ScorecardForm.from_dict(body)
    except (ValueError, TypeError) as exc:
        raise ApiError(400, "invalid_form", f"the QA form is not valid: {exc}") from None
    return form.to_dict()
