"""The analysis worker's settings: its one configuration object, read once at start."""

from __future__ import annotations

import os
import socket

from callsight.settings import (
    AnalysisQueueSettings,
    AttemptSettings,
    CacheSettings,
    ServiceSettings,
    SummarySettings,
    env,
)


class AnalysisWorkerSettings(ServiceSettings, AnalysisQueueSettings, CacheSettings, AttemptSettings, SummarySettings):
    # Redis: a role swap changes a call's speakers, so its cached copy is dropped
    ops_port: int = env("OPS_PORT", 9090, "HTTP port of /healthz, /readyz and /metrics")
    worker_id: str = env("CALLSIGHT_WORKER_ID", f"{socket.gethostname()}-{os.getpid()}",
                         "Names this worker in logs", shown_default="hostname-pid")
    rerun_drip_per_s: float = env("CALLSIGHT_RERUN_DRIP_PER_S", 20.0, (
        "Analysis jobs per second one analysis worker's producer enqueues for re-runs"), gt=0)
    rerun_max_queued: int = env("CALLSIGHT_RERUN_MAX_QUEUED", 500, (
        "A re-run waits while the analysis queue holds this many jobs, so one call's re-run never waits long"), gt=0)
    requeue_after_s: int = env("CALLSIGHT_REQUEUE_AFTER_S", 900, (
        "A re-run's job is sent again when its call has no new analysis this long after it was sent, s"), gt=0)
