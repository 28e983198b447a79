"""The workers' settings: one configuration object per deployable, read once at start.

`WorkerSettings` for the transcription worker (`python -m callsight_worker`); the light
analysis worker (no speech model) has its own, `AnalysisWorkerSettings`.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Literal

from pydantic import SecretStr

from callsight.settings import (
    CacheSettings,
    JobSettings,
    ServiceSettings,
    StorageSettings,
    SummarySettings,
    TranscriptionQueueSettings,
    env,
    variable,
)
from callsight_worker.cpus import available_cpus
from callsight_worker.model import default_model_dir
from callsight_worker.speech import speaker_encoder


class AmiVoiceVariables(ServiceSettings):
    """AmiVoice's variables, handed as they are to the engine's own parser
    (engines/amivoice/config.py), which checks them and holds their defaults."""

    amivoice_appkey: SecretStr | None = env("CALLSIGHT_AMIVOICE_APPKEY", None,
                                            "AmiVoice APPKEY (from the AmiVoice MyPage); needed for the amivoice engine")
    amivoice_sync_base_url: str | None = env("CALLSIGHT_AMIVOICE_SYNC_BASE_URL", None,
                                             "Synchronous endpoint base (default https://acp-api.amivoice.com/v1)")
    amivoice_async_url: str | None = env("CALLSIGHT_AMIVOICE_ASYNC_URL", None, (
        "Asynchronous endpoint (default https://acp-api-async.amivoice.com/v2/recognitions)"))
    amivoice_engine_ja: str | None = env("CALLSIGHT_AMIVOICE_ENGINE_JA", None,
                                         "Engine for short Japanese audio (default -a-general)")
    amivoice_engine_en: str | None = env("CALLSIGHT_AMIVOICE_ENGINE_EN", None,
                                         "Engine for short English audio (default -a-general-en)")
    amivoice_batch_engine_ja: str | None = env("CALLSIGHT_AMIVOICE_BATCH_ENGINE_JA", None,
                                               "Engine for long Japanese audio (default -a2b-ja-general)")
    amivoice_batch_engine_en: str | None = env("CALLSIGHT_AMIVOICE_BATCH_ENGINE_EN", None,
                                               "Engine for long English audio (default -a2b-multi-general)")
    amivoice_allow_logging: str | None = env("CALLSIGHT_AMIVOICE_ALLOW_LOGGING", None,
                                             "Let AmiVoice keep request audio (default false: the no-log endpoints)")
    amivoice_telephone_codec: str | None = env("CALLSIGHT_AMIVOICE_TELEPHONE_CODEC", None,
                                               "How 8 kHz telephone audio is sent: mulaw (default) or alaw")
    amivoice_8k_engines: str | None = env("CALLSIGHT_AMIVOICE_8K_ENGINES", None,
                                          "More engines known to take 8 kHz audio (space separated)")
    amivoice_sync_max_s: str | None = env("CALLSIGHT_AMIVOICE_SYNC_MAX_S", None,
                                          "Audio longer than this many seconds goes to the asynchronous interface (default 120)")
    amivoice_poll_interval_s: str | None = env("CALLSIGHT_AMIVOICE_POLL_INTERVAL_S", None,
                                               "Longest wait between two polls of an asynchronous job, s (default 15)")
    amivoice_wait_base_s: str | None = env("CALLSIGHT_AMIVOICE_WAIT_BASE_S", None,
                                           "One attempt waits this long for an asynchronous job, s (default 900) …")
    amivoice_wait_per_audio: str | None = env("CALLSIGHT_AMIVOICE_WAIT_PER_AUDIO", None,
                                              "… plus this many seconds per second of audio (default 1)")
    amivoice_d_options: str | None = env("CALLSIGHT_AMIVOICE_D_OPTIONS", None,
                                         "Extra `d` options, `key=value` separated by spaces")

    def amivoice_environ(self) -> dict[str, str]:
        """The variables that are set, by name, as the engine's parser reads them."""
        found: dict[str, str] = {}
        for name, info in AmiVoiceVariables.model_fields.items():
            value = getattr(self, name)
            if isinstance(value, SecretStr):
                value = value.get_secret_value()
            if name.startswith("amivoice_") and value is not None:
                found[variable(info)] = str(value)
        return found


class WorkerSettings(AmiVoiceVariables, CacheSettings, StorageSettings, TranscriptionQueueSettings, JobSettings, SummarySettings):
    ops_port: int = env("OPS_PORT", 9090, "HTTP port of /healthz, /readyz and /metrics")
    worker_id: str = env("CALLSIGHT_WORKER_ID", f"{socket.gethostname()}-{os.getpid()}",
                         "Names this worker on the calls it claims", shown_default="hostname-pid")
    engine: Literal["whisper", "amivoice"] = env("CALLSIGHT_ENGINE", "whisper",
                                                 "Transcription engine: whisper (offline) or amivoice (cloud)")
    model_dir: Path | None = env("CALLSIGHT_MODEL_DIR", None,
                                 "Folder of the joined Whisper model", shown_default="CALLSIGHT_MODEL_CACHE/models/whisper-base")
    model_cache: Path | None = env("CALLSIGHT_MODEL_CACHE", None, "Cache folder of the model",
                                   shown_default="~/.cache/callsight")
    whisper_threads: int = env("CALLSIGHT_WHISPER_THREADS", available_cpus(), (
        "Threads of one call's transcription (one call decodes the speech of both channels in batches, on two "
        "model replicas side by side from 2 threads, so a lone worker keeps every core it is given busy); a mono "
        "call's speaker encoder runs on as many"), gt=0,
        shown_default="the cores the worker is given: CPU affinity, cgroup CPU quota (Kubernetes limit)")
    speaker_model_dir: Path | None = env("CALLSIGHT_SPEAKER_MODEL_DIR", None, (
        "Folder of the speaker encoder's weights (mono calls: telling operator and customer apart)"),
        shown_default="CALLSIGHT_MODEL_CACHE/models/speaker-encoder")
    diarization: bool = env("CALLSIGHT_DIARIZATION", True, (
        "Tell operator and customer apart by voice on one-track (mono) recordings; off: they stay 'mixed'"))
    requeue_after_s: int = env("CALLSIGHT_REQUEUE_AFTER_S", 900,
                               "The reconciler sends a Queued call's job again after this long, s", gt=0)
    progress_interval_s: float = env("CALLSIGHT_PROGRESS_INTERVAL_S", 2.0, (
        "A Processing call's progress (fraction, step, ETA) is published at most this often, s"), ge=0.5, le=60)
    analysis_queue_url: str | None = env("CALLSIGHT_ANALYSIS_QUEUE_URL", None, (
        "SQS queue of analysis jobs: an analysis job found on the transcription queue (sent by an older "
        "gateway) is moved there"))

    @property
    def model_path(self) -> Path:
        return default_model_dir(self.model_dir, self.model_cache)

    @property
    def speaker_model_path(self) -> Path:
        return self.speaker_model_dir or speaker_encoder.default_dir(self.model_cache)
