"""Issue 18, row 5 and row 9, against the real stack: the status service answers only
the gateway (mutual TLS) and only for the organisation the gateway asserted; streams
never leak an exception's text; Redis and SeaweedFS's filer answer only the stack."""

from __future__ import annotations

import time
from concurrent import futures
from typing import Any

import grpc
import pytest
import redis
import requests

from callsight import grpc_tls
from callsight.internal_auth import METADATA_KEY, OrgAssertions
from callsight.v1 import analytics_pb2, analytics_pb2_grpc, calls_pb2, calls_pb2_grpc
from tests.grpc_client import status_channel

pytestmark = pytest.mark.integration


def calls(channel: grpc.Channel) -> calls_pb2_grpc.CallsServiceStub:
    return calls_pb2_grpc.CallsServiceStub(channel)


def code_of(call: Any) -> grpc.StatusCode:
    with pytest.raises(grpc.RpcError) as err:
        result = call()
        if hasattr(result, "__iter__") and not isinstance(result, calls_pb2.ListCallsResponse):
            list(result)
    return err.value.code()


def test_without_the_gateways_certificate_nothing_connects(stack: Any) -> None:
    no_cert = status_channel(stack.env, certificate=False)
    assert code_of(lambda: calls(no_cert).ListCalls(calls_pb2.ListCallsRequest(org_id="demo"), timeout=5)) \
        == grpc.StatusCode.UNAVAILABLE
    plaintext = grpc.insecure_channel(stack.env["CALLSIGHT_GRPC"])
    assert code_of(lambda: calls(plaintext).ListCalls(calls_pb2.ListCallsRequest(org_id="demo"), timeout=5)) \
        == grpc.StatusCode.UNAVAILABLE


def test_without_an_organisation_assertion_every_read_is_refused(stack: Any) -> None:
    bare = status_channel(stack.env, asserting=False)  # a client certificate, but nobody's organisation
    stub, analytics = calls(bare), analytics_pb2_grpc.AnalyticsServiceStub(bare)
    filter_ = analytics_pb2.ScorecardFilter(org_id="demo")
    for rpc in (lambda: stub.ListCalls(calls_pb2.ListCallsRequest(org_id="demo"), timeout=5),
                lambda: stub.GetTranscript(calls_pb2.GetTranscriptRequest(org_id="demo", call_id="x"), timeout=5),
                lambda: stub.WatchCalls(calls_pb2.WatchCallsRequest(org_id="demo", send_initial=True), timeout=5),
                lambda: analytics.GetAnalysis(analytics_pb2.GetAnalysisRequest(org_id="demo", call_id="x"), timeout=5),
                lambda: analytics.ListOperatorScorecards(
                    analytics_pb2.ListOperatorScorecardsRequest(filter=filter_), timeout=5)):
        assert code_of(rpc) == grpc.StatusCode.UNAUTHENTICATED


def test_forged_expired_or_foreign_assertions_are_refused(stack: Any) -> None:
    bare = status_channel(stack.env, asserting=False)
    key = stack.env["CALLSIGHT_INTERNAL_AUTH_KEY"].encode()
    request = calls_pb2.ListCallsRequest(org_id="demo")
    cases = {
        "forged": (OrgAssertions(b"not-the-key-" * 3).sign("demo"), grpc.StatusCode.UNAUTHENTICATED),
        "expired": (OrgAssertions(key).sign("demo", now=time.time() - 3600), grpc.StatusCode.UNAUTHENTICATED),
        "another organisation's": (OrgAssertions(key).sign("intruder-org"), grpc.StatusCode.PERMISSION_DENIED),
    }
    for name, (token, expected) in cases.items():
        got = code_of(lambda t=token: calls(bare).ListCalls(request, metadata=[(METADATA_KEY, t)], timeout=5))
        assert got == expected, name
    # the organisation comes from the assertion: a request that names none reads the asserted one
    token = OrgAssertions(key).sign("demo")
    listed = calls(bare).ListCalls(calls_pb2.ListCallsRequest(), metadata=[(METADATA_KEY, token)], timeout=5)
    assert all(c.org_id == "demo" for c in listed.calls)


