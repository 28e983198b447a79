"""The organisation's AmiVoice settings: engines by language and whether AmiVoice may keep audio.

Every field is optional: null means the deployment's default (the workers' environment),
so an organisation that never touches this page runs on the deployment's engines and
with AmiVoice logging off.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, jsonify, request
from flask.typing import ResponseReturnValue

from callsight.amivoice_settings import AmiVoiceOrgSettings, AmiVoiceSettingsError
from callsight_upload.core.auth import current_org, require_scope
from callsight_upload.core.connections import connections
from callsight_upload.core.engine_settings import AMIVOICE, stored_amivoice
from callsight_upload.core.errors import ApiError

bp = Blueprint("amivoice_settings", __name__, url_prefix="/api/settings")


def validated(body: Any) -> AmiVoiceOrgSettings:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_amivoice_settings",
                       'the body must be a JSON object such as {"allow_logging": false, "engine_ja": "-a-general"}')
    try:
        return AmiVoiceOrgSettings.from_json(body)
    except AmiVoiceSettingsError as exc:
        raise ApiError(400, "invalid_amivoice_settings", str(exc)) from None


@bp.get("/amivoice")
@require_scope("admin")
def get_amivoice() -> ResponseReturnValue:
    return jsonify(asdict(stored_amivoice(current_org().engine_settings)))


@bp.put("/amivoice")
@require_scope("admin")
def put_amivoice() -> ResponseReturnValue:
    settings = validated(request.get_json(silent=True))
    org = connections().orgs.set_engine_settings(current_org().id, AMIVOICE, settings.to_json() or None)
    return jsonify(asdict(stored_amivoice(org.engine_settings if org else None)))
