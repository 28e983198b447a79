"""The status deployment's settings: its one configuration object, read once at start."""

from __future__ import annotations

from callsight.grpc_tls import ServerTls
from callsight.settings import CacheSettings, InternalAuthSettings, ServiceSettings, env


class StatusSettings(ServiceSettings, CacheSettings, InternalAuthSettings):
    port: int = env("PORT", 50051, "gRPC port of the status deployment (CallsService, AnalyticsService, health)")
    ops_port: int = env("OPS_PORT", 9090, "HTTP port of /healthz, /readyz and /metrics")
    grpc_tls_cert: str | None = env("CALLSIGHT_GRPC_TLS_CERT", None, "Server certificate file; set (with the key) = TLS")
    grpc_tls_key: str | None = env("CALLSIGHT_GRPC_TLS_KEY", None, "Its private key file")
    grpc_reflection: bool = env("CALLSIGHT_GRPC_REFLECTION", False, (
        "Serve gRPC reflection (lists every service and message): for development only"))
    grpc_tls_client_ca: str | None = env("CALLSIGHT_GRPC_TLS_CLIENT_CA", None,
                                         "CA of the clients' certificates; set = mutual TLS (client certificates required)")

    @property
    def grpc_tls(self) -> ServerTls:
        return ServerTls(self.grpc_tls_cert, self.grpc_tls_key, self.grpc_tls_client_ca)
