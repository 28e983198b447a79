"""What the pages share: error pages, the calls filter, a call as a page shows it."""

from __future__ import annotations

from typing import Any

from flask import render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.convert import STATUS_TO_PROTO
from callsight.v1 import calls_pb2
from callsight_upload.core.args import date_arg
from callsight_upload.core.errors import ApiError
from callsight_upload.core.serialize import call_json

STATUSES = list(STATUS_TO_PROTO)
FILTER_FIELDS = ("status", "department", "operator_id", "date_from", "date_to", "q")


def page_error(exc: ApiError) -> ResponseReturnValue:
    """Errors on pages are pages, not JSON."""
    key = {404: "error_not_found", 503: "error_unavailable"}.get(exc.status)
    return render_template("error.html", status=exc.status, message_key=key, message=exc.message), exc.status


def page_call(call: calls_pb2.Call) -> dict[str, Any]:
    body = call_json(call)
    body["view_url"] = url_for("web_calls.call_view", call_id=call.call_id)
    return body


def filters_from_args() -> dict[str, str]:
    return {name: request.args.get(name, "").strip()[:200] for name in FILTER_FIELDS}


def list_request(org_id: str, f: dict[str, str], page_size: int, page_token: str = "",
                 status: str | None = None) -> calls_pb2.ListCallsRequest:
    wanted = status if status is not None else f.get("status", "")
    return calls_pb2.ListCallsRequest(
        org_id=org_id,
        statuses=[STATUS_TO_PROTO[wanted]] if wanted in STATUS_TO_PROTO else [],
        department=f.get("department", ""),
        operator_id=f.get("operator_id", ""),
        call_date_from=date_arg("date_from"),
        call_date_to=date_arg("date_to"),
        page_size=page_size,
        page_token=page_token,
        query=f.get("q", ""),
    )
