"""Webhooks over the API: register a URL for call.done, call.failed and analysis.done;
list, read and remove them; read each one's delivery log and ask for a redelivery.

The signing secret is in the answer to the POST only. Deliveries are made and sent outside
any request (the webhook deliverer, docs/webhooks.md); a redelivery is a new delivery of
the same event with the same body, sent as soon as the deliverer takes it.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue

from callsight.db.webhooks_repo import NotRedeliverable, WebhookRecord
from callsight_upload.core import audit
from callsight_upload.core.admin_json import delivery_json, webhook_json
from callsight_upload.core.args import int_arg
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.specs import json_object, webhook_spec

bp = Blueprint("webhooks", __name__, url_prefix="/api/webhooks")


def _webhook(webhook_id: str) -> WebhookRecord:
    found = connections().webhooks.get(current_org().id, webhook_id)
    if found is None:
        raise ApiError(404, "not_found", f"webhook {webhook_id!r} not found")
    return found


@bp.post("")
@require_scope("admin")
def create_webhook() -> ResponseReturnValue:
    found = connections()
    spec = webhook_spec(json_object("invalid_webhook", '{"url": "https://crm.example.com/callsight", '
                                                       '"events": ["call.done"], "description": "CRM"}'),
                        found.settings.webhook_networks)
    actor = audit.current_actor()
    record, secret = found.webhooks.create(current_org().id, spec.url, spec.events, spec.description,
                                           created_by=f"{actor.type}:{actor.name}")
    # the only time the secret is shown: keep it to check each delivery's signature
    response = jsonify({**webhook_json(record), "secret": secret})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@require_scope("admin")
def list_webhooks() -> ResponseReturnValue:
    return jsonify({"webhooks": [webhook_json(w) for w in connections().webhooks.list(current_org().id)]})


@bp.get("/<webhook_id>")
@require_scope("admin")
def get_webhook(webhook_id: str) -> ResponseReturnValue:
    return jsonify(webhook_json(_webhook(webhook_id)))


@bp.delete("/<webhook_id>")
@require_scope("admin")
def delete_webhook(webhook_id: str) -> ResponseReturnValue:
    if not connections().webhooks.delete(current_org().id, webhook_id):
        raise ApiError(404, "not_found", f"webhook {webhook_id!r} not found")
    return Response(status=204)


@bp.get("/<webhook_id>/deliveries")
@require_scope("admin")
def list_deliveries(webhook_id: str) -> ResponseReturnValue:
    webhook = _webhook(webhook_id)
    log = connections().webhooks.deliveries(current_org().id, webhook.id, int_arg("limit", 50, 1, 200))
    return jsonify({"deliveries": [delivery_json(d) for d in log]})


@bp.post("/<webhook_id>/deliveries/<delivery_id>/redeliver")
@require_scope("admin")
def redeliver(webhook_id: str, delivery_id: str) -> ResponseReturnValue:
    webhook = _webhook(webhook_id)
    try:
        again = connections().webhooks.redeliver(current_org().id, webhook.id, delivery_id)
    except NotRedeliverable:
        raise ApiError(409, "not_redeliverable", "this delivery's call was deleted: there is nothing to send") from None
    if again is None:
        raise ApiError(404, "not_found", f"delivery {delivery_id!r} not found")
    return jsonify(delivery_json(again)), 202
