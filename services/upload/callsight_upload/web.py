"""The web app's pages: upload, live dashboard and the calls list.

Reads go through the status service (gRPC) like the REST API; the dashboard is fed by
Server-Sent Events from the status service's WatchCalls stream, and the page falls
back to polling `/web/dashboard.json` every 5 s when the event stream is unavailable.
"""

from __future__ import annotations

import json
from typing import Any

import grpc
from flask import Blueprint, Flask, Response, jsonify, redirect, render_template, request, url_for

from callsight.convert import PROTO_TO_STATUS, STATUS_TO_PROTO
from callsight.v1 import status_service_pb2
from callsight_upload import sessions
from callsight_upload.auth import services
from callsight_upload.calls import _date_arg, rpc
from callsight_upload.errors import ApiError
from callsight_upload.i18n import translate
from callsight_upload.serialize import call_json

bp = Blueprint("web", __name__)
STATUSES = list(STATUS_TO_PROTO)
# an event stream is closed after this long and the browser reconnects (EventSource
# does it by itself): a thread is never held forever by a client that went away
SSE_MAX_S = 55.0
FILTER_FIELDS = ("status", "department", "operator_id", "date_from", "date_to", "q")


def register_web(app: Flask) -> None:
    """Blueprints, template helpers and error pages of the web app."""
    from callsight_upload import web_auth, web_call, web_scorecards, web_settings

    for blueprint in (web_auth.bp, bp, web_call.bp, web_scorecards.bp, web_settings.bp):
        app.register_blueprint(blueprint)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        from callsight_upload.i18n import locale

        return {"t": translate, "user": sessions.current_user(), "csrf_token": sessions.csrf_token(),
                "locale": locale(), "statuses": STATUSES}

    @app.errorhandler(sessions.CsrfError)
    def _csrf(_: sessions.CsrfError):  # type: ignore[no-untyped-def]
        return render_template("error.html", status=403, message_key="error_csrf"), 403


def page_error(exc: ApiError):  # type: ignore[no-untyped-def]
    """Errors on pages are pages, not JSON."""
    key = {404: "error_not_found", 503: "error_unavailable"}.get(exc.status)
    return render_template("error.html", status=exc.status, message_key=key, message=exc.message), exc.status


bp.register_error_handler(ApiError, page_error)


def web_call(call: Any) -> dict[str, Any]:
    body = call_json(call)
    body["view_url"] = url_for("web_call.call_view", call_id=call.call_id)
    return body


def filters_from_args() -> dict[str, str]:
    return {name: request.args.get(name, "").strip()[:200] for name in FILTER_FIELDS}


def list_request(org_id: str, f: dict[str, str], page_size: int, page_token: str = "",
                 status: str | None = None) -> status_service_pb2.ListCallsRequest:
    wanted = status if status is not None else f.get("status", "")
    return status_service_pb2.ListCallsRequest(
        org_id=org_id,
        statuses=[STATUS_TO_PROTO[wanted]] if wanted in STATUS_TO_PROTO else [],
        department=f.get("department", ""),
        operator_id=f.get("operator_id", ""),
        call_date_from=_date_arg("date_from"),
        call_date_to=_date_arg("date_to"),
        page_size=page_size,
        page_token=page_token,
        query=f.get("q", ""),
    )


def dashboard_state(org_id: str, f: dict[str, str]) -> dict[str, Any]:
    stub = services().status
    counts = {}
    for status in STATUSES:
        if f.get("status") and f["status"] != status:
            counts[status] = 0
            continue
        counts[status] = rpc(stub.ListCalls, list_request(org_id, f, 1, status=status)).total_count
    latest = rpc(stub.ListCalls, list_request(org_id, f, 20)).calls
    return {"counts": counts, "calls": [web_call(c) for c in latest]}


@bp.get("/")
@sessions.login_required
def home():  # type: ignore[no-untyped-def]
    return redirect(url_for("web.dashboard"))


@bp.get("/upload")
@sessions.login_required
def upload():  # type: ignore[no-untyped-def]
    return render_template("upload.html", max_bytes=services().settings.max_upload_bytes,
                           org=services().orgs.get(sessions.current_user().org_id))  # type: ignore[union-attr]


@bp.get("/dashboard")
@sessions.login_required
def dashboard():  # type: ignore[no-untyped-def]
    f = filters_from_args()
    state = dashboard_state(sessions.current_user().org_id, f)  # type: ignore[union-attr]
    return render_template("dashboard.html", filters=f, state=state)


@bp.get("/web/dashboard.json")
@sessions.login_required
def dashboard_json():  # type: ignore[no-untyped-def]
    state = dashboard_state(sessions.current_user().org_id, filters_from_args())  # type: ignore[union-attr]
    for call in state["calls"]:
        call["status_label"] = translate(call["status"])
    return jsonify(state)


@bp.get("/web/events")
@sessions.login_required
def events():  # type: ignore[no-untyped-def]
    org_id = sessions.current_user().org_id  # type: ignore[union-attr]
    stub = services().status

    def stream():  # type: ignore[no-untyped-def]
        yield "retry: 2000\n\n"
        watch = stub.WatchCalls(status_service_pb2.WatchCallsRequest(org_id=org_id, send_initial=False),
                                timeout=SSE_MAX_S)
        try:
            for event in watch:
                body = {"call_id": event.call.call_id, "status": PROTO_TO_STATUS.get(event.call.status, "Queued"),
                        "previous_status": PROTO_TO_STATUS.get(event.previous_status)}
                yield f"event: call\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.DEADLINE_EXCEEDED:  # type: ignore[attr-defined]
                yield "event: unavailable\ndata: {}\n\n"
        finally:
            watch.cancel()

    return Response(stream(), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


@bp.get("/calls")
@sessions.login_required
def calls_list():  # type: ignore[no-untyped-def]
    f = filters_from_args()
    token = request.args.get("page_token", "").strip()
    page = rpc(services().status.ListCalls,
               list_request(sessions.current_user().org_id, f, 25, token))  # type: ignore[union-attr]
    next_url = None
    if page.next_page_token:
        next_url = url_for("web.calls_list", **{k: v for k, v in f.items() if v}, page_token=page.next_page_token)
    first_url = url_for("web.calls_list", **{k: v for k, v in f.items() if v}) if token else None
    return render_template("calls.html", filters=f, calls=[web_call(c) for c in page.calls],
                           total=page.total_count, next_url=next_url, first_url=first_url)


@bp.app_template_filter("duration")
def duration_filter(seconds: float | None) -> str:
    if not seconds:
        return "–"
    total = int(round(seconds))
    return f"{total // 60}:{total % 60:02d}"


@bp.app_template_filter("when")
def when_filter(value: Any) -> str:
    if not value:
        return translate("never")
    text = value if isinstance(value, str) else value.isoformat()
    return text.replace("T", " ")[:16]
