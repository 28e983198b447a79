"""Builds a Worker and its connections from settings: one place for the entry point and tests."""

from __future__ import annotations

from sqlalchemy import Engine

from callsight.aws import s3_client, sqs_client
from callsight.db.analyses_repo import AnalysisRepository
from callsight.db.calls_repo import CallRepository
from callsight.db.engine import make_engine
from callsight.db.orgs_repo import OrgRepository
from callsight.jobqueue import JobQueue
from callsight.status_cache import StatusCache
from callsight.storage import AudioStore
from callsight_worker.engines.factory import EngineRegistry
from callsight_worker.settings import WorkerSettings
from callsight_worker.worker import Worker


def build_worker(settings: WorkerSettings) -> tuple[Worker, Engine]:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=2)
    worker = Worker(
        settings,
        CallRepository(engine),
        OrgRepository(engine),
        AudioStore(s3_client(settings.s3_endpoint_url, settings.aws_region), settings.s3_bucket),
        JobQueue(
            sqs_client(settings.sqs_endpoint_url, settings.aws_region, read_timeout=30),
            settings.sqs_queue_url, settings.sqs_dlq_url,
        ),
        StatusCache(settings.redis_url.get_secret_value()),
        EngineRegistry(settings),
        AnalysisRepository(engine),
    )
    return worker, engine
