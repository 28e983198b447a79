"""A channel to the stack's status service the way the gateway has one: its client
certificate (mutual TLS) and, unless `asserting=False`, the signed organisation of each call."""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from callsight import grpc_tls
from callsight.internal_auth import asserting_channel


def status_channel(env: Mapping[str, str], *, certificate: bool = True, asserting: bool = True) -> grpc.Channel:
    tls = grpc_tls.ClientTls(env.get("CALLSIGHT_GRPC_TLS_CA"),
                             env.get("CALLSIGHT_GRPC_CLIENT_CERT") if certificate else None,
                             env.get("CALLSIGHT_GRPC_CLIENT_KEY") if certificate else None)
    plain = grpc_tls.channel(env["CALLSIGHT_GRPC"], tls)
    return asserting_channel(plain, env["CALLSIGHT_INTERNAL_AUTH_KEY"]) if asserting else plain
