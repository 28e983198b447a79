"""The audit log page (administrators): who viewed, played, exported, re-analysed, retried
or deleted which call, when and from where; filtered by call, person or key, action and
time, newest first, a page at a time."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.db.schema import AUDIT_ACTIONS
from callsight_upload.core import sessions
from callsight_upload.core.admin_json import audit_json
from callsight_upload.core.audit_query import audit_filter, before_id
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.web.common import page_error

bp = Blueprint("web_audit", __name__, url_prefix="/audit")
bp.register_error_handler(ApiError, page_error)
PAGE = 50
FIELDS = ("call_id", "actor", "action", "since", "until")


@bp.get("")
@sessions.admin_required
def audit_log() -> ResponseReturnValue:
    page = connections().audit.list(sessions.signed_in_user().org_id, audit_filter(), PAGE, before_id())
    kept: dict[str, Any] = {k: request.args.get(k, "").strip() for k in FIELDS if request.args.get(k, "").strip()}
    older = url_for("web_audit.audit_log", **kept, before_id=page.next_before_id) if page.next_before_id else None
    newest = url_for("web_audit.audit_log", **kept) if request.args.get("before_id") else None
    return render_template("audit.html", entries=[audit_json(e) for e in page.entries], filters=kept,
                           actions=AUDIT_ACTIONS, older_url=older, newest_url=newest)
