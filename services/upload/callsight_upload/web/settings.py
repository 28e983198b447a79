"""Settings (administrators only): organisation defaults, retention, QA form, users, API keys
and webhooks (their forms are in `web/webhooks.py`)."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.amivoice_settings import ENGINE_FIELDS, AmiVoiceOrgSettings, AmiVoiceSettingsError
from callsight.apikeys import SCOPES
from callsight.db.schema import WEBHOOK_EVENTS
from callsight.db.users_repo import ROLES, DuplicateEmail
from callsight.passwords import WeakPassword
from callsight.qa_form import default_form
from callsight.retention import RetentionError, retention_from
from callsight.vocabulary import VocabularyError, parse_lines, to_lines
from callsight_upload.core import sessions
from callsight_upload.core.admin_json import key_json
from callsight_upload.core.connections import connections
from callsight_upload.core.engine_settings import AMIVOICE, stored_amivoice
from callsight_upload.core.errors import ApiError
from callsight_upload.core.qa_forms import validated_form
from callsight_upload.core.specs import key_spec

bp = Blueprint("settings", __name__, url_prefix="/settings")
DELIVERIES_SHOWN = 20


def _org_id() -> str:
    return sessions.signed_in_user().org_id


def _render(status: int = 200, **extra: Any) -> ResponseReturnValue:
    svc = connections()
    org = svc.orgs.get(_org_id())
    qa_text = extra.pop("qa_text", None)
    if qa_text is None:
        form = org.qa_form if org is not None else None
        if form is None and org is not None:
            # the built-in form for the organisation's language, as a starting point to edit
            form = default_form(org.default_language).to_dict()
        qa_text = json.dumps(form, ensure_ascii=False, indent=2) if form else ""
    amivoice = extra.pop("amivoice", None) or stored_amivoice(org.engine_settings if org else None).to_json()
    vocabulary_text = extra.pop("vocabulary_text", None)
    if vocabulary_text is None:
        vocabulary_text = to_lines(org.vocabulary if org else [])
    hooks = svc.webhooks.list(_org_id())
    deliveries = {w.id: svc.webhooks.deliveries(_org_id(), w.id, DELIVERIES_SHOWN) for w in hooks}
    page = render_template(
        "settings.html", org=org, qa_text=qa_text, amivoice=amivoice, amivoice_engines=ENGINE_FIELDS,
        vocabulary_text=vocabulary_text, users=svc.users.list(_org_id()),
        keys=[key_json(k) for k in svc.orgs.list_api_keys(_org_id())], roles=ROLES, scopes=SCOPES,
        webhooks=hooks, deliveries=deliveries, webhook_events=WEBHOOK_EVENTS, saved=request.args.get("saved"), **extra,
    )
    return page, status


def render(status: int = 200, **extra: Any) -> ResponseReturnValue:
    """The settings page with a section's error or one-time secret (the webhook forms use it)."""
    return _render(status, **extra)


def _back(section: str) -> ResponseReturnValue:
    return redirect(url_for("settings.show", saved=section) + f"#{section}")


@bp.get("")
@sessions.admin_required
def show() -> ResponseReturnValue:
    return _render()


@bp.post("/organisation")
@sessions.admin_required
def save_organisation() -> ResponseReturnValue:
    language = request.form.get("default_language", "")
    channel = request.form.get("operator_channel", "")
    engine = request.form.get("engine", "")
    if language not in ("ja-JP", "en-US") or channel not in ("left", "right") or engine not in ("", "whisper", "amivoice"):
        return _render(400, org_error="default_language must be ja-JP or en-US; operator_channel left or right; "
                                      "engine whisper, amivoice or the deployment default")
    connections().orgs.update_settings(
        _org_id(), default_language=language, operator_channel=channel, engine=engine or None,
        auto_generate_analytics=request.form.get("auto_generate_analytics") == "on",
        redact_pii=request.form.get("redact_pii") == "on",
    )
    return _back("organisation")


