"""Who is asking the status service, and for which organisation.

The gateway authenticates people and API keys; the status service must not take its
word for the organisation from a request field anyone could fill in. So every call the
gateway makes carries, in its metadata, an organisation assertion: the organisation
the gateway authenticated, an expiry a minute ahead, and an HMAC-SHA256 over both made
with CALLSIGHT_INTERNAL_AUTH_KEY, a secret only the gateway and the status service
hold. The status service checks the assertion before any handler runs and takes the
organisation from it; a request naming another organisation is refused. Mutual TLS
(`grpc_tls`) decides who may connect at all; this decides what a connected caller may
read.
"""

from __future__ import annotations

import base64
import collections
import hashlib
import hmac
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

METADATA_KEY = "x-callsight-org-assertion"
TTL_S = 60
_VERSION = "v1"


class InvalidAssertion(ValueError):
    """Missing, forged, expired or malformed; the message says which (for the log)."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class OrgAssertions:
    key: bytes

    def _mac(self, org_b64: str, expires: int) -> str:
        return _b64(hmac.new(self.key, f"{_VERSION}|{org_b64}|{expires}".encode(), hashlib.sha256).digest())

    def sign(self, org_id: str, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + TTL_S)
        org_b64 = _b64(org_id.encode())
        return f"{_VERSION}.{org_b64}.{expires}.{self._mac(org_b64, expires)}"

    def verify(self, token: str, now: float | None = None) -> str:
        """The organisation the assertion names, or InvalidAssertion."""
        parts = token.split(".")
        if len(parts) != 4 or parts[0] != _VERSION:
            raise InvalidAssertion("malformed organisation assertion")
        _, org_b64, expires_text, mac = parts
        try:
            expires = int(expires_text)
            org_id = _unb64(org_b64).decode()
        except (ValueError, UnicodeDecodeError):
            raise InvalidAssertion("malformed organisation assertion") from None
        if not hmac.compare_digest(mac, self._mac(org_b64, expires)):
            raise InvalidAssertion("organisation assertion with a wrong signature")
        if expires < (time.time() if now is None else now):
            raise InvalidAssertion("expired organisation assertion")
        if not org_id:
            raise InvalidAssertion("organisation assertion without an organisation")
        return org_id


def org_fields(message: Message) -> list[str]:
    """Every `org_id` in a request message, nested ones (filters) included."""
    found: list[str] = []
    for field, value in message.ListFields():
        if field.name == "org_id" and isinstance(value, str):
            found.append(value)
        elif field.message_type is not None and not field.is_repeated:
            found.extend(org_fields(value))
    return found


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready",
                                            "compression")),
    grpc.ClientCallDetails,
):
    pass


class OrgAssertingInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """The gateway's channel: every call naming one organisation carries an assertion
    for it. The gateway only builds requests for the organisation it authenticated (its
    views take it from the API key or the session), so signing what the request names
    signs what was authenticated; a call naming none (health) carries none."""

    def __init__(self, assertions: OrgAssertions) -> None:
        self.assertions = assertions

    def _with_assertion(self, details: grpc.ClientCallDetails, request: Message) -> grpc.ClientCallDetails:
        orgs = set(org_fields(request))
        if len(orgs) != 1:
            return details
        metadata = [*(details.metadata or ()), (METADATA_KEY, self.assertions.sign(orgs.pop()))]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            getattr(details, "wait_for_ready", None), getattr(details, "compression", None))

    def intercept_unary_unary(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails,
                              request: Message) -> Any:
        return continuation(self._with_assertion(details, request), request)

    def intercept_unary_stream(self, continuation: Callable[..., Any], details: grpc.ClientCallDetails,
                               request: Message) -> Any:
        return continuation(self._with_assertion(details, request), request)


def asserting_channel(channel: grpc.Channel, key: str) -> grpc.Channel:
    """`channel` with every call asserting its organisation, signed with `key`."""
    return grpc.intercept_channel(channel, OrgAssertingInterceptor(OrgAssertions(key.encode())))
