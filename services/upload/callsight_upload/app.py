"""The gateway's Flask application factory."""

from __future__ import annotations

import time

from flask import Flask, g, request
from opentelemetry import context, propagate, trace

from callsight.settings import Settings
from callsight.telemetry import tracer
from callsight_upload import analysis, calls, ingest, ops, qa_form, scorecards
from callsight_upload.context import Services
from callsight_upload.errors import register_error_handlers
from callsight_upload.metrics import REQUEST_SECONDS
from callsight_upload.web import register_web

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; object-src 'none'; base-uri 'self'",
}


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_FORM_MEMORY_SIZE=64 * 1024,
        JSON_SORT_KEYS=False,
    )
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["callsight"] = Services(settings)
    register_error_handlers(app)
    app.register_blueprint(ops.bp)
    app.register_blueprint(ingest.bp)
    app.register_blueprint(calls.bp)
    register_web(app)
    app.register_blueprint(analysis.bp)
    app.register_blueprint(qa_form.bp)
    app.register_blueprint(scorecards.bp)

    http_tracer = tracer("callsight.upload")

    @app.before_request
    def _start_timer() -> None:
        g.started = time.perf_counter()
        parent = propagate.extract(dict(request.headers))
        span = http_tracer.start_span(f"{request.method} {request.url_rule.rule if request.url_rule else request.path}",
                                      context=parent, kind=trace.SpanKind.SERVER)
        g.trace_token = context.attach(trace.set_span_in_context(span))
        g.span = span

    @app.teardown_request
    def _end_span(exc: BaseException | None) -> None:
        span = g.pop("span", None)
        if span is not None:
            if exc is not None:
                span.record_exception(exc)
            span.end()
            context.detach(g.pop("trace_token"))

    @app.after_request
    def _finish(response):  # type: ignore[no-untyped-def]
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
