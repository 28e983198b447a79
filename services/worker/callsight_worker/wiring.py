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
from callsight.v1 import job_pb2
from callsight_worker.analysis import configured_summarizer
from callsight_worker.call_analyser import CallAnalyser
from callsight_worker.engines.factory import EngineRegistry
from callsight_worker.settings import WorkerSettings
from callsight_worker.worker import Worker


def build_worker(settings: WorkerSettings) -> tuple[Worker, Engine]:
    engine = make_engine(settings.database_url.get_secret_value(), pool_size=2)
    calls, orgs = CallRepository(engine), OrgRepository(engine)
    sqs = sqs_client(settings.sqs_endpoint_url, settings.aws_region, read_timeout=30)
    analysis_queue = None
    if settings.analysis_queue_url:
        analysis_queue = JobQueue(sqs, settings.analysis_queue_url, None, job_pb2.AnalysisJob)
    cache = StatusCache(settings.redis_url.get_secret_value())
    worker = Worker(
        settings,
        calls,
        orgs,
        AudioStore(s3_client(settings.s3_endpoint_url, settings.aws_region), settings.s3_bucket),
        JobQueue(sqs, settings.sqs_queue_url, settings.sqs_dlq_url, job_pb2.TranscriptionJob),
        cache,
        EngineRegistry(settings),
        CallAnalyser(calls, orgs, AnalysisRepository(engine), configured_summarizer(settings), cache),
        analysis_queue,
    )
    return worker, engine
