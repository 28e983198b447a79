"""Ending an RPC with a status code: `context.abort` raises, and `abort` says so to the
type checker, so the code after a failed lookup may rely on what it found."""

from __future__ import annotations

from typing import NoReturn

import grpc


def abort(context: grpc.ServicerContext, code: grpc.StatusCode, message: str) -> NoReturn:
    context.abort(code, message)
    raise AssertionError("unreachable: ServicerContext.abort raises")
