"""The lifecycle worker's settings: its one configuration object, read once at start."""

from __future__ import annotations

from callsight.settings import CacheSettings, ServiceSettings, StorageSettings, env


class LifecycleSettings(ServiceSettings, CacheSettings, StorageSettings):
    ops_port: int = env("OPS_PORT", 9090, "HTTP port of /healthz, /readyz and /metrics")
    deletion_interval_s: float = env("CALLSIGHT_DELETION_INTERVAL_S", 2.0, (
        "Seconds between two looks for deletions to finish (a deleted call is 404 at once; this is how soon its "
        "recording and rows are gone)"), gt=0)
    deletion_batch: int = env("CALLSIGHT_DELETION_BATCH", 100, "Deletions finished per transaction", gt=0, le=1000)
    retention_interval_s: float = env("CALLSIGHT_RETENTION_INTERVAL_S", 3600.0, (
        "Seconds between two passes of the retention reaper over every organisation"), gt=0)
    retention_batch: int = env("CALLSIGHT_RETENTION_BATCH", 500, (
        "Calls (or recordings) one batch of the retention reaper deletes; a pass runs batches until nothing "
        "is left"), gt=0, le=1000)
