"""The calls list and one call's page: metadata, the recording, the transcript as turns,
and the analytics when they exist. Everything is read over gRPC (`reads`)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.convert import STATUS_TO_PROTO
from callsight_upload.core import audit, sessions
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.serialize import transcript_json
from callsight_upload.web.common import filters_from_args, list_request, page_call, page_error

bp = Blueprint("web_calls", __name__, url_prefix="/calls")
bp.register_error_handler(ApiError, page_error)


@bp.get("")
@sessions.login_required
def calls_list() -> ResponseReturnValue:
    f = filters_from_args()
    token = request.args.get("page_token", "").strip()
    page = connections().reads.list_calls(list_request(sessions.signed_in_user().org_id, f, 25, token))
    kept: dict[str, Any] = {k: v for k, v in f.items() if v}
    next_url = url_for("web_calls.calls_list", **kept, page_token=page.next_page_token) if page.next_page_token else None
    first_url = url_for("web_calls.calls_list", **kept) if token else None
    return render_template("calls.html", filters=f, calls=[page_call(c) for c in page.calls],
                           total=page.total_count, next_url=next_url, first_url=first_url,
                           deleted=request.args.get("deleted", "").strip()[:255] or None)


def timeline(analysis: dict[str, Any] | None, duration: float) -> dict[str, Any]:
    """Silences and interruptions as fractions of the call, for the timeline bar."""
    if not analysis or duration <= 0:
        return {"silences": [], "interruptions": []}
    metrics = analysis.get("metrics") or {}
    return {
        "silences": [{"start": s["start"], "end": s["end"], "left": s["start"] / duration,
                      "width": (s["end"] - s["start"]) / duration} for s in metrics.get("silences", [])],
        "interruptions": [{"at": i["at"], "by": i["by"], "left": i["at"] / duration}
                          for i in metrics.get("interruptions", [])],
    }


def chart_view(analysis: dict[str, Any] | None) -> dict[str, Any] | None:
    """Only what the charts draw, so the page does not carry the whole result twice."""
    if not analysis:
        return None
    speakers = (analysis.get("metrics") or {}).get("speakers") or {}
    sentiment = analysis.get("sentiment") or {}
    return {
        "talk": {name: round(s.get("talk_time_s") or 0, 1) for name, s in speakers.items()},
        "sentiment": [{"speaker": t["speaker"], "start": t["start"], "score": t["score"]}
                      for t in sentiment.get("turns", [])],
    }


@bp.get("/<call_id>")
@sessions.login_required
def call_view(call_id: str) -> ResponseReturnValue:
    org_id = sessions.signed_in_user().org_id
    reads = connections().reads
    call = reads.get_call(org_id, call_id)
    transcript = None
    analysis = None
    if call.status == STATUS_TO_PROTO["Done"]:
        transcript = transcript_json(reads.get_transcript(org_id, call_id))
        analysis = reads.find_analysis(org_id, call_id)
        if analysis and analysis.get("redacted_transcript"):
            # with PII redaction on, people see the masked words the analysis used
            masked = analysis["redacted_transcript"].get("turns") or []
            if len(masked) == len(transcript["turns"]):
                for turn, red in zip(transcript["turns"], masked, strict=True):
                    turn["text"] = red.get("text", turn["text"])
    audit.record("viewed", call.call_id, call.uid, detail="page", once_per_s=audit.VIEW_WINDOW_S)
    duration = (transcript or {}).get("duration_s") or call.duration_s or 0.0
    chart_data = {"duration": duration, "analysis": chart_view(analysis)}
    return render_template("call.html", call=page_call(call), transcript=transcript, analysis=analysis,
                           timeline=timeline(analysis, duration), chart_data=chart_data)
