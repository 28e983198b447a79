"""The web app (Japanese and English): sign-in, upload, dashboard, calls, scorecards,
settings. Pages read through `core.reads` like the API; the browser calls the API
itself for uploads and retries, with its session instead of a key."""

from __future__ import annotations

from typing import Any

from flask import Flask, render_template
from flask.typing import ResponseReturnValue

from callsight_upload.core import sessions
from callsight_upload.web import audit, auth, calls, data, pages, scorecards, settings, webhooks
from callsight_upload.web.common import STATUSES
from callsight_upload.web.i18n import locale, translate


def register_web(app: Flask) -> None:
    """Blueprints, template helpers and error pages of the web app."""
    for blueprint in (auth.bp, pages.bp, calls.bp, data.bp, scorecards.bp, settings.bp, webhooks.bp, audit.bp):
        app.register_blueprint(blueprint)

    @app.context_processor
    def _globals() -> dict[str, Any]:
        return {"t": translate, "user": sessions.current_user(), "csrf_token": sessions.csrf_token(),
                "locale": locale(), "statuses": STATUSES}

    @app.errorhandler(sessions.CsrfError)
    def _csrf(_: sessions.CsrfError) -> ResponseReturnValue:
        return render_template("error.html", status=403, message_key="error_csrf"), 403

    app.add_template_filter(duration_filter, "duration")
    app.add_template_filter(when_filter, "when")


def duration_filter(seconds: float | None) -> str:
    if not seconds:
        return "–"
    total = int(round(seconds))
    return f"{total // 60}:{total % 60:02d}"


def when_filter(value: Any) -> str:
    if not value:
        return translate("never")
    text = value if isinstance(value, str) else value.isoformat()
    return text.replace("T", " ")[:16]
