"""API keys over the API: make one (shown once, in `key`), list them, revoke one.

Administrators only: a signed-in administrator, or a key with the `admin` scope (the
demo key `make up` prints is one). A key names its scopes (`ingest`, `read`, `admin`)
and may expire; its last use is kept to the minute.
"""

from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask.typing import ResponseReturnValue

from callsight_upload.core import audit
from callsight_upload.core.admin_json import key_json
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.errors import ApiError
from callsight_upload.core.specs import json_object, key_spec

bp = Blueprint("keys", __name__, url_prefix="/api/keys")


@bp.post("")
@require_scope("admin")
def create_key() -> ResponseReturnValue:
    spec = key_spec(json_object("invalid_api_key_request",
                                '{"name": "CRM", "scopes": ["read"], "expires_at": "2027-03-31T00:00:00Z"}'))
    actor = audit.current_actor()
    plaintext, record = connections().orgs.create_api_key(current_org().id, spec.name, spec.scopes, spec.expires_at,
                                                          created_by=f"{actor.type}:{actor.name}"[:320])
    # the only time the key is ever shown: nothing stores it
    response = jsonify({**key_json(record), "key": plaintext})
    response.status_code = 201
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("")
@require_scope("admin")
def list_keys() -> ResponseReturnValue:
    return jsonify({"keys": [key_json(k) for k in connections().orgs.list_api_keys(current_org().id)]})


@bp.delete("/<key_id>")
@require_scope("admin")
def revoke_key(key_id: str) -> ResponseReturnValue:
    """204, and the key stops working at once; revoking a revoked key is 204 again."""
    orgs = connections().orgs
    if orgs.get_api_key(current_org().id, key_id) is None:
        raise ApiError(404, "not_found", f"API key {key_id!r} not found")
    orgs.revoke_api_key(current_org().id, key_id)
    return Response(status=204)
