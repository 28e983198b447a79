"""Sign-in, sign-out and the language switch of the web app.

Sign-in is guarded three ways: the form carries a token bound to a cookie set when the
form was shown (a cross-site POST has neither, so nobody can sign a victim in to the
attacker's account: login CSRF); failures are throttled per account and per client
address (`core.login_throttle`); the password policy (`callsight.passwords`) is applied
before the hash is checked, the same policy that set the password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from urllib.parse import urlsplit

from flask import Blueprint, make_response, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.passwords import WeakPassword, check_password
from callsight_upload.core import sessions
from callsight_upload.core.connections import connections
from callsight_upload.web.i18n import LOCALES

bp = Blueprint("auth", __name__)
LOGIN_COOKIE = "callsight_login"
LOGIN_FORM_TTL_S = 3600


def _safe_next(target: str | None) -> str:
    """Only a path on this site: an open redirect would help phishing. Control
    characters never get this far (`core.edge` answers 400)."""
    if not target:
        return url_for("pages.dashboard")
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return url_for("pages.dashboard")
    return target


def _form_token(nonce: str) -> str:
    key = connections().settings.session_key.encode()
    return hmac.new(key, b"login-form:" + nonce.encode(), hashlib.sha256).hexdigest()


def _login_page(status: int, *, email: str = "", error_key: str | None = None,
                retry_after: int | None = None) -> ResponseReturnValue:
    """The sign-in form with a fresh form token, its cookie set on the same response."""
    nonce = secrets.token_urlsafe(24)
    page = render_template("login.html", next=request.values.get("next", ""), error_key=error_key, email=email,
                           form_token=_form_token(nonce), retry_minutes=-(-(retry_after or 0) // 60))
    response = make_response(page, status)
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=LOGIN_FORM_TTL_S, httponly=True, samesite="Strict",
                        secure=connections().settings.cookie_secure, path="/login")
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after)
    return response


def _same_origin() -> bool:
    """A browser names the page a POST came from; a form from another site is refused
    even before its token is looked at."""
    origin = request.headers.get("Origin")
    if not origin or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def _form_token_ok() -> bool:
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    presented = request.form.get("form_token", "")
    return bool(nonce and presented) and hmac.compare_digest(presented, _form_token(nonce))


@bp.get("/login")
def login() -> ResponseReturnValue:
    if sessions.current_user() is not None:
        return redirect(_safe_next(request.args.get("next")))
    return _login_page(200)


@bp.post("/login")
def login_post() -> ResponseReturnValue:
    email = request.form.get("email", "").strip()[:320]
    password = request.form.get("password", "")
    if not _same_origin() or not _form_token_ok():
        return _login_page(403, email=email, error_key="login_form_expired")
    throttle = connections().login_throttle
    address = request.remote_addr or "unknown"
    locked = throttle.check(email, address)
    if locked is not None:
        return _login_page(429, email=email, error_key=f"login_locked_{locked.scope}", retry_after=locked.retry_after_s)
    user = None
    if email and password:
        try:
            check_password(password)  # never set this way, so never right: no hash is checked
            user = sessions.users().authenticate(email, password)
        except WeakPassword:
            user = None
    if user is None:
        throttle.failed(email, address)
        return _login_page(401, email=email, error_key="bad_credentials")
    throttle.succeeded(email)
    response = make_response(redirect(_safe_next(request.form.get("next"))))
    response.delete_cookie(LOGIN_COOKIE, path="/login")
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
