"""StatusCache: live call status in Redis, and a pub/sub bus of status changes.

Redis is a cache and a bus only. Every method degrades to "not cached" / "not
published" when Redis is down, so callers fall back to PostgreSQL, never fail.

Writers run in any order (the gateway's Queued, a worker's Processing and progress,
the reconciler's Failed, a retry's new generation, the status service filling the
cache from PostgreSQL), so every write is a compare-and-set inside Redis: one Lua
script compares the call's version, (generation, status rank, attempt, progress), with
the stored one and writes, and announces, only a newer state. Because the script runs
atomically, the bus carries each call's states in version order too.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import redis

from callsight.v1 import calls_pb2

log = logging.getLogger(__name__)

TTL_S = 300
STATUS_RANK = {
    calls_pb2.CALL_STATUS_UNSPECIFIED: 0,
    calls_pb2.CALL_STATUS_QUEUED: 0,
    calls_pb2.CALL_STATUS_PROCESSING: 1,
    calls_pb2.CALL_STATUS_DONE: 2,
    calls_pb2.CALL_STATUS_FAILED: 2,
}

# KEYS[1] the call's hash; ARGV: generation, rank, attempt, progress (per mille), the Call,
# TTL, the CallEvent to publish ('' = none), the channel, the call's uid (a different call
# under the same Call ID — the old one was deleted — always replaces what is stored). Returns 0 = older (nothing
# written), 1 = same version (refreshed, not announced), 2 = newer (written, announced).
_COMPARE_AND_SET = """
local kind = redis.call('TYPE', KEYS[1])['ok']
local same = false
if kind == 'hash' and redis.call('HGET', KEYS[1], 'u') == ARGV[9] then
  local stored = redis.call('HMGET', KEYS[1], 'g', 'r', 'a', 'p')
  for i = 1, 4 do
    local old = tonumber(stored[i]) or -1
    local new = tonumber(ARGV[i])
    if new > old then break end
    if new < old then return 0 end
    if i == 4 then same = true end
  end
elseif kind ~= 'none' then
  redis.call('DEL', KEYS[1])
end
redis.call('HSET', KEYS[1], 'g', ARGV[1], 'r', ARGV[2], 'a', ARGV[3], 'p', ARGV[4], 'call', ARGV[5], 'u', ARGV[9])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[6]))
if same then return 1 end
if ARGV[7] ~= '' then redis.call('PUBLISH', ARGV[8], ARGV[7]) end
return 2
"""

OLDER, SAME, NEWER = 0, 1, 2


def _call_key(org_id: str, call_id: str) -> str:
    return f"cs:call:{org_id}:{call_id}"


def channel(org_id: str) -> str:
    return f"cs:events:{org_id}"


def version(call: calls_pb2.Call) -> tuple[int, int, int, int]:
    """Order of a call's states: a retry's generation, then Queued < Processing < Done|Failed,
    then the processing attempt (a redelivered job starts its progress again), then progress."""
    progress = round(call.progress.fraction * 1000) if call.status == calls_pb2.CALL_STATUS_PROCESSING else 0
    return call.generation, STATUS_RANK.get(call.status, 0), call.attempts, progress


class StatusCache:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=10
        )
        self._compare_and_set = self.client.register_script(_COMPARE_AND_SET)

    def get(self, org_id: str, call_id: str) -> calls_pb2.Call | None:
        try:
            raw = self.client.hget(_call_key(org_id, call_id), "call")
        except redis.ResponseError:
            return None  # a value an older release stored: a miss, the next write replaces it
        except redis.RedisError as exc:
            log.warning("status cache read failed: %s", exc)
            return None
        if raw is None:
            return None
        call = calls_pb2.Call()
        call.ParseFromString(raw)
        return call

    def _write(self, call: calls_pb2.Call, event: bytes) -> int | None:
        args: list[Any] = [*version(call), call.SerializeToString(), TTL_S, event, channel(call.org_id), call.uid]
        try:
            return int(self._compare_and_set(keys=[_call_key(call.org_id, call.call_id)], args=args))
        except redis.RedisError as exc:
            log.warning("status cache write failed: %s", exc)
            return None

    def put(self, call: calls_pb2.Call) -> bool:
        """Cache a state read elsewhere (PostgreSQL); never replaces a newer one. True when
        stored."""
        return self._write(call, b"") in (SAME, NEWER)

    def forget(self, org_id: str, call_id: str) -> None:
        try:
            self.client.delete(_call_key(org_id, call_id))
        except redis.RedisError as exc:
            log.warning("status cache delete failed: %s", exc)

    def publish(self, call: calls_pb2.Call, previous: calls_pb2.CallStatus) -> bool:
        """Write-through then announce, both only when `call` is newer than what Redis
        holds: watchers see each change at once and never a step back. True when announced."""
        event = calls_pb2.CallEvent(call=call, previous_status=previous)
        return self._write(call, event.SerializeToString()) == NEWER

    def publish_deleted(self, call: calls_pb2.Call) -> None:
        """The call is gone: drop its cached status (only if it is still this call's, as the
        Call ID may be in use again) and tell watchers to drop it."""
        cached = self.get(call.org_id, call.call_id)
        if cached is not None and (not cached.uid or cached.uid == call.uid):
            self.forget(call.org_id, call.call_id)
        event = calls_pb2.CallEvent(call=call, previous_status=call.status, deleted=True)
        try:
            self.client.publish(channel(call.org_id), event.SerializeToString())
        except redis.RedisError as exc:
            log.warning("deletion publish failed: %s", exc)

    def subscribe(self, org_id: str, timeout_s: float = 1.0) -> Iterator[calls_pb2.CallEvent | None]:
        """Yields events as they arrive, and None every `timeout_s` so callers can check
        for cancellation. Raises redis.RedisError when Redis goes away."""
        pubsub = self.client.pubsub(ignore_subscribe_messages=True)
        try:
            pubsub.subscribe(channel(org_id))
            while True:
                message = pubsub.get_message(timeout=timeout_s)
                if message is None:
                    yield None
                    continue
                event = calls_pb2.CallEvent()
                event.ParseFromString(message["data"])
                yield event
        finally:
            try:
                pubsub.close()
            except redis.RedisError:
                pass

    def ping(self) -> bool:
        try:
            return bool(self.client.ping())
        except redis.RedisError:
            return False
