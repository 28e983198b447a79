"""The web app's main pages: home, upload and the live dashboard.

The dashboard is fed by Server-Sent Events (`web/data.py`) and falls back to polling
`/web/dashboard.json` every 5 s when the event stream is unavailable.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask.typing import ResponseReturnValue

from callsight_upload.core import sessions
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.web.common import STATUSES, filters_from_args, list_request, page_call, page_error
from callsight_upload.web.i18n import translate

PROGRESS_STEPS = ("download", "decode", "speech_activity", "language", "transcribe", "analyse", "store")

bp = Blueprint("pages", __name__)
bp.register_error_handler(ApiError, page_error)


def dashboard_state(org_id: str, f: dict[str, str]) -> dict[str, Any]:
    reads = connections().reads
    counts = {}
    for status in STATUSES:
        if f.get("status") and f["status"] != status:
            counts[status] = 0
            continue
        counts[status] = reads.list_calls(list_request(org_id, f, 1, status=status)).total_count
    latest = reads.list_calls(list_request(org_id, f, 20)).calls
    return {"counts": counts, "calls": [page_call(c) for c in latest]}


@bp.get("/")
@sessions.login_required
def home() -> ResponseReturnValue:
    return redirect(url_for("pages.dashboard"))


@bp.get("/upload")
@sessions.login_required
def upload() -> ResponseReturnValue:
    found = connections()
    return render_template("upload.html", max_bytes=found.settings.max_upload_bytes,
                           org=found.orgs.get(sessions.signed_in_user().org_id), live_labels=live_labels())


@bp.get("/dashboard")
@sessions.login_required
def dashboard() -> ResponseReturnValue:
    f = filters_from_args()
    state = dashboard_state(sessions.signed_in_user().org_id, f)
    return render_template("dashboard.html", filters=f, state=state, labels=live_labels())


def live_labels() -> dict[str, str]:
    """What the page's script writes in the user's language: statuses, steps, the ETA."""
    keys = [*STATUSES, "eta_left", "eta_estimating", *(f"step_{s}" for s in PROGRESS_STEPS)]
    return {key: translate(key) for key in keys}
