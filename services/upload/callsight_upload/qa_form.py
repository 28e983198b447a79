"""The organisation's QA evaluation form: read it, replace it (validated), or go back to the default."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request

from callsight.qa_form import ScorecardForm, default_form
from callsight_upload.auth import require_api_key, services
from callsight_upload.errors import ApiError
from callsight_upload.validation import reject_nul_in_json

bp = Blueprint("qa_form", __name__)

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


def _form_json(org_form: dict[str, Any] | None, language: str) -> dict[str, Any]:
    form = ScorecardForm.from_dict(org_form) if org_form else default_form(language)
    return {"is_default": org_form is None, "fingerprint": form.fingerprint, "form": form.to_dict()}


@bp.get("/api/settings/qa-form")
@require_api_key
def get_qa_form():  # type: ignore[no-untyped-def]
    return jsonify(_form_json(g.org.qa_form, g.org.default_language))


@bp.put("/api/settings/qa-form")
@require_api_key
def put_qa_form():  # type: ignore[no-untyped-def]
    body = request.get_json(silent=True)
    form = None if body == {"default": True} else validated_form(body)
    org = services().orgs.set_qa_form(g.org.id, form)
    return jsonify(_form_json(org.qa_form, org.default_language))
