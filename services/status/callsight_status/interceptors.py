"""Cross-cutting concerns of the gRPC server (grpc.aio): a span and metrics per call."""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable
from typing import Any

import grpc
from opentelemetry import trace
from prometheus_client import Counter, Histogram

from callsight.telemetry import attached, tracer

REQUESTS = Counter("callsight_grpc_requests_total", "gRPC requests", ["method", "code"])
_tracer = tracer("callsight.status")
LATENCY = Histogram("callsight_grpc_request_seconds", "gRPC request latency", ["method"])


def _has_nul(message: Any) -> bool:
    """PostgreSQL text cannot hold NUL: refuse it as a bad argument, never a server error."""
    for field, value in message.ListFields():
        values = value if field.is_repeated else [value]
        for v in values:
            if (isinstance(v, str) and "\x00" in v) or (hasattr(v, "ListFields") and _has_nul(v)):
                return True
    return False


class MetricsInterceptor(grpc.aio.ServerInterceptor):
    """Wraps the unary reads (run in the server's thread pool); the watch stream is a
    coroutine of its own and passes through."""

    async def intercept_service(self, continuation: Callable[[Any], Any], handler_call_details: Any) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or inspect.iscoroutinefunction(handler.unary_unary):
            return handler  # streams and the (async) health checks
        method = handler_call_details.method.rsplit("/", 1)[-1]
        inner = handler.unary_unary

        def wrapped(request: Any, context: grpc.ServicerContext) -> Any:
            start = time.perf_counter()
            code = "OK"
            carrier = {k: v for k, v in context.invocation_metadata() if isinstance(v, str)}
            try:
                with attached(carrier), _tracer.start_as_current_span(method, kind=trace.SpanKind.SERVER) as span:
                    span.set_attribute("rpc.system", "grpc")
                    span.set_attribute("rpc.method", method)
                    if _has_nul(request):
                        context.abort(grpc.StatusCode.INVALID_ARGUMENT, "text fields must not contain NUL characters")
                    return inner(request, context)
            except Exception:
                # grpc.aio's context of a plain handler has no code(): an abort's code is not known here
                getter = getattr(context, "code", None)
                code = getter().name if callable(getter) and getter() else "ABORTED_OR_FAILED"
                raise
            finally:
                REQUESTS.labels(method, code).inc()
                LATENCY.labels(method).observe(time.perf_counter() - start)

        return grpc.unary_unary_rpc_method_handler(
            wrapped,
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
