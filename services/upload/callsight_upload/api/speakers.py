"""REST API over a call's speakers: how operator and customer were told apart, and a
supervisor's correction of a mono call whose voices got the wrong roles.

A correction names the voice that is the operator (or asks to swap the two voices). It is
one job on the analysis queue: the analysis workers, which own transcripts and analyses,
rename the transcript's turns and analyse the call again, so metrics, QA and scorecards
follow the new roles. The job names the voice, so a redelivered job changes nothing twice.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, g, jsonify, request
from flask.typing import ResponseReturnValue
from google.protobuf.json_format import MessageToDict

from callsight.convert import STATUS_TO_PROTO
from callsight.enqueue import analysis_job
from callsight.jobqueue import QueueUnavailable
from callsight.telemetry import inject
from callsight.v1 import calls_pb2
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.serialize import call_json
from callsight_upload.core.sessions import current_user

bp = Blueprint("speakers", __name__, url_prefix="/api/calls/<call_id>/speakers")


def speakers_of(call: calls_pb2.Call) -> dict[str, Any] | None:
    return MessageToDict(call.speakers) if call.HasField("speakers") else None


@bp.get("")
@require_scope("read")
def get_speakers(call_id: str) -> ResponseReturnValue:
    call = connections().reads.get_call(current_org().id, call_id)
    return jsonify({"call_id": call_id, "speakers": speakers_of(call)})


def _requested_voice(body: Any, speakers: dict[str, Any]) -> str:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_request", 'send a JSON object: {"swap": true} or {"operator_voice": "B"}')
    voices = [str(v.get("voice")) for v in speakers.get("voices") or []]
    if "operator_voice" in body:
        voice = body["operator_voice"]
        if not isinstance(voice, str) or voice not in voices:
            raise ApiError(400, "invalid_voice", f"operator_voice must be one of this call's voices: {', '.join(voices)}")
        return voice
    if body.get("swap") is True:
        if len(voices) != 2:
            raise ApiError(400, "invalid_request", f"swap needs two voices (this call has {len(voices)}); "
                                                   "name the operator's with operator_voice")
        current = speakers.get("operator_voice")
        return next(v for v in voices if v != current)
    raise ApiError(400, "invalid_request", 'send {"swap": true} or {"operator_voice": "B"}')


@bp.post("")
@require_scope("ingest")  # a supervisor's correction, like a retry: not an administrator's
def set_speakers(call_id: str) -> ResponseReturnValue:
    found = connections()
    org = current_org()
    call = found.reads.get_call(org.id, call_id)  # 404 when there is no such call
    if call.status != STATUS_TO_PROTO["Done"]:
        raise ApiError(409, "not_ready", f"only a Done call's roles can be changed (status {call_json(call)['status']})")
    speakers = speakers_of(call) or {}
    if speakers.get("method") != "diarization" or not speakers.get("separated"):
        why = ("its operator and customer come from the recording's two channels (set operator_channel on upload)"
               if speakers.get("method") == "channels" else
               "its voices were not told apart, so there are no roles to swap")
        raise ApiError(409, "roles_not_swappable", f"this call's roles cannot be swapped: {why}")
    voice = _requested_voice(request.get_json(silent=True), speakers)
    user = current_user()
    by = user.email if user is not None else (f"API key {g.api_key.name}" if getattr(g, "api_key", None) else "")
    try:
        found.analysis_queue.send(analysis_job(call.uid, call.org_id, trace_context=inject(),
                                               operator_voice=voice, requested_by=by))
    except QueueUnavailable:
        raise ApiError(503, "queue_unavailable", "the job queue is unavailable right now; try again shortly") from None
    return jsonify({"call_id": call_id, "queued": True, "operator_voice": voice,
                    "speakers_url": f"/api/calls/{call_id}/speakers"}), 202
