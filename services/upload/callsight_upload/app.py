"""The gateway's Flask application factory: the API (`api/`), the web app (`web/`) and
what they share (`core/`), wired once per app."""

from __future__ import annotations

import time

from flask import Flask, Response, g, request
from opentelemetry import context, propagate, trace

from callsight.telemetry import tracer
from callsight_upload.api import register_api
from callsight_upload.api.ops import register_port_split
from callsight_upload.core import sessions
from callsight_upload.core.connections import Connections
from callsight_upload.core.edge import register_edge
from callsight_upload.core.errors import register_error_handlers
from callsight_upload.core.metrics import REQUEST_SECONDS
from callsight_upload.settings import GatewaySettings
from callsight_upload.web import register_web

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # same-origin, not no-referrer: with no-referrer browsers send "Origin: null" on our own form
    # posts, and the login form's cross-site check needs the real origin
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
}


def create_app(settings: GatewaySettings | None = None) -> Flask:
    settings = settings or GatewaySettings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.session_key,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        SESSION_COOKIE_SECURE=settings.cookie_secure,
        JSON_SORT_KEYS=False,
    )
    app.extensions["callsight"] = Connections(settings)
    register_error_handlers(app)
    register_port_split(app, settings.ops_port)  # /readyz, /metrics on the ops port only
    register_edge(app)  # before every other hook: limits first
    register_api(app)
    register_web(app)

    http_tracer = tracer("callsight.upload")

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()
        parent = propagate.extract(dict(request.headers))
        span = http_tracer.start_span(f"{request.method} {request.url_rule.rule if request.url_rule else request.path}",
                                      context=parent, kind=trace.SpanKind.SERVER)
        g.trace_token = context.attach(trace.set_span_in_context(span))
        g.span = span
        sessions.load_user()

    @app.teardown_request
    def _end_span(exc: BaseException | None) -> None:
        span = g.pop("span", None)
        if span is not None:
            if exc is not None:
                span.record_exception(exc)
            span.end()
            context.detach(g.pop("trace_token"))

    @app.after_request
    def _finish(response: Response) -> Response:
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if "span" in g:
            g.span.set_attribute("http.response.status_code", response.status_code)
            if getattr(g, "org", None) is not None:
                g.span.set_attribute("callsight.org", g.org.id)
        endpoint = request.endpoint or "unknown"
        if endpoint != "ops.metrics" and "started" in g:
            REQUEST_SECONDS.labels(endpoint, request.method, str(response.status_code)).observe(
                time.perf_counter() - g.started
            )
        return response

    return app
