"""The gateway's settings: its one configuration object, read once at start."""

from __future__ import annotations

from typing import Literal

from pydantic import SecretStr

from callsight import limits
from callsight.grpc_tls import ClientTls
from callsight.settings import (
    AnalysisQueueSettings,
    CacheSettings,
    InternalAuthSettings,
    PepperSettings,
    ServiceSettings,
    StorageSettings,
    TranscriptionQueueSettings,
    WebhookTargetSettings,
    env,
)


class GatewaySettings(ServiceSettings, CacheSettings, PepperSettings, StorageSettings, TranscriptionQueueSettings,
                      AnalysisQueueSettings, InternalAuthSettings, WebhookTargetSettings):
    port: int = env("PORT", 8080, "Public HTTP port of the gateway (web app, Ingest API, REST API, /healthz)")
    web_concurrency: int = env("WEB_CONCURRENCY", 2, "gunicorn worker processes", gt=0)
    web_worker_class: Literal["gevent", "gthread"] = env("WEB_WORKER_CLASS", "gevent", (
        "gunicorn worker type: gevent (live streams and slow clients cost a greenlet) or gthread (threads)"))
    web_threads: int = env("WEB_THREADS", 8, "Threads per gunicorn worker process (gthread only)", gt=0)
    web_connections: int = env("WEB_CONNECTIONS", 2000, (
        "Connections one gunicorn worker process serves at once (gevent: each costs a greenlet, live "
        "dashboards included)"), gt=0)
    body_read_timeout_s: float = env("CALLSIGHT_BODY_READ_TIMEOUT_S", 30.0, (
        "A client whose request body (or a response it reads) makes no progress for this long is answered 408 "
        "and disconnected (gevent workers)"), gt=0)
    max_connections_per_client: int = env("CALLSIGHT_MAX_CONNECTIONS_PER_CLIENT", 256, (
        "Connections one client address may hold at once in each gunicorn worker process; more are answered 429 "
        "(gevent workers; 0 = no bound, as behind an ingress, where every connection comes from the controller)"),
        ge=0)
    sse_heartbeat_s: float = env("CALLSIGHT_SSE_HEARTBEAT_S", 15.0, (
        "A live event stream sends a comment this often when nothing happens: a vanished viewer is noticed"), gt=0)
    sse_max_s: float = env("CALLSIGHT_SSE_MAX_S", 1800.0, (
        "A live event stream ends after this long and the browser reconnects (spreads viewers over new pods)"), gt=0)
    prometheus_multiproc_dir: str | None = env("PROMETHEUS_MULTIPROC_DIR", None, (
        "Folder where gunicorn's processes share their metrics; unset with several processes = a fresh temp folder"))
    status_addr: str = env("CALLSIGHT_STATUS_ADDR", "127.0.0.1:50051",
                           "host:port of the status deployment's gRPC (CallsService, AnalyticsService)")
    secret_key: SecretStr | None = env("CALLSIGHT_SECRET_KEY", None,
                                       "Signs web sessions' cookies; unset = the API key pepper")
    max_upload_bytes: int = env("CALLSIGHT_MAX_UPLOAD_BYTES", limits.MAX_UPLOAD_BYTES, (
        "Largest accepted recording, in bytes (500 MB = 500,000,000; at most that)"), gt=0, le=limits.MAX_UPLOAD_BYTES)
    ops_port: int = env("OPS_PORT", 9090, (
        "HTTP port of /readyz and /metrics (and /healthz): never the public port, so the ingress cannot expose them"))
    trusted_proxy_hops: int = env("CALLSIGHT_TRUSTED_PROXY_HOPS", 0, (
        "Reverse proxies in front of the gateway whose X-Forwarded-For/-Proto to believe (1 behind an ingress)"),
        ge=0, le=5)
    login_max_failures_per_account: int = env("CALLSIGHT_LOGIN_MAX_FAILURES_PER_ACCOUNT", 5, (
        "Failed sign-ins for one e-mail address before it is locked for the lockout window (0 = no limit)"), ge=0)
    login_max_failures_per_address: int = env("CALLSIGHT_LOGIN_MAX_FAILURES_PER_ADDRESS", 20, (
        "Failed sign-ins from one client address before it is locked for the lockout window (0 = no limit)"), ge=0)
    login_lockout_s: int = env("CALLSIGHT_LOGIN_LOCKOUT_S", 900, (
        "The lockout window: failures are counted over it and a lock lasts until it ends"), gt=0)
    rate_limit_per_minute: int = env("CALLSIGHT_RATE_LIMIT_PER_MINUTE", 600,
                                     "Requests per API key per minute (0 = no limit)", ge=0)
    rerun_max_calls: int = env("CALLSIGHT_RERUN_MAX_CALLS", 100_000,
                               "Most calls one re-run of the analysis may cover (more: narrow the filters)", gt=0)
    session_idle_s: int = env("CALLSIGHT_SESSION_IDLE_S", 8 * 3600, "A web session ends after this long unused", gt=0)
    session_absolute_s: int = env("CALLSIGHT_SESSION_ABSOLUTE_S", 7 * 24 * 3600,
                                  "A web session ends this long after sign-in, used or not", gt=0)
    cookie_secure: bool = env("CALLSIGHT_COOKIE_SECURE", False, "Session cookie only over HTTPS (set behind TLS)")
    grpc_tls_ca: str | None = env("CALLSIGHT_GRPC_TLS_CA", None,
                                  "CA file that signed the status service's certificate; set = TLS to it")
    grpc_client_cert: str | None = env("CALLSIGHT_GRPC_CLIENT_CERT", None,
                                       "The gateway's client certificate file (mutual TLS)")
    grpc_client_key: str | None = env("CALLSIGHT_GRPC_CLIENT_KEY", None, "Its private key file (mutual TLS)")
    grpc_tls_server_name: str | None = env("CALLSIGHT_GRPC_TLS_SERVER_NAME", None,
                                           "Name to expect in the status service's certificate, if not its address")

    @property
    def grpc_tls(self) -> ClientTls:
        return ClientTls(self.grpc_tls_ca, self.grpc_client_cert, self.grpc_client_key, self.grpc_tls_server_name)

    @property
    def session_key(self) -> str:
        return (self.secret_key or self.api_key_pepper).get_secret_value()
