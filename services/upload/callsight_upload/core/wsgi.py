"""The WSGI layer around the Flask app: which proxies to believe, and closing a
connection when the app says so.

gunicorn drops an application's `Connection` header (hop-by-hop) and keeps the
connection alive; after a 413 it would then read the rest of an oversized body to find
the next request. `CloseWhenAsked` turns the app's `Connection: close` into gunicorn's
own close, through the response object whose `start_response` it is handed.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from werkzeug.middleware.proxy_fix import ProxyFix

WSGIApp = Any


class CloseWhenAsked:
    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            if any(k.lower() == "connection" and v.lower() == "close" for k, v in headers):
                force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
                if callable(force_close):
                    force_close()
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.app(environ, start)


def wrap(app: WSGIApp, trusted_proxy_hops: int) -> WSGIApp:
    """The app as the server calls it."""
    wrapped = CloseWhenAsked(app)
    if trusted_proxy_hops:
        # the client's address (sign-in throttling, logs) and scheme from the ingress' headers
        return ProxyFix(wrapped, x_for=trusted_proxy_hops, x_proto=trusted_proxy_hops)
    return wrapped
