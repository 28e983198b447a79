"""What the pages fetch: the dashboard's JSON and event stream, a call's recording.

The recording is streamed from S3 (one HTTP range, what <audio> asks for); the call it
belongs to is read over gRPC like everything else the gateway does not own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from flask import Blueprint, Response, jsonify, request, stream_with_context
from flask.typing import ResponseReturnValue

from callsight.storage import StorageUnavailable, audio_key
from callsight_upload.core import audit, sessions
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.sniff import CONTENT_TYPES
from callsight_upload.web.common import filters_from_args, page_error
from callsight_upload.web.i18n import translate
from callsight_upload.web.pages import dashboard_state

bp = Blueprint("web_data", __name__, url_prefix="/web")
bp.register_error_handler(ApiError, page_error)
# one range only: what <audio> asks for; anything else gets the whole object
RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")
CHUNK = 64 * 1024


@bp.get("/dashboard.json")
@sessions.login_required
def dashboard_json() -> ResponseReturnValue:
    state = dashboard_state(sessions.signed_in_user().org_id, filters_from_args())
    for call in state["calls"]:
        call["status_label"] = translate(call["status"])
    return jsonify(state)


@bp.get("/events")
@sessions.login_required
def events() -> ResponseReturnValue:
    """The organisation's live call events (Server-Sent Events): status changes and
    progress, from the process's one stream per organisation (core/live.py)."""
    svc = connections()
    stream = svc.live.sse(sessions.signed_in_user().org_id, svc.settings.sse_heartbeat_s, svc.settings.sse_max_s)
    return Response(stream, mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/calls/<call_id>/audio")
@sessions.login_required
def audio(call_id: str) -> ResponseReturnValue:
    call = connections().reads.get_call(sessions.signed_in_user().org_id, call_id)
    if call.HasField("audio_deleted_at"):
        raise ApiError(410, "recording_deleted", "the recording was removed by the organisation's retention policy")
    wanted = request.headers.get("Range", "").strip()
    matched = RANGE.match(wanted)
    if matched and int(matched.group(1)) >= call.size_bytes:
        return Response(status=416, headers={"Content-Range": f"bytes */{call.size_bytes}"})
    byte_range = wanted if matched else None
    # one playback is many range requests (buffering, seeking): one entry per person and window
    audit.record("played", call.call_id, call.uid, once_per_s=audit.PLAYBACK_WINDOW_S)
    try:
        # a status cached before the contract carried audio_key: the gateway's own key scheme
        body, obj = connections().audio.open(call.audio_key or audio_key(call.org_id, call.uid), byte_range)
    except StorageUnavailable:
        raise ApiError(503, "storage_unavailable", "recording storage is unavailable right now") from None
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(obj["ContentLength"]),
        "Content-Type": CONTENT_TYPES.get(call.audio_format, "application/octet-stream"),
        "Cache-Control": "private, max-age=300",
    }
    status = 200
    if byte_range and obj.get("ContentRange"):
        headers["Content-Range"] = obj["ContentRange"]
        status = 206

    def chunks() -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    return Response(stream_with_context(chunks()), status=status, headers=headers, direct_passthrough=True)
