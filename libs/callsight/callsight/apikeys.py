"""API keys: random, shown once, stored as a keyed hash (HMAC with a secret pepper).

A key looks like `csk_<prefix>_<secret>`; the prefix finds the row, the HMAC proves it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

KEY_PREFIX = "csk_"
# What a key may do. `ingest`: upload recordings and retry failed calls; `read`: read calls,
# transcripts, analyses and figures; `admin`: the organisation's settings, keys, webhooks, the
# audit log, re-analysis and deletion. A key holds any of them (the demo key holds all three).
SCOPES = ("ingest", "read", "admin")


@dataclass(frozen=True)
class NewKey:
    plaintext: str  # shown once to the user, never stored
    prefix: str
    key_hash: str


def key_hash(key: str, pepper: str) -> str:
    return hmac.new(pepper.encode(), key.encode(), hashlib.sha256).hexdigest()


def generate(pepper: str) -> NewKey:
    prefix = KEY_PREFIX + secrets.token_hex(4)
    plaintext = f"{prefix}_{secrets.token_urlsafe(32)}"
    return NewKey(plaintext=plaintext, prefix=prefix, key_hash=key_hash(plaintext, pepper))


def prefix_of(key: str) -> str | None:
    """The lookup prefix of a presented key, or None if it cannot be one of ours."""
    size = len(KEY_PREFIX) + 8
    if not key.startswith(KEY_PREFIX) or len(key) > 200 or len(key) <= size + 1 or key[size] != "_":
        return None
    return key[:size]


def matches(key: str, stored_hash: str, peppers: list[str]) -> bool:
    """Constant-time comparison against each accepted pepper (current, then previous)."""
    ok = False
    for pepper in peppers:
        ok |= hmac.compare_digest(key_hash(key, pepper), stored_hash)
    return ok
