"""Per-API-key rate limiting: a fixed one-minute window counted in Redis.

When Redis is down each gateway process counts on its own, so limiting degrades
(a little more gets through) instead of refusing every request.
"""

from __future__ import annotations

import threading
import time

import redis

from callsight_upload.core.errors import ApiError

WINDOW_S = 60


class RateLimiter:
    def __init__(self, client: redis.Redis, per_minute: int) -> None:
        self.client = client
        self.per_minute = per_minute
        self._local: dict[tuple[str, int], int] = {}
        self._lock = threading.Lock()

    def _count(self, key_id: str, window: int) -> int:
        name = f"cs:rate:{key_id}:{window}"
        try:
            pipe = self.client.pipeline()
            pipe.incr(name)
            pipe.expire(name, WINDOW_S * 2)
            return int(pipe.execute()[0])
        except redis.RedisError:
            with self._lock:
                for old in [k for k in self._local if k[1] < window]:
                    del self._local[old]
                self._local[(key_id, window)] = self._local.get((key_id, window), 0) + 1
                return self._local[(key_id, window)]

    def check(self, key_id: str) -> None:
        """Raise 429 with Retry-After when this key has used up the current minute."""
        if self.per_minute <= 0:
            return
        now = time.time()
        window = int(now // WINDOW_S)
        if self._count(key_id, window) > self.per_minute:
            retry_after = max(1, int((window + 1) * WINDOW_S - now) + 1)
            raise ApiError(
                429, "rate_limited",
                f"this API key sent more than {self.per_minute} requests in a minute; retry in {retry_after} s",
                {"Retry-After": str(retry_after)},
            )
