"""Live call events for every viewer of this process from one stream per organisation.

The first viewer of an organisation opens one WatchCalls stream to the status service;
every further viewer of it is one more queue on that stream. Each event is turned
into its Server-Sent Events text once and handed to every queue, so 500 dashboards
cost 500 queues and one gRPC stream, not 500 streams (nor, under gunicorn's gevent
workers, 500 threads). The stream is reopened after a failure with a short backoff,
and closed a little after its organisation's last viewer left.

Written with `threading` and `queue`: real threads under a plain server and the test
client, greenlets under gevent (which patches them).
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from prometheus_client import Counter, Gauge

from callsight.call_document import progress_json
from callsight.convert import PROTO_TO_STATUS
from callsight.v1 import calls_pb2
from callsight_upload.core.errors import ApiError

log = logging.getLogger(__name__)

VIEWERS = Gauge("callsight_gateway_live_viewers", "Open live event streams (SSE) of this process",
                multiprocess_mode="livesum")
ORG_STREAMS = Gauge("callsight_gateway_live_org_streams", "WatchCalls streams this process holds, one per watched organisation",
                    multiprocess_mode="livesum")
DROPPED = Counter("callsight_gateway_live_dropped_total", "Viewers cut off because they fell too far behind")
VIEWER_QUEUE = 256
LINGER_S = 30.0  # an organisation's stream outlives its last viewer this long (page reloads)
UNAVAILABLE = "event: unavailable\ndata: {}\n\n"


def event_text(event: calls_pb2.CallEvent) -> str:
    """One status event as Server-Sent Events text, the same bytes for every viewer."""
    call = event.call
    body: dict[str, Any] = {
        "call_id": call.call_id,
        "status": PROTO_TO_STATUS.get(call.status, "Queued"),
        "previous_status": PROTO_TO_STATUS.get(event.previous_status),
        "progress": progress_json(call),
        "duration_s": round(call.duration_s, 3) if call.duration_s else None,
        "error": call.error or None,
        "deleted": event.deleted,  # the dashboard drops the call's row
    }
    return f"event: call\ndata: {json.dumps(body, ensure_ascii=False)}\n\n"


class EventStream(Protocol):
    """A WatchCalls stream: iterate its events; `cancel` ends it from another thread."""

    def __iter__(self) -> Iterator[calls_pb2.CallEvent]: ...

    def cancel(self) -> Any: ...


Opener = Callable[[str], EventStream]


@dataclass(eq=False)
class Viewer:
    org_id: str
    queue: queue.Queue[str] = field(default_factory=lambda: queue.Queue(VIEWER_QUEUE))
    cut_off: bool = False

    def offer(self, text: str) -> None:
        try:
            self.queue.put_nowait(text)
        except queue.Full:
            # a viewer this far behind reconnects and refetches: better than holding memory for it
            self.cut_off = True
            DROPPED.inc()


class OrgStream:
    """One organisation's WatchCalls stream and the viewers it feeds."""

    def __init__(self, org_id: str, open_stream: Opener) -> None:
        self.org_id = org_id
        self.open_stream = open_stream
        self.current: EventStream | None = None
        self.viewers: set[Viewer] = set()
        self.lock = threading.Lock()
        self.idle_since: float | None = None
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"live-{org_id}", daemon=True)

    def _broadcast(self, text: str) -> None:
        with self.lock:
            viewers = list(self.viewers)
        for viewer in viewers:
            viewer.offer(text)

    def _run(self) -> None:
        ORG_STREAMS.inc()
        backoff = 0.5
        try:
            while not self.stopped.is_set():
                opened = time.monotonic()
                try:
                    self.current = self.open_stream(self.org_id)
                    for event in self.current:
                        self._broadcast(event_text(event))
                        if self.stopped.is_set():
                            return
                except ApiError as exc:
                    if self.stopped.is_set():
                        return
                    log.warning("live events of %s: the status service stream broke (%s)", self.org_id, exc.message)
                    self._broadcast(UNAVAILABLE)
                except Exception:
                    log.exception("live events of %s: unexpected failure", self.org_id)
                    self._broadcast(UNAVAILABLE)
                if time.monotonic() - opened > 10:
                    backoff = 0.5
                self.stopped.wait(backoff)
                backoff = min(10.0, backoff * 2)
        finally:
            ORG_STREAMS.dec()

    def stop(self) -> None:
        self.stopped.set()
        if self.current is not None:
            self.current.cancel()


class LiveCalls:
    """The process's organisation streams; `viewer(org)` registers one more viewer."""

    def __init__(self, open_stream: Opener, linger_s: float = LINGER_S) -> None:
        self.open_stream = open_stream
        self.linger_s = linger_s
        self.streams: dict[str, OrgStream] = {}
        self.lock = threading.Lock()
        self._reaper = threading.Thread(target=self._reap, name="live-reaper", daemon=True)
        self._reaper.start()

    def join(self, org_id: str) -> Viewer:
        viewer = Viewer(org_id)
        with self.lock:
            stream = self.streams.get(org_id)
            if stream is None or stream.stopped.is_set():
                stream = OrgStream(org_id, self.open_stream)
                self.streams[org_id] = stream
                stream.thread.start()
            with stream.lock:
                stream.viewers.add(viewer)
                stream.idle_since = None
        VIEWERS.inc()
        return viewer

    def leave(self, viewer: Viewer) -> None:
        VIEWERS.dec()
        with self.lock:
            stream = self.streams.get(viewer.org_id)
            if stream is None:
                return
            with stream.lock:
                stream.viewers.discard(viewer)
                if not stream.viewers:
                    stream.idle_since = time.monotonic()

    def _reap(self) -> None:
        """Closes streams whose organisation has had no viewer for `linger_s`."""
        while True:
            time.sleep(min(5.0, self.linger_s))
            now = time.monotonic()
            with self.lock:
                for org_id, stream in list(self.streams.items()):
                    with stream.lock:
                        idle = stream.idle_since is not None and not stream.viewers
                    if idle and now - (stream.idle_since or now) >= self.linger_s:
                        stream.stop()
                        del self.streams[org_id]

    def sse(self, org_id: str, heartbeat_s: float, max_s: float) -> Iterator[str]:
        """A viewer's Server-Sent Events: its organisation's events as they come, a comment
        every `heartbeat_s` when nothing happens (so a vanished client is noticed when the
        write fails, and proxies keep the connection), ending after `max_s`."""
        viewer = self.join(org_id)
        try:
            yield "retry: 2000\n\n"
            deadline = time.monotonic() + max_s
            while not viewer.cut_off:
                left = deadline - time.monotonic()
                if left <= 0:
                    return
                try:
                    yield viewer.queue.get(timeout=min(heartbeat_s, left))
                except queue.Empty:
                    yield ": heartbeat\n\n"
        finally:
            self.leave(viewer)
