"""One HTTP POST of one delivery, only to addresses the request forgery guard allows.

The host is resolved here and every address checked (webhook_targets); the connection
goes to the checked address itself — the Host header and TLS's server name stay the
URL's host — so a name that resolves differently between the check and the connection
(DNS rebinding) cannot lead anywhere else. Redirects are not followed: a 3xx is an
answer like any other non-2xx.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import urllib3
from urllib3.exceptions import ConnectTimeoutError, HTTPError, NewConnectionError

from callsight import webhook_targets
from callsight.webhook_targets import Network, UnsafeTarget

USER_AGENT = "Callsight-Webhooks/1"
MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Attempt:
    status_code: int | None  # None: no answer (refused, timed out, unsafe target)
    latency_ms: int
    error: str | None  # why it did not succeed, for the delivery log

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def _pool(target: webhook_targets.Target, address: str, timeout: urllib3.Timeout) -> urllib3.HTTPConnectionPool:
    if target.scheme == "https":
        return urllib3.HTTPSConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1,
                                           server_hostname=target.host, assert_hostname=target.host,
                                           cert_reqs="CERT_REQUIRED")
    return urllib3.HTTPConnectionPool(address, target.port, timeout=timeout, retries=False, maxsize=1)


def post(url: str, body: bytes, headers: dict[str, str], allowed: tuple[Network, ...], timeout_s: float) -> Attempt:
    started = time.perf_counter()

    def took() -> int:
        return int(round((time.perf_counter() - started) * 1000))

    try:
        target = webhook_targets.parse_url(url)
        addresses = webhook_targets.resolve(target, allowed, timeout_s=min(timeout_s, webhook_targets.RESOLVE_TIMEOUT_S))
    except UnsafeTarget as exc:
        return Attempt(None, took(), f"refused: {exc}")
    timeout = urllib3.Timeout(connect=min(timeout_s, 5.0), read=timeout_s)
    default_port = 443 if target.scheme == "https" else 80
    host_header = target.host if ":" not in target.host else f"[{target.host}]"
    if target.port != default_port:
        host_header += f":{target.port}"
    sent = {"Content-Type": "application/json", "User-Agent": USER_AGENT, "Host": host_header, **headers}
    last_error = "no address"
    for address in addresses:
        pool = _pool(target, str(address), timeout)
        try:
            response = pool.urlopen("POST", target.path, body=body, headers=sent, redirect=False, retries=False,
                                    preload_content=False, assert_same_host=False)
            try:
                response.read(MAX_RESPONSE_BYTES)
            finally:
                response.release_conn()
            status = int(response.status)
            error = None if 200 <= status < 300 else f"HTTP {status}"
            return Attempt(status, took(), error)
        except (NewConnectionError, ConnectTimeoutError) as exc:
            last_error = f"could not connect to {address}: {type(exc).__name__}"  # nothing was sent: next address
        except HTTPError as exc:
            return Attempt(None, took(), f"{type(exc).__name__}: {exc}"[:500])
        finally:
            pool.close()
    return Attempt(None, took(), last_error)
