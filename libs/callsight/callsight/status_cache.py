"""StatusCache: live call status in Redis, and a pub/sub bus of status changes.

Redis is a cache and a bus only. Every method degrades to "not cached" / "not
published" when Redis is down, so callers fall back to PostgreSQL, never fail.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import redis

from callsight.v1 import calls_pb2

log = logging.getLogger(__name__)

TTL_S = 300


def _call_key(org_id: str, call_id: str) -> str:
    return f"cs:call:{org_id}:{call_id}"


def channel(org_id: str) -> str:
    return f"cs:events:{org_id}"


class StatusCache:
    def __init__(self, url: str) -> None:
        self.client = redis.Redis.from_url(
            url, socket_timeout=1.0, socket_connect_timeout=1.0, health_check_interval=10
        )

    def get(self, org_id: str, call_id: str) -> calls_pb2.Call | None:
        try:
            raw = self.client.get(_call_key(org_id, call_id))
        except redis.RedisError as exc:
            log.warning("status cache read failed: %s", exc)
            return None
        if raw is None:
            return None
        call = calls_pb2.Call()
        call.ParseFromString(raw)
        return call

    def put(self, call: calls_pb2.Call) -> None:
        try:
            self.client.set(_call_key(call.org_id, call.call_id), call.SerializeToString(), ex=TTL_S)
        except redis.RedisError as exc:
            log.warning("status cache write failed: %s", exc)

    def forget(self, org_id: str, call_id: str) -> None:
        try:
            self.client.delete(_call_key(org_id, call_id))
        except redis.RedisError as exc:
            log.warning("status cache delete failed: %s", exc)

    def publish(self, call: calls_pb2.Call, previous: calls_pb2.CallStatus) -> None:
        """Write-through then announce: watchers see the change at once."""
        self.put(call)
        event = calls_pb2.CallEvent(call=call, previous_status=previous)
        try:
            self.client.publish(channel(call.org_id), event.SerializeToString())
        except redis.RedisError as exc:
            log.warning("status publish failed: %s", exc)

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
