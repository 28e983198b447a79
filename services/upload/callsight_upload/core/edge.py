"""What every request meets before a view: the limits of `callsight.limits`, enforced
where the bytes arrive.

- Bodies: the upload endpoint streams up to the recording limit; every other body is
  refused past 1 MB before it is read (413, and the connection is closed, so the rest
  of an oversized body is never read either).
- JSON: nested deeper than the limit, or carrying NUL (PostgreSQL text cannot), is 400.
- Text: NUL in any query argument, form field or path segment is 400; so is any control
  character in a path segment or in `next` (it would end up in a Location header).
- A body that stops arriving (the server's read timeout, core/guarded_worker.py) is 408
  and a closed connection; one that ends short of its declared length is 400 and closed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from flask import Flask, Response, render_template, request
from flask.json.provider import DefaultJSONProvider
from flask.typing import ResponseReturnValue
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import ClientDisconnected, RequestEntityTooLarge

from callsight import limits
from callsight_upload.core.errors import ApiError, error_body

STREAMED_ENDPOINTS = {"ingest.upload"}  # read as a stream, within the recording limit
FORM_MIMETYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(r"[\[\]{}]")
_JSON_NUL = re.compile(r"\\u0000", re.IGNORECASE)


def json_depth(text: str) -> int:
    """The deepest nesting of arrays and objects, strings skipped; linear, no recursion."""
    depth = deepest = 0
    for match in _JSON_BRACKET.finditer(_JSON_STRING.sub('""', text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


class GuardedJSONProvider(DefaultJSONProvider):
    """Flask's JSON, refusing documents too deep to parse safely or that hold NUL."""

    def loads(self, s: str | bytes, **kwargs: Any) -> Any:
        text = s.decode("utf-8") if isinstance(s, bytes | bytearray) else s
        if json_depth(text) > limits.MAX_JSON_DEPTH:
            raise ApiError(400, "json_too_deep", f"the JSON document is nested deeper than {limits.MAX_JSON_DEPTH} levels")
        if _JSON_NUL.search(text):
            raise ApiError(400, "invalid_text", "text must not contain NUL characters (\\u0000)")
        return json.loads(text, **kwargs)


def _bad_text(where: str, control: bool = False) -> ApiError:
    what = "control characters (NUL, CR, LF...)" if control else "NUL characters"
    return ApiError(400, "invalid_text", f"{where} must not contain {what}")


def _check_text() -> None:
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str) and _CONTROL.search(value):
            raise _bad_text(f"the path segment {name!r}", control=True)
    sources: list[tuple[str, MultiDict[str, str]]] = [("query argument", request.args)]
    if request.endpoint not in STREAMED_ENDPOINTS and request.mimetype in FORM_MIMETYPES:
        sources.append(("form field", request.form))
    for kind, values in sources:
        for key, value in values.items(multi=True):
            if "\x00" in key or "\x00" in value:
                raise _bad_text(f"the {kind} {key.replace(chr(0), '')!r}")
            if key == "next" and _CONTROL.search(value):
                raise _bad_text("next", control=True)


def _answer(exc: ApiError) -> ResponseReturnValue:
    """Pages get a page, the API gets JSON."""
    if request.path.startswith("/api/"):
        response = Response(json.dumps(error_body(exc.status, exc.code, exc.message)), exc.status,
                            mimetype="application/json")
    else:
        response = Response(render_template("error.html", status=exc.status, message=exc.message), exc.status)
    response.headers.update(exc.headers)
    return response


def register_edge(app: Flask) -> None:
    app.json = GuardedJSONProvider(app)
    app.json.ensure_ascii = False
    app.json.sort_keys = False

    @app.before_request
    def _guard() -> ResponseReturnValue | None:
        if request.endpoint not in STREAMED_ENDPOINTS:
            request.max_content_length = limits.MAX_BODY_BYTES
        try:
            _check_text()
        except RequestEntityTooLarge:
            raise
        except ApiError as exc:
            return _answer(exc)
        return None

    @app.errorhandler(RequestEntityTooLarge)
    def _too_large(exc: RequestEntityTooLarge) -> ResponseReturnValue:
        return _answer(ApiError(413, "body_too_large",
                                f"the request body is larger than {limits.megabytes(limits.MAX_BODY_BYTES)}",
                                {"Connection": "close"}))

    @app.errorhandler(TimeoutError)
    def _stalled(exc: TimeoutError) -> ResponseReturnValue:
        return _answer(ApiError(408, "request_timeout", "the request body stopped arriving; send it again",
                                {"Connection": "close"}))

    @app.errorhandler(ClientDisconnected)
    def _cut_short(exc: ClientDisconnected) -> ResponseReturnValue:
        # werkzeug turns the socket's read timeout (core/guarded_worker.py) into this, the
        # timeout kept as its context
        if isinstance(exc.__context__, TimeoutError):
            return _stalled(exc.__context__)
        return _answer(ApiError(400, "body_incomplete", "the request body ended before its declared length",
                                {"Connection": "close"}))
