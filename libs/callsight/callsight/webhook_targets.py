"""Where a webhook may point: the server-side request forgery guard.

A webhook makes Callsight send requests to an address a customer chose, from inside the
deployment. Pointed at 127.0.0.1, 10.0.0.0/8 or 169.254.169.254 it would reach the
deployment's own services or the cloud's metadata endpoint. So a target must be an
http(s) URL whose host resolves only to public (globally routable, unicast) addresses,
unless the operator allows some networks explicitly (`CALLSIGHT_WEBHOOK_ALLOWED_NETWORKS`:
the local stack allows loopback, the Helm chart allows nothing by default).

The check runs when a webhook is created (a clear 400) and again at every delivery, on
the addresses the delivery then connects to (a name that resolves differently later,
DNS rebinding, gets nowhere).
"""

from __future__ import annotations

import concurrent.futures
import ipaddress
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
MAX_URL = 2000
RESOLVE_TIMEOUT_S = 5.0
_resolver: concurrent.futures.ThreadPoolExecutor | None = None
_resolver_lock = threading.Lock()


def _resolver_pool() -> concurrent.futures.ThreadPoolExecutor:
    """Made on first use, not at import: the gateway's gunicorn master imports this before it
    forks gevent workers, and a pool made before gevent patches the process blocks their hub."""
    global _resolver
    with _resolver_lock:
        if _resolver is None:
            _resolver = concurrent.futures.ThreadPoolExecutor(max_workers=4, thread_name_prefix="resolve")
        return _resolver


class UnsafeTarget(ValueError):
    """The URL may not be a webhook's target; the message says why, for a person."""


@dataclass(frozen=True)
class Target:
    scheme: str  # http | https
    host: str  # as written (a name, or an address without brackets)
    port: int
    path: str  # path and query, "/" at least


def parse_networks(text: str | None) -> tuple[Network, ...]:
    """`127.0.0.0/8, ::1/128` -> networks; raises ValueError naming a bad entry."""
    found = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        try:
            found.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ValueError(f"{part!r} is not a network (e.g. 127.0.0.0/8 or ::1/128)") from None
    return tuple(found)


def parse_url(url: str) -> Target:
    """The parts of an http(s) URL, or UnsafeTarget saying what is wrong with it."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeTarget("url is required: an http:// or https:// address")
    url = url.strip()
    if len(url) > MAX_URL:
        raise UnsafeTarget(f"url is longer than {MAX_URL} characters")
    if any(ord(ch) < 33 or ord(ch) == 127 for ch in url):
        raise UnsafeTarget("url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeTarget(f"url is not a valid URL ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise UnsafeTarget("url must start with http:// or https://")
    if parts.username is not None or parts.password is not None:
        raise UnsafeTarget("url must not carry a user name or password; the signature authenticates Callsight")
    if parts.fragment:
        raise UnsafeTarget("url must not have a #fragment")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise UnsafeTarget("url must name a host")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port or (443 if scheme == "https" else 80), path)


def forbidden_reason(address: IPAddress, allowed: tuple[Network, ...]) -> str | None:
    """Why an address may not be reached (None: it may)."""
    if any(address in network for network in allowed if network.version == address.version):
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    if mapped is not None:
        return forbidden_reason(mapped, allowed)
    if address.is_loopback:
        return "a loopback address"
    if address.is_private or address.is_link_local or address.is_unspecified or address.is_reserved:
        return "a private, link-local or reserved address"
    if address.is_multicast:
        return "a multicast address"
    if not address.is_global:
        return "not a public address"
    return None


def _getaddrinfo(host: str, port: int) -> list[IPAddress]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%", 1)[0]) for info in infos))


def resolve(target: Target, allowed: tuple[Network, ...], timeout_s: float = RESOLVE_TIMEOUT_S) -> list[IPAddress]:
    """The addresses to connect to, all of them allowed; UnsafeTarget if the host does not
    resolve or any of its addresses is forbidden (a name with one private address among
    public ones could be made to use it)."""
    try:
        addresses = [ipaddress.ip_address(target.host)]
    except ValueError:
        future = _resolver_pool().submit(_getaddrinfo, target.host, target.port)
        try:
            addresses = future.result(timeout=timeout_s)
        except concurrent.futures.TimeoutError:
            raise UnsafeTarget(f"the host name {target.host!r} did not resolve within {timeout_s:g} s") from None
        except (OSError, UnicodeError, ValueError):
            raise UnsafeTarget(f"the host name {target.host!r} does not resolve") from None
    if not addresses:
        raise UnsafeTarget(f"the host name {target.host!r} does not resolve")
    for address in addresses:
        reason = forbidden_reason(address, allowed)
        if reason is not None:
            raise UnsafeTarget(
                f"{target.host!r} is {reason} ({address}); webhooks may only reach public addresses unless the "
                "operator allows that network (CALLSIGHT_WEBHOOK_ALLOWED_NETWORKS)")
    return addresses


def check(url: str, allowed: tuple[Network, ...]) -> Target:
    """The parsed target if it may be used now; UnsafeTarget otherwise."""
    target = parse_url(url)
    resolve(target, allowed)
    return target
