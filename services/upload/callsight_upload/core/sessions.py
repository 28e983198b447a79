"""Web sign-in: the session cookie, the signed-in user, CSRF checks and role guards.

The cookie holds a random secret (HttpOnly, SameSite=Lax, Secure when configured);
the server keeps its SHA-256, the user and a CSRF token. Every state-changing form
or XHR must echo the token (form field `csrf_token` or header `X-CSRF-Token`).
`load_user` runs once before every request and sets `g.user` (None when signed out).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import Response, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue

from callsight.db.users_repo import SessionRecord, SessionRepository, UserRecord, UserRepository
from callsight_upload.core.connections import connections

P = ParamSpec("P")
COOKIE = "callsight_session"
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


def users() -> UserRepository:
    return connections().users


def sessions() -> SessionRepository:
    return connections().web_sessions


def load_user() -> None:
    """Before each request: the signed-in session and user into `g`, once."""
    token = request.cookies.get(COOKIE, "") if request.endpoint != "static" else ""
    session = sessions().resolve(token) if token else None
    g.web_session = session
    g.user = session.user if session else None


def current_session() -> SessionRecord | None:
    session: SessionRecord | None = g.get("web_session")
    return session


def current_user() -> UserRecord | None:
    user: UserRecord | None = g.get("user")
    return user


def signed_in_user() -> UserRecord:
    """The user of a view behind `login_required` (never None there)."""
    user = current_user()
    if user is None:
        raise RuntimeError("signed_in_user() outside a login_required view")
    return user


def csrf_token() -> str:
    session = current_session()
    return session.csrf_token if session else ""


def check_csrf(allow_form: bool = True) -> None:
    """Raises CsrfError unless the request carries this session's CSRF token. APIs pass
    allow_form=False: reading a form there would consume a streamed upload."""
    session = current_session()
    presented = request.headers.get("X-CSRF-Token", "")
    if not presented and allow_form and request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        presented = request.form.get("csrf_token", "")
    if session is None or not presented or not secrets.compare_digest(presented, session.csrf_token):
        raise CsrfError()


def start_session(response: Response, user: UserRecord) -> None:
    token, _ = sessions().create(user.id)
    settings = connections().settings
    response.set_cookie(COOKIE, token, max_age=settings.session_absolute_s, httponly=True, samesite="Lax",
                        secure=settings.cookie_secure, path="/")


def end_session(response: Response) -> None:
    token = request.cookies.get(COOKIE, "")
    if token:
        sessions().delete(token)
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="Lax", secure=connections().settings.cookie_secure)


def login_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    """A page for signed-in users: others go to the sign-in page. Checks CSRF on writes."""

    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_user() is None:
            if request.method in SAFE_METHODS:
                return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
            return render_template("error.html", status=401, message_key="error_signed_out"), 401
        if request.method not in SAFE_METHODS:
            check_csrf()
        return view(*args, **kwargs)

    return wrapper


def admin_required(view: Callable[P, ResponseReturnValue]) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        user = current_user()
        if user is not None and not user.is_admin:
            return render_template("error.html", status=403, message_key="error_admin_only"), 403
        return view(*args, **kwargs)

    return login_required(wrapper)
