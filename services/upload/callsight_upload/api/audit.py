"""The audit log over the API (administrators): who viewed, played, exported, re-analysed,
retried or deleted which call, when and from where; newest first, filtered, in pages."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request, url_for
from flask.typing import ResponseReturnValue

from callsight_upload.core.admin_json import audit_json
from callsight_upload.core.args import int_arg
from callsight_upload.core.audit_query import audit_filter, before_id
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections

bp = Blueprint("audit", __name__, url_prefix="/api/audit")


@bp.get("")
@require_scope("admin")
def list_audit() -> ResponseReturnValue:
    page = connections().audit.list(current_org().id, audit_filter(), int_arg("limit", 50, 1, 500), before_id())
    next_url = None
    if page.next_before_id is not None:
        kept: dict[str, Any] = {k: v for k, v in request.args.items(multi=False) if k != "before_id"}
        next_url = url_for("audit.list_audit", **kept, before_id=page.next_before_id)
    return jsonify({"entries": [audit_json(e) for e in page.entries], "next_url": next_url})
