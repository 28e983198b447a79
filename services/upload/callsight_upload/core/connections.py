"""The gateway's connections, made once per process (after gunicorn forks).

PostgreSQL here is only what the gateway owns: the call outbox (new calls, retries),
deletion requests (tombstones), re-run requests, organisations and their settings, API
keys, users and sessions, webhooks, and the audit log it appends to.
Everything else it shows is read over gRPC through `reads`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import grpc
from flask import current_app
from sqlalchemy import Engine

from callsight import grpc_tls
from callsight.aws import s3_client, sqs_client
from callsight.db.audit_repo import AuditLog
from callsight.db.call_outbox import CallOutbox
from callsight.db.deletion_requests import DeletionRequests
from callsight.db.engine import make_engine
from callsight.db.orgs_repo import OrgRepository
from callsight.db.rerun_requests import RerunRequests
from callsight.db.users_repo import SessionRepository, UserRepository
from callsight.db.webhooks_repo import WebhookRepository
from callsight.internal_auth import asserting_channel
from callsight.jobqueue import JobQueue
from callsight.status_cache import StatusCache
from callsight.storage import AudioStore
from callsight.v1 import job_pb2
from callsight_upload.core.live import LiveCalls
from callsight_upload.core.login_throttle import LoginThrottle
from callsight_upload.core.ratelimit import RateLimiter
from callsight_upload.core.reads import Reads
from callsight_upload.settings import GatewaySettings


@dataclass
class Connections:
    settings: GatewaySettings

    @cached_property
    def engine(self) -> Engine:
        return make_engine(self.settings.database_url.get_secret_value(), pool_size=10)

    @cached_property
    def outbox(self) -> CallOutbox:
        return CallOutbox(self.engine)

    @cached_property
    def deletions(self) -> DeletionRequests:
        return DeletionRequests(self.engine)

    @cached_property
    def audit(self) -> AuditLog:
        return AuditLog(self.engine)

    @cached_property
    def webhooks(self) -> WebhookRepository:
        return WebhookRepository(self.engine)

    @cached_property
    def rerun_requests(self) -> RerunRequests:
        return RerunRequests(self.engine)

    @cached_property
    def orgs(self) -> OrgRepository:
        return OrgRepository(self.engine, self.settings.peppers)

    @cached_property
    def users(self) -> UserRepository:
        return UserRepository(self.engine)

    @cached_property
    def web_sessions(self) -> SessionRepository:
        return SessionRepository(self.engine, dt.timedelta(seconds=self.settings.session_idle_s),
                                 dt.timedelta(seconds=self.settings.session_absolute_s))

    @cached_property
    def audio(self) -> AudioStore:
        return AudioStore(s3_client(self.settings.s3_endpoint_url, self.settings.aws_region), self.settings.s3_bucket)

    @cached_property
    def sqs(self) -> object:
        return sqs_client(self.settings.sqs_endpoint_url, self.settings.aws_region, max_attempts=2, read_timeout=10)

    @cached_property
    def queue(self) -> JobQueue[job_pb2.TranscriptionJob]:
        return JobQueue(self.sqs, self.settings.sqs_queue_url, self.settings.sqs_dlq_url, job_pb2.TranscriptionJob)

    @cached_property
    def analysis_queue(self) -> JobQueue[job_pb2.AnalysisJob]:
        return JobQueue(self.sqs, self.settings.analysis_queue_url, self.settings.analysis_dlq_url, job_pb2.AnalysisJob)

    @cached_property
    def cache(self) -> StatusCache:
        return StatusCache(self.settings.redis_url.get_secret_value())

    @cached_property
    def rate_limiter(self) -> RateLimiter:
        return RateLimiter(self.cache.client, self.settings.rate_limit_per_minute)

    @cached_property
    def login_throttle(self) -> LoginThrottle:
        s = self.settings
        return LoginThrottle(self.cache.client, s.login_max_failures_per_account, s.login_max_failures_per_address,
                             s.login_lockout_s)

    @cached_property
    def status_channel(self) -> grpc.Channel:
        # mutual TLS (who may connect) and, on every read, the organisation it is for (signed)
        plain = grpc_tls.channel(self.settings.status_addr, self.settings.grpc_tls)
        return asserting_channel(plain, self.settings.internal_auth_key.get_secret_value())

    @cached_property
    def reads(self) -> Reads:
        return Reads(self.status_channel)

    @cached_property
    def live(self) -> LiveCalls:
        return LiveCalls(self.reads.watch_calls)


def connections() -> Connections:
    """The current app's connections (set up by `create_app`)."""
    found: Connections = current_app.extensions["callsight"]
    return found
