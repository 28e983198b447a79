"""The organisation's custom vocabulary: product names and terms the engines should prefer.

`GET /api/settings/vocabulary` lists the terms; `PUT` replaces the whole list (an empty
list clears it). Rules in `callsight.vocabulary`; the worker passes the terms of a call's
language to the engine (Whisper hotwords, AmiVoice profile words).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.vocabulary import MAX_TERMS, VocabularyError, parse_terms
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError

bp = Blueprint("vocabulary", __name__, url_prefix="/api/settings")


@bp.get("/vocabulary")
@require_scope("admin")
def get_vocabulary() -> ResponseReturnValue:
    return jsonify({"terms": current_org().vocabulary or [], "max_terms": MAX_TERMS})


@bp.put("/vocabulary")
@require_scope("admin")
def put_vocabulary() -> ResponseReturnValue:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or "terms" not in body:
        raise ApiError(400, "invalid_vocabulary",
                       'send {"terms": [{"text": "Callsight", "reading": null, "language": "en-US"}, ...]}')
    try:
        terms = parse_terms(body["terms"])
    except VocabularyError as exc:
        raise ApiError(400, "invalid_vocabulary", str(exc)) from None
    org = connections().orgs.set_vocabulary(current_org().id, terms)
    return jsonify({"terms": org.vocabulary if org else terms, "max_terms": MAX_TERMS})
