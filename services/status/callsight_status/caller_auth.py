"""Who may read what: every RPC but health (and reflection, in development) must carry
the gateway's organisation assertion (callsight.internal_auth), and reads only that
organisation. The organisation is taken from the verified assertion: an empty `org_id`
is filled in from it, a different one is PERMISSION_DENIED. The same wrapper keeps
every failure's text inside the service, for streams as for unary calls: an unexpected
exception is logged with its traceback and the caller gets INTERNAL and a plain
sentence, never an exception's text (SQL included; grpc.aio would otherwise send
"Unexpected <class ...>: <the exception>").

The server is grpc.aio: unary reads are plain functions run in its thread pool (there
`context.abort` raises AbortError), the watch stream is an async generator (there it is
awaited); either way a handler's own abort passes through untouched.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import Message

from callsight.internal_auth import METADATA_KEY, InvalidAssertion, OrgAssertions
from callsight_status.interceptors import _has_nul

log = logging.getLogger(__name__)
OPEN_PREFIXES = ("/grpc.health.v1.Health/", "/grpc.reflection.")
INTERNAL_MESSAGE = "the status service failed to answer; the error is in its log"
UNAUTHENTICATED_MESSAGE = "calls to the status service need the gateway's organisation assertion"
FOREIGN_MESSAGE = "this caller may read its own organisation only"
Refusal = tuple[grpc.StatusCode, str]


def bind_org(message: Message, org_id: str) -> bool:
    """Fill every empty `org_id` (nested filters too) with the authenticated organisation;
    False when the request names another one."""
    for field in message.DESCRIPTOR.fields:
        name = field.name
        if name == "org_id" and field.type == field.TYPE_STRING:
            value = getattr(message, name)
            if not value:
                setattr(message, name, org_id)
            elif value != org_id:
                return False
        elif (field.message_type is not None and not field.is_repeated
              and "org_id" in field.message_type.fields_by_name and not bind_org(getattr(message, name), org_id)):
            return False
    return True


class CallerInterceptor(grpc.aio.ServerInterceptor):
    def __init__(self, assertions: OrgAssertions) -> None:
        self.assertions = assertions

    def _caller(self, details: grpc.HandlerCallDetails) -> tuple[str | None, str]:
        token = dict(details.invocation_metadata or ()).get(METADATA_KEY, "")
        if not token:
            return None, "no organisation assertion"
        try:
            return self.assertions.verify(str(token)), ""
        except InvalidAssertion as exc:
            return None, str(exc)

    @staticmethod
    def _refusal(method: str, org_id: str | None, why: str, request: Message) -> Refusal | None:
        if org_id is None:
            log.warning("refused %s: %s", method, why)
            return grpc.StatusCode.UNAUTHENTICATED, UNAUTHENTICATED_MESSAGE
        if _has_nul(request):
            return grpc.StatusCode.INVALID_ARGUMENT, "text fields must not contain NUL characters"
        if not bind_org(request, org_id):
            log.warning("refused %s: the request names another organisation than its assertion", method)
            return grpc.StatusCode.PERMISSION_DENIED, FOREIGN_MESSAGE
        return None

    async def intercept_service(self, continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
                                details: grpc.HandlerCallDetails) -> Any:
        handler = await continuation(details)
        if handler is None or details.method.startswith(OPEN_PREFIXES):
            return handler
        method = details.method
        org_id, why = self._caller(details)

        def refusal(request: Message) -> Refusal | None:
            return self._refusal(method, org_id, why, request)

        if handler.unary_unary is not None:
            inner = handler.unary_unary
            if inspect.iscoroutinefunction(inner):
                async def unary_async(request: Message, context: grpc.aio.ServicerContext) -> Any:
                    if (refused := refusal(request)) is not None:
                        await context.abort(*refused)
                    try:
                        return await inner(request, context)
                    except grpc.aio.AbortError:
                        raise
                    except Exception:
                        log.exception("%s failed", method)
                        await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)

                wrapped: Any = unary_async
            else:
                def unary(request: Message, context: grpc.ServicerContext) -> Any:
                    if (refused := refusal(request)) is not None:
                        context.abort(*refused)
                    try:
                        return inner(request, context)
                    except grpc.aio.AbortError:
                        raise
                    except Exception:
                        log.exception("%s failed", method)
                        context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)

                wrapped = unary
            return grpc.unary_unary_rpc_method_handler(wrapped, handler.request_deserializer,
                                                       handler.response_serializer)
        if handler.unary_stream is not None:
            inner_stream = handler.unary_stream
            if not inspect.isasyncgenfunction(inner_stream):
                raise TypeError(f"{method}: streams of the status service are async generators")

            async def stream(request: Message, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
                if (refused := refusal(request)) is not None:
                    await context.abort(*refused)
                try:
                    async for item in inner_stream(request, context):
                        yield item
                except grpc.aio.AbortError:
                    raise
                except Exception:
                    log.exception("%s failed", method)
                    await context.abort(grpc.StatusCode.INTERNAL, INTERNAL_MESSAGE)

            return grpc.unary_stream_rpc_method_handler(stream, handler.request_deserializer,
                                                        handler.response_serializer)
        return handler
