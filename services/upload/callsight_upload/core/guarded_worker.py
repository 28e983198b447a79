"""gunicorn's gevent worker with the two bounds gunicorn lacks (issue 18, row 2).

- A body that stops arriving: gunicorn waits for request headers at most `keepalive`
  seconds (gevent worker) but reads a body for as long as the client likes. Here every
  read and write on a client's socket gives up after `read_timeout_s` seconds without
  progress; the app answers 408 and closes (core/edge.py), so 48 clients declaring
  1,000 bytes and sending 7 hold nothing for long.
- One client address holding every connection: at most `per_client` connections from
  one address at a time in each worker process; the next is answered 429 at once, with
  `Retry-After`, and closed, before anything of it is read. Behind an ingress every
  connection comes from the controller, so the chart turns this off (0) and the
  ingress bounds connections per client instead (`limit-connections`).

Both are class attributes, set by `guarded_worker` in the master before it forks.
"""

from __future__ import annotations

import logging
import socket
from collections import Counter
from typing import Any, ClassVar

from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker
from prometheus_client import Counter as Metric

log = logging.getLogger(__name__)
REFUSED = Metric("callsight_connections_refused_total", "Connections refused: too many from one client address")
RETRY_AFTER_S = 5
_BODY = b"too many connections from your address; try again in a few seconds\n"
TOO_MANY = (b"HTTP/1.1 429 Too Many Requests\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Retry-After: %d\r\nConnection: close\r\nContent-Length: %d\r\n\r\n%s"
            % (RETRY_AFTER_S, len(_BODY), _BODY))


def client_address(addr: Any) -> str:
    return str(addr[0]) if isinstance(addr, tuple) and addr else str(addr)


class GuardedGeventWorker(GeventWorker):
    read_timeout_s: ClassVar[float] = 30.0
    per_client: ClassVar[int] = 0  # 0 = no bound
    open_by_client: Counter[str]

    def init_process(self) -> None:
        self.open_by_client = Counter()
        super().init_process()

    def handle(self, listener: Any, client: socket.socket, addr: Any) -> None:
        host = client_address(addr)
        if self.per_client and self.open_by_client[host] >= self.per_client:
            REFUSED.inc()
            log.warning("refused a connection from %s: it holds %d already", host, self.open_by_client[host])
            try:
                client.settimeout(1.0)
                client.sendall(TOO_MANY)
                client.shutdown(socket.SHUT_WR)
            except OSError:
                pass
            finally:
                client.close()
            return
        self.open_by_client[host] += 1
        try:
            # instead of GeventWorker.handle's setblocking(1): blocking, but never for longer than this
            client.settimeout(self.read_timeout_s)
            AsyncWorker.handle(self, listener, client, addr)
        finally:
            self.open_by_client[host] -= 1
            if not self.open_by_client[host]:
                del self.open_by_client[host]


def guarded_worker(read_timeout_s: float, per_client: int) -> type[GuardedGeventWorker]:
    """The worker class gunicorn runs, with these bounds."""
    return type("GuardedGeventWorker", (GuardedGeventWorker,),
                {"read_timeout_s": read_timeout_s, "per_client": per_client, "__module__": __name__})
