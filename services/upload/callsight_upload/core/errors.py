"""Domain errors become JSON with the right HTTP status, in one place."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from flask.typing import ResponseReturnValue
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a person can act on: HTTP status, a stable code and a plain message."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def error_body(status: int, code: str, message: str) -> dict[str, object]:
    return {"error": code, "message": message, "status": status}


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> ResponseReturnValue:
        response = jsonify(error_body(exc.status, exc.code, exc.message))
        response.status_code = exc.status
        for k, v in exc.headers.items():
            response.headers[k] = v
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> ResponseReturnValue:
        code = (exc.name or "error").lower().replace(" ", "_")
        response = jsonify(error_body(exc.code or 500, code, exc.description or exc.name))
        response.status_code = exc.code or 500
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> ResponseReturnValue:
        log.exception("unhandled error")
        response = jsonify(error_body(500, "internal_error", "Something went wrong on our side; nothing you sent was half-saved. Try again."))
        response.status_code = 500
        return response
