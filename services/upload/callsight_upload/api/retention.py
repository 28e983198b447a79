"""The organisation's retention over the API (administrators): days to keep recordings,
and transcripts with their analyses, after upload; 0 keeps them forever. The lifecycle
worker's reaper deletes what is older (docs/lifecycle.md)."""

from __future__ import annotations

from flask import Blueprint, jsonify
from flask.typing import ResponseReturnValue

from callsight.db.records import OrgRecord
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.specs import json_object, retention_spec

bp = Blueprint("retention", __name__, url_prefix="/api/settings")


def retention_json(org: OrgRecord) -> dict[str, int]:
    return {"audio_days": org.audio_retention_days, "transcript_days": org.transcript_retention_days}


@bp.get("/retention")
@require_scope("admin")
def get_retention() -> ResponseReturnValue:
    return jsonify(retention_json(current_org()))


@bp.put("/retention")
@require_scope("admin")
def put_retention() -> ResponseReturnValue:
    spec = retention_spec(json_object("invalid_retention", '{"audio_days": 90, "transcript_days": 365}'))
    org = connections().orgs.set_retention(current_org().id, spec.audio_days, spec.transcript_days)
    return jsonify(retention_json(org or current_org()))
