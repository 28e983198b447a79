"""Optional (m)TLS for the internal gRPC service.

The status service is internal-only; inside a cluster a NetworkPolicy keeps it so.
Where the network is not trusted, give the server a certificate (and a CA to require
client certificates: mutual TLS) and the gateway the CA and its own client pair.
Unset, both sides speak plaintext gRPC.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import grpc

OPTIONS = [("grpc.keepalive_time_ms", 30000), ("grpc.max_receive_message_length", 64 * 1024 * 1024)]


def _read(env: Mapping[str, str], name: str) -> bytes | None:
    path = env.get(name, "")
    return Path(path).read_bytes() if path else None


def add_port(server: grpc.Server, address: str, env: Mapping[str, str] | None = None) -> int:
    """Bind the server: TLS when CALLSIGHT_GRPC_TLS_CERT/KEY are set, client certs
    required when CALLSIGHT_GRPC_TLS_CLIENT_CA is set too."""
    e = os.environ if env is None else env
    cert, key = _read(e, "CALLSIGHT_GRPC_TLS_CERT"), _read(e, "CALLSIGHT_GRPC_TLS_KEY")
    if not cert or not key:
        return server.add_insecure_port(address)
    client_ca = _read(e, "CALLSIGHT_GRPC_TLS_CLIENT_CA")
    credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                              require_client_auth=client_ca is not None)
    return server.add_secure_port(address, credentials)


def channel(target: str, env: Mapping[str, str] | None = None) -> grpc.Channel:
    """A channel to the status service: TLS when CALLSIGHT_GRPC_TLS_CA is set, presenting
    CALLSIGHT_GRPC_CLIENT_CERT/KEY when given (mutual TLS)."""
    e = os.environ if env is None else env
    ca = _read(e, "CALLSIGHT_GRPC_TLS_CA")
    if ca is None:
        return grpc.insecure_channel(target, options=OPTIONS)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca,
        private_key=_read(e, "CALLSIGHT_GRPC_CLIENT_KEY"),
        certificate_chain=_read(e, "CALLSIGHT_GRPC_CLIENT_CERT"),
    )
    options = list(OPTIONS)
    if e.get("CALLSIGHT_GRPC_TLS_SERVER_NAME"):
        options.append(("grpc.ssl_target_name_override", e["CALLSIGHT_GRPC_TLS_SERVER_NAME"]))
    return grpc.secure_channel(target, credentials, options=options)
