"""Sign-in throttling: failed attempts counted per account and per client address.

Each failure adds to two counters in Redis (one for the e-mail address, one for the
client's address) that expire `window_s` after the first failure. When a counter reaches
its limit, sign-in for that account (or from that address) is locked until the window
ends: 429 with Retry-After, even for the right password, so guessing gains nothing. A
success clears the account's counter. Every lock is a warning log line and a metric.
Without Redis each gateway process counts on its own (still a limit, only per process).
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from dataclasses import dataclass

import redis
from prometheus_client import Counter

log = logging.getLogger(__name__)

LOGIN_FAILURES = Counter("callsight_login_failures_total", "Failed web sign-ins")
LOGIN_LOCKED = Counter("callsight_login_locked_total", "Sign-ins refused by throttling (429)", ["scope"])


@dataclass(frozen=True)
class Locked:
    scope: str  # "account" | "address"
    retry_after_s: int


def _key(scope: str, value: str) -> str:
    # the address and the e-mail never sit in Redis in the clear
    return f"cs:login:{scope}:" + hashlib.sha256(value.encode()).hexdigest()[:32]


class LoginThrottle:
    def __init__(self, client: redis.Redis, per_account: int, per_address: int, window_s: int) -> None:
        self.client = client
        self.limits = {"account": per_account, "address": per_address}
        self.window_s = window_s
        self._local: dict[str, tuple[int, float]] = {}
        self._lock = threading.Lock()

    def _keys(self, email: str, address: str) -> dict[str, str]:
        return {"account": _key("account", email.strip().lower()), "address": _key("address", address)}

    def check(self, email: str, address: str) -> Locked | None:
        """Locked (with how long) when either counter has reached its limit."""
        for scope, key in self._keys(email, address).items():
            limit = self.limits[scope]
            if limit <= 0:
                continue
            count, ttl = self._read(key)
            if count >= limit:
                LOGIN_LOCKED.labels(scope).inc()
                log.warning("sign-in locked: too many failures for this %s", scope,
                            extra={"scope": scope, "failures": count, "retry_after_s": ttl})
                return Locked(scope, max(1, ttl))
        return None

    def failed(self, email: str, address: str) -> None:
        LOGIN_FAILURES.inc()
        for key in self._keys(email, address).values():
            self._add(key)

    def succeeded(self, email: str) -> None:
        key = self._keys(email, "")["account"]
        try:
            self.client.delete(key)
        except redis.RedisError:
            pass
        with self._lock:
            self._local.pop(key, None)

    def _add(self, key: str) -> None:
        try:
            pipe = self.client.pipeline()
            # the window starts at the first failure (SET NX EX: Redis 6 has no EXPIRE NX)
            pipe.set(key, 0, ex=self.window_s, nx=True)
            pipe.incr(key)
            pipe.execute()
            return
        except redis.RedisError:
            pass
        now = time.monotonic()
        with self._lock:
            count, until = self._local.get(key, (0, now + self.window_s))
            if until <= now:
                count, until = 0, now + self.window_s
            self._local[key] = (count + 1, until)

    def _read(self, key: str) -> tuple[int, int]:
        try:
            pipe = self.client.pipeline()
            pipe.get(key)
            pipe.ttl(key)
            value, ttl = pipe.execute()
            return int(value or 0), int(ttl if ttl and ttl > 0 else self.window_s)
        except redis.RedisError:
            pass
        now = time.monotonic()
        with self._lock:
            count, until = self._local.get(key, (0, now))
            return (count, int(until - now) + 1) if until > now else (0, 0)