@bp.post("/qa-form")
@sessions.admin_required
def save_qa_form() -> ResponseReturnValue:
    text = request.form.get("qa_form", "").strip()
    if not text:
        connections().orgs.set_qa_form(_org_id(), None)
        return _back("qa-form")
    try:
        form = validated_form(json.loads(text))
    except json.JSONDecodeError as exc:
        return _render(400, qa_text=text, qa_error=f"not valid JSON: {exc}")
    except ApiError as exc:
        return _render(400, qa_text=text, qa_error=exc.message)
    connections().orgs.set_qa_form(_org_id(), form)
    return _back("qa-form")


@bp.post("/amivoice")
@sessions.admin_required
def save_amivoice() -> ResponseReturnValue:
    logging = {"true": True, "false": False}.get(request.form.get("allow_logging", ""))
    submitted: dict[str, Any] = {name: request.form.get(name, "").strip() for name in ENGINE_FIELDS}
    submitted["allow_logging"] = logging
    try:
        settings = AmiVoiceOrgSettings.from_json(submitted)
    except AmiVoiceSettingsError as exc:
        return _render(400, amivoice=submitted, amivoice_error=str(exc))
    connections().orgs.set_engine_settings(_org_id(), AMIVOICE, settings.to_json() or None)
    return _back("amivoice")


@bp.post("/vocabulary")
@sessions.admin_required
def save_vocabulary() -> ResponseReturnValue:
    text = request.form.get("vocabulary", "")
    try:
        terms = parse_lines(text)
    except VocabularyError as exc:
        return _render(400, vocabulary_text=text, vocabulary_error=str(exc))
    connections().orgs.set_vocabulary(_org_id(), terms)
    return _back("vocabulary")


@bp.post("/users")
@sessions.admin_required
def add_user() -> ResponseReturnValue:
    email = request.form.get("email", "").strip()[:320]
    name = request.form.get("name", "").strip()[:200]
    password = request.form.get("password", "")
    role = request.form.get("role", "supervisor")
    if "@" not in email or not name or role not in ROLES:
        return _render(400, user_error="an e-mail address, a name and a role are required")
    try:
        connections().users.create(_org_id(), email, name, password, role=role,
                                   locale=sessions.signed_in_user().locale)
    except WeakPassword as exc:  # the policy sign-in applies too (callsight.passwords)
        return _render(400, user_error_key=f"password_{exc.reason}")
    except DuplicateEmail:
        return _render(400, user_error_key="user_exists")
    return _back("users")


@bp.post("/users/<user_id>")
@sessions.admin_required
def update_user(user_id: str) -> ResponseReturnValue:
    action = request.form.get("action", "")
    if user_id == sessions.signed_in_user().id:
        return _render(400, user_error_key="cannot_disable_self")
    if action in ROLES:
        connections().users.update(_org_id(), user_id, role=action)
    elif action in ("disable", "enable"):
        connections().users.update(_org_id(), user_id, disabled=action == "disable")
    return _back("users")


@bp.post("/retention")
@sessions.admin_required
def save_retention() -> ResponseReturnValue:
    try:
        kept = retention_from(request.form.get("audio_days", "").strip() or "0",
                              request.form.get("transcript_days", "").strip() or "0")
    except RetentionError as exc:
        return _render(400, retention_error=str(exc))
    connections().orgs.set_retention(_org_id(), kept.audio_days, kept.transcript_days)
    return _back("retention")


@bp.post("/keys")
@sessions.admin_required
def create_key() -> ResponseReturnValue:
    body = {"name": request.form.get("name", "").strip()[:200] or "web",
            "scopes": request.form.getlist("scopes"),
            "expires_at": request.form.get("expires_at", "").strip() or None}
    try:
        spec = key_spec(body)
    except ApiError as exc:
        return _render(400, key_error=exc.message)
    user = sessions.signed_in_user()
    plaintext, record = connections().orgs.create_api_key(_org_id(), spec.name, spec.scopes, spec.expires_at,
                                                          created_by=f"user:{user.email}")
    # shown once, on this response only: nothing stores the plaintext
    return _render(201, new_key=plaintext, new_key_prefix=record.prefix)


@bp.post("/keys/<key_id>/revoke")
@sessions.admin_required
def revoke_key(key_id: str) -> ResponseReturnValue:
    connections().orgs.revoke_api_key(_org_id(), key_id)
    return _back("keys")
