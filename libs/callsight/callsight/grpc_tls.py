"""Optional (m)TLS for the internal gRPC services.

The status deployment is internal-only; inside a cluster a NetworkPolicy keeps it so.
Where the network is not trusted, give the server a certificate (and a CA to require
client certificates: mutual TLS) and the gateway the CA and its own client pair.
Unset, both sides speak plaintext gRPC. The paths come from each service's settings.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import grpc

OPTIONS: list[tuple[str, int | str]] = [("grpc.keepalive_time_ms", 30000),
                                        ("grpc.max_receive_message_length", 64 * 1024 * 1024)]


@dataclass(frozen=True)
class ServerTls:
    cert: str | None = None
    key: str | None = None
    client_ca: str | None = None  # set: client certificates signed by it are required


@dataclass(frozen=True)
class ClientTls:
    ca: str | None = None  # set: TLS, trusting this CA
    client_cert: str | None = None  # with client_key: mutual TLS
    client_key: str | None = None
    server_name: str | None = None  # the name in the server's certificate, if not the target's host


def _read(path: str | None) -> bytes | None:
    return Path(path).read_bytes() if path else None


def add_port(server: grpc.Server, address: str, tls: ServerTls = ServerTls()) -> int:
    """Bind the server: TLS when a certificate and key are given, client certificates
    required when a client CA is given too."""
    cert, key = _read(tls.cert), _read(tls.key)
    if not cert or not key:
        return server.add_insecure_port(address)
    client_ca = _read(tls.client_ca)
    credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=client_ca,
                                              require_client_auth=client_ca is not None)
    return server.add_secure_port(address, credentials)


def channel(target: str, tls: ClientTls = ClientTls()) -> grpc.Channel:
    """A channel to the status deployment: TLS when a CA is given, presenting the client
    pair when given (mutual TLS)."""
    ca = _read(tls.ca)
    if ca is None:
        return grpc.insecure_channel(target, options=OPTIONS)
    credentials = grpc.ssl_channel_credentials(
        root_certificates=ca, private_key=_read(tls.client_key), certificate_chain=_read(tls.client_cert),
    )
    options = list(OPTIONS)
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.secure_channel(target, credentials, options=options)
