"""The organisation's QA evaluation form: read it, replace it (validated), or go back to the default."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.qa_form import ScorecardForm, default_form
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.qa_forms import validated_form

bp = Blueprint("qa_form", __name__, url_prefix="/api/settings")

def _form_json(org_form: dict[str, Any] | None, language: str) -> dict[str, Any]:
    form = ScorecardForm.from_dict(org_form) if org_form else default_form(language)
    return {"is_default": org_form is None, "fingerprint": form.fingerprint, "form": form.to_dict()}


@bp.get("/qa-form")
@require_scope("admin")
def get_qa_form() -> ResponseReturnValue:
    org = current_org()
    return jsonify(_form_json(org.qa_form, org.default_language))


@bp.put("/qa-form")
@require_scope("admin")
def put_qa_form() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    form = None if body == {"default": True} else validated_form(body)
    org = connections().orgs.set_qa_form(current_org().id, form)
    if org is None:
        raise ApiError(404, "not_found", "the organisation no longer exists")
    return jsonify(_form_json(org.qa_form, org.default_language))