def test_a_stream_that_fails_says_so_without_sql(stack: Any) -> None:
    # the attack of row 9: NUL in a watched organisation reached PostgreSQL and the SQL came back
    key = stack.env["CALLSIGHT_INTERNAL_AUTH_KEY"].encode()
    bare = status_channel(stack.env, asserting=False)
    stream = calls(bare).WatchCalls(calls_pb2.WatchCallsRequest(org_id="de\x00mo", send_initial=True),
                                    metadata=[(METADATA_KEY, OrgAssertions(key).sign("de\x00mo"))], timeout=5)
    with pytest.raises(grpc.RpcError) as err:
        list(stream)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "SQL" not in (err.value.details() or "") and "psycopg" not in (err.value.details() or "")


def test_an_unexpected_error_is_internal_and_plain_in_streams_and_unary_calls() -> None:
    """The same wrapper on handlers that raise a database error (a stream after its first
    event, a unary read): the caller gets INTERNAL and a sentence, the log the exception."""
    import asyncio

    from callsight_stack.servers import free_port
    from callsight_status.caller_auth import INTERNAL_MESSAGE, CallerInterceptor
    from callsight_status.server import aio_loop

    leak = "psycopg.DataError [SQL: SELECT calls.uid FROM calls WHERE org_id = %(org)s]"

    class Failing(calls_pb2_grpc.CallsServiceServicer):
        async def WatchCalls(self, request: Any, context: Any) -> Any:  # noqa: N802
            yield calls_pb2.CallEvent()
            raise RuntimeError(leak)

        def GetCall(self, request: Any, context: Any) -> Any:  # noqa: N802
            raise RuntimeError(leak)

    key = b"k" * 40
    port = free_port()

    async def serve() -> grpc.aio.Server:
        server = grpc.aio.server(migration_thread_pool=futures.ThreadPoolExecutor(max_workers=2),
                                 interceptors=[CallerInterceptor(OrgAssertions(key))])
        calls_pb2_grpc.add_CallsServiceServicer_to_server(Failing(), server)
        grpc_tls.add_port(server, f"127.0.0.1:{port}")
        await server.start()
        return server

    loop = aio_loop()
    server = asyncio.run_coroutine_threadsafe(serve(), loop).result(10)
    try:
        stub = calls(grpc.insecure_channel(f"127.0.0.1:{port}"))
        metadata = [(METADATA_KEY, OrgAssertions(key).sign("demo"))]
        stream = stub.WatchCalls(calls_pb2.WatchCallsRequest(org_id="demo"), metadata=metadata, timeout=5)
        with pytest.raises(grpc.RpcError) as err:
            list(stream)
        assert err.value.code() == grpc.StatusCode.INTERNAL and err.value.details() == INTERNAL_MESSAGE
        with pytest.raises(grpc.RpcError) as err:
            stub.GetCall(calls_pb2.GetCallRequest(org_id="demo", call_id="x"), metadata=metadata, timeout=5)
        assert err.value.code() == grpc.StatusCode.INTERNAL and err.value.details() == INTERNAL_MESSAGE
    finally:
        asyncio.run_coroutine_threadsafe(server.stop(None), loop).result(10)


def test_redis_and_the_filer_answer_only_the_stack(stack: Any, api: Any) -> None:
    port = int(stack.env["CALLSIGHT_REDIS_URL"].rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(redis.RedisError, match="(?i)auth"):
        redis.Redis(host="127.0.0.1", port=port, socket_timeout=2).get("anything")
    filer = f"http://127.0.0.1:{stack.running['seaweedfs'].spec.argv[stack.running['seaweedfs'].spec.argv.index('-filer.port') + 1]}"
    listing = requests.get(f"{filer}/buckets/callsight/orgs/demo/calls/", timeout=5)
    assert listing.status_code == 401  # no JWT signed by the stack's key: no listing, no audio
    assert requests.put(f"{filer}/buckets/callsight/evil", data=b"x", timeout=5).status_code == 401
