"""The Settings page's webhooks (administrators): add one (its signing secret is shown
once), remove one, and send a delivery again from its log."""

from __future__ import annotations

from flask import Blueprint, redirect, request, url_for
from flask.typing import ResponseReturnValue

from callsight.db.webhooks_repo import NotRedeliverable
from callsight_upload.core import sessions
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.specs import webhook_spec
from callsight_upload.web.settings import render

bp = Blueprint("web_webhooks", __name__, url_prefix="/settings/webhooks")


def _back(note: str) -> ResponseReturnValue:
    return redirect(url_for("settings.show", saved=note) + "#webhooks")


@bp.post("")
@sessions.admin_required
def create() -> ResponseReturnValue:
    found = connections()
    user = sessions.signed_in_user()
    body = {"url": request.form.get("url", ""), "events": request.form.getlist("events"),
            "description": request.form.get("description", "")}
    try:
        spec = webhook_spec(body, found.settings.webhook_networks)
    except ApiError as exc:
        return render(400, webhook_error=exc.message, webhook_form=body)
    record, secret = found.webhooks.create(user.org_id, spec.url, spec.events, spec.description,
                                           created_by=f"user:{user.email}")
    # shown once, on this response only
    return render(201, new_webhook_secret=secret, new_webhook_id=record.id)


@bp.post("/<webhook_id>/delete")
@sessions.admin_required
def delete(webhook_id: str) -> ResponseReturnValue:
    connections().webhooks.delete(sessions.signed_in_user().org_id, webhook_id)
    return _back("webhooks")


@bp.post("/<webhook_id>/deliveries/<delivery_id>/redeliver")
@sessions.admin_required
def redeliver(webhook_id: str, delivery_id: str) -> ResponseReturnValue:
    try:
        again = connections().webhooks.redeliver(sessions.signed_in_user().org_id, webhook_id, delivery_id)
    except NotRedeliverable:
        return render(409, webhook_error_key="not_redeliverable")
    if again is None:
        return render(404, webhook_error_key="error_not_found")
    return _back("redelivery")
