"""Settings (administrators only): organisation defaults, QA form, users and API keys."""

from __future__ import annotations

import json
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for

from callsight.db.users_repo import ROLES, DuplicateEmail
from callsight_upload import sessions
from callsight_upload.auth import services
from callsight_upload.errors import ApiError

bp = Blueprint("settings", __name__)
MIN_PASSWORD = 10


def _org_id() -> str:
    return sessions.current_user().org_id  # type: ignore[union-attr]


def _render(status: int = 200, **extra: Any):  # type: ignore[no-untyped-def]
    svc = services()
    org = svc.orgs.get(_org_id())
    qa_text = extra.pop("qa_text", None)
    if qa_text is None:
        form = getattr(org, "qa_form", None)
        if form is None and org is not None:
            form = _default_form(org.default_language)
        qa_text = json.dumps(form, ensure_ascii=False, indent=2) if form else ""
    page = render_template(
        "settings.html", org=org, qa_text=qa_text, users=svc.users.list(_org_id()),
        keys=svc.orgs.list_api_keys(_org_id()), roles=ROLES, saved=request.args.get("saved"), **extra,
    )
    return page, status


def _default_form(language: str) -> dict[str, Any] | None:
    """The built-in form for the organisation's language, as a starting point to edit."""
    try:
        from callsight.qa_form import default_form
    except ImportError:
        return None
    return default_form(language).to_dict()  # type: ignore[no-any-return]


def _back(section: str):  # type: ignore[no-untyped-def]
    return redirect(url_for("settings.show", saved=section) + f"#{section}")


@bp.get("/settings")
@sessions.admin_required
def show():  # type: ignore[no-untyped-def]
    return _render()


@bp.post("/settings/organisation")
@sessions.admin_required
def save_organisation():  # type: ignore[no-untyped-def]
    language = request.form.get("default_language", "")
    channel = request.form.get("operator_channel", "")
    engine = request.form.get("engine", "")
    if language not in ("ja-JP", "en-US") or channel not in ("left", "right") or engine not in ("", "whisper", "amivoice"):
        return _render(400, org_error="default_language must be ja-JP or en-US; operator_channel left or right; "
                                      "engine whisper, amivoice or the deployment default")
    services().orgs.update_settings(
        _org_id(), default_language=language, operator_channel=channel, engine=engine or None,
        auto_generate_analytics=request.form.get("auto_generate_analytics") == "on",
        redact_pii=request.form.get("redact_pii") == "on",
    )
    return _back("organisation")


@bp.post("/settings/qa-form")
@sessions.admin_required
def save_qa_form():  # type: ignore[no-untyped-def]
    from callsight_upload.qa_form import validated_form

    text = request.form.get("qa_form", "").strip()
    if not text:
        services().orgs.set_qa_form(_org_id(), None)
        return _back("qa-form")
    try:
        form = validated_form(json.loads(text))
    except json.JSONDecodeError as exc:
        return _render(400, qa_text=text, qa_error=f"not valid JSON: {exc}")
    except ApiError as exc:
        return _render(400, qa_text=text, qa_error=exc.message)
    services().orgs.set_qa_form(_org_id(), form)
    return _back("qa-form")


@bp.post("/settings/users")
@sessions.admin_required
def add_user():  # type: ignore[no-untyped-def]
    email = request.form.get("email", "").strip()[:320]
    name = request.form.get("name", "").strip()[:200]
    password = request.form.get("password", "")
    role = request.form.get("role", "supervisor")
    if "@" not in email or not name or role not in ROLES:
        return _render(400, user_error="an e-mail address, a name and a role are required")
    if len(password) < MIN_PASSWORD:
        return _render(400, user_error_key="password_short")
    try:
        services().users.create(_org_id(), email, name, password, role=role,
                                locale=sessions.current_user().locale)  # type: ignore[union-attr]
    except DuplicateEmail:
        return _render(400, user_error_key="user_exists")
    return _back("users")


@bp.post("/settings/users/<user_id>")
@sessions.admin_required
def update_user(user_id: str):  # type: ignore[no-untyped-def]
    action = request.form.get("action", "")
    if user_id == sessions.current_user().id:  # type: ignore[union-attr]
        return _render(400, user_error_key="cannot_disable_self")
    if action in ROLES:
        services().users.update(_org_id(), user_id, role=action)
    elif action in ("disable", "enable"):
        services().users.update(_org_id(), user_id, disabled=action == "disable")
    return _back("users")


@bp.post("/settings/keys")
@sessions.admin_required
def create_key():  # type: ignore[no-untyped-def]
    name = request.form.get("name", "").strip()[:200] or "web"
    plaintext, record = services().orgs.create_api_key(_org_id(), name)
    # shown once, on this response only: nothing stores the plaintext
    return _render(201, new_key=plaintext, new_key_prefix=record.prefix)


@bp.post("/settings/keys/<key_id>/revoke")
@sessions.admin_required
def revoke_key(key_id: str):  # type: ignore[no-untyped-def]
    services().orgs.revoke_api_key(_org_id(), key_id)
    return _back("keys")
