"""The status service can require mutual TLS: a client without a certificate from the
CA is refused; the gateway's channel with one gets through."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from grpc_health.v1 import health_pb2, health_pb2_grpc

from callsight import grpc_tls

pytestmark = pytest.mark.integration


def _pair(tmp: Path, name: str, issuer: tuple[Any, Any] | None, server: bool = False) -> tuple[Any, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = dt.datetime.now(dt.UTC)
    builder = (x509.CertificateBuilder().subject_name(subject)
               .issuer_name(issuer[0].subject if issuer else subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(now - dt.timedelta(minutes=1)).not_valid_after(now + dt.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True))
    if server:
        builder = builder.add_extension(x509.SubjectAlternativeName(
            [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
    cert = builder.sign(issuer[1] if issuer else key, hashes.SHA256())
    (tmp / f"{name}.crt").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp / f"{name}.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                                        serialization.NoEncryption()))
    return cert, key


def test_mutual_tls_refuses_clients_without_a_certificate(stack: Any, tmp_path: Path) -> None:
    from callsight_stack.servers import free_port
    from callsight_status.server import build_server
    from callsight_status.settings import StatusSettings
    from callsight_upload.settings import GatewaySettings

    ca = _pair(tmp_path, "ca", None)
    _pair(tmp_path, "server", ca, server=True)
    _pair(tmp_path, "gateway", ca)
    port = free_port()
    settings = StatusSettings.from_env({
        **stack.env, "OPS_PORT": str(free_port()), "CALLSIGHT_GRPC_TLS_CERT": str(tmp_path / "server.crt"),
        "CALLSIGHT_GRPC_TLS_KEY": str(tmp_path / "server.key"), "CALLSIGHT_GRPC_TLS_CLIENT_CA": str(tmp_path / "ca.crt"),
    })
    server, health_servicer, _ = build_server(settings, f"127.0.0.1:{port}")
    health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    server.start()
    try:
        target = f"localhost:{port}"
        trusted = {"CALLSIGHT_GRPC_TLS_CA": str(tmp_path / "ca.crt")}
        with_cert = {**trusted, "CALLSIGHT_GRPC_CLIENT_CERT": str(tmp_path / "gateway.crt"),
                     "CALLSIGHT_GRPC_CLIENT_KEY": str(tmp_path / "gateway.key")}
        own = {k: v for k, v in stack.env.items() if not k.startswith("CALLSIGHT_GRPC_")}  # not the stack's CA

        def tls(env: dict[str, str]) -> grpc_tls.ClientTls:  # the gateway's own settings read these variables
            return GatewaySettings.from_env({**own, **env}).grpc_tls

        ok = health_pb2_grpc.HealthStub(grpc_tls.channel(target, tls(with_cert))).Check(
            health_pb2.HealthCheckRequest(), timeout=5)
        assert ok.status == health_pb2.HealthCheckResponse.SERVING
        for env in (trusted, {}):  # no client certificate; plaintext
            with pytest.raises(grpc.RpcError) as err:
                health_pb2_grpc.HealthStub(grpc_tls.channel(target, tls(env))).Check(
                    health_pb2.HealthCheckRequest(), timeout=5)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        server.stop(grace=None)
