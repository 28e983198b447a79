"""Sign-in, sign-out and the language switch of the web app."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight_upload.core import sessions
from callsight_upload.web.i18n import LOCALES

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would help phishing."""
    if not target:
        return url_for("pages.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return url_for("pages.dashboard")
    return target


@bp.get("/login")
def login() -> ResponseReturnValue:
    if sessions.current_user() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", next=request.args.get("next", ""), error=False)


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    email = request.form.get("email", "")[:320]
    password = request.form.get("password", "")[:1024]
    user = sessions.users().authenticate(email, password) if email and password else None
    if user is None:
        return render_template("login.html", next=request.form.get("next", ""), error=True, email=email), 401
    response = make_response(redirect(_safe_next(request.form.get("next"))))
    sessions.start_session(response, user)
    return response


@bp.post("/logout")
@sessions.login_required
def logout() -> ResponseReturnValue:
    response = make_response(redirect(url_for("auth.login")))
    sessions.end_session(response)
    return response


@bp.post("/locale")
@sessions.login_required
def set_locale() -> ResponseReturnValue:
    value = request.form.get("locale", "")
    if value in LOCALES:
        sessions.users().set_locale(sessions.signed_in_user().id, value)
    return redirect(_safe_next(request.form.get("next")))
