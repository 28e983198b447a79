"""How a webhook delivery proves it comes from Callsight: an HMAC-SHA256 of the exact body.

`X-Callsight-Signature: sha256=<hex>` where hex = HMAC-SHA256(secret, raw body bytes).
A receiver computes the same over the bytes it received (before parsing the JSON) and
compares in constant time (`verify`, what docs/webhooks.md shows in a few lines).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

SECRET_PREFIX = "whsec_"
SIGNATURE_HEADER = "X-Callsight-Signature"
EVENT_HEADER = "X-Callsight-Event"
DELIVERY_HEADER = "X-Callsight-Delivery"


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def sign(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def verify(secret: str, body: bytes, header: str) -> bool:
    return hmac.compare_digest(sign(secret, body), header.strip())
