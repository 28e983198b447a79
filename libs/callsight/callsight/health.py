"""Truthful health: what a service needs, checked in the background, one verdict for
gRPC health, /readyz and the Kubernetes probes that read them.

Each check names one dependency and is either `required` (without it the service
cannot do its work: not ready) or not (Redis: the service degrades to PostgreSQL and
says so, but stays ready). Checks run every `interval_s` in one thread, never on
the probe's request, so a hanging dependency cannot hang the probe.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    name: str
    probe: Callable[[], object]  # raises when the dependency is not usable (its answer is ignored)
    required: bool = True


def postgres_probe(engine: Engine) -> Callable[[], object]:
    def probe() -> None:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    return probe


class DependencyMonitor:
    """Runs the checks every `interval_s`; `on_change(ready)` is told each change of verdict."""

    def __init__(self, checks: list[Check], interval_s: float = 2.0,
                 on_change: Callable[[bool], None] | None = None) -> None:
        self.checks = checks
        self.interval_s = interval_s
        self.on_change = on_change
        self._results: dict[str, str] = {c.name: "not checked yet" for c in checks}
        self._ready: bool | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()

    def check_now(self) -> tuple[bool, dict[str, str]]:
        results: dict[str, str] = {}
        for check in self.checks:
            try:
                check.probe()
                results[check.name] = "ok"
            except Exception as exc:  # a check reports, never raises
                results[check.name] = f"down: {type(exc).__name__}" + ("" if check.required else " (degraded)")
        ready = all(results[c.name] == "ok" for c in self.checks if c.required)
        with self._lock:
            changed = ready != self._ready
            self._results, self._ready = results, ready
        if changed:
            log.log(logging.INFO if ready else logging.WARNING, "readiness: %s %s", ready, results)
            if self.on_change is not None:
                self.on_change(ready)
        return ready, results

    def state(self) -> tuple[bool, dict[str, str]]:
        """The last verdict (what /readyz answers)."""
        with self._lock:
            return bool(self._ready), dict(self._results)

    def start(self) -> DependencyMonitor:
        self.check_now()
        threading.Thread(target=self._run, name="health", daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.check_now()
