"""Tables of the system of record (PostgreSQL). Migrations in `migrations/` create them."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

metadata = MetaData()

STATUSES = ("Queued", "Processing", "Done", "Failed")
# Transitions only move forward in rank; Done and Failed share the final rank.
STATUS_RANK = {"Queued": 0, "Processing": 1, "Done": 2, "Failed": 2}

organizations = Table(
    "organizations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("default_language", String(5), nullable=False, server_default="ja-JP"),
    Column("auto_generate_analytics", Boolean, nullable=False, server_default="true"),
    Column("operator_channel", String(5), nullable=False, server_default="left"),
    Column("redact_pii", Boolean, nullable=False, server_default="false"),
    Column("engine", String(20), nullable=True),
    # the organisation's QA evaluation form (JSON); NULL = the default form for the call's language
    Column("qa_form", JSONB, nullable=True),
    # product names and terms the engines should prefer: [{"text", "reading", "language"}] (migration 0005)
    Column("vocabulary", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # per engine, the organisation's own settings: {"amivoice": {...}} (migration 0006)
    Column("engine_settings", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # how long the organisation keeps recordings, and transcripts with their analyses, in days
    # from upload; 0 = forever (migration 0009). A call goes whole when its transcript does.
    Column("audio_retention_days", Integer, nullable=False, server_default="0"),
    Column("transcript_retention_days", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("default_language IN ('ja-JP', 'en-US')", name="ck_org_language"),
    CheckConstraint("audio_retention_days >= 0 AND transcript_retention_days >= 0", name="ck_org_retention"),
    CheckConstraint("operator_channel IN ('left', 'right')", name="ck_org_operator_channel"),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("name", String(200), nullable=False),
    Column("prefix", String(32), nullable=False, unique=True),
    Column("key_hash", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_used_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # what the key may do: ingest (upload, retry), read, admin (migration 0009; older keys got all three)
    Column("scopes", ARRAY(String(16)), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("created_by", String(320), nullable=True),
    CheckConstraint("cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read', 'admin']::varchar[]",
                    name="ck_api_keys_scopes"),
    Index("ix_api_keys_org", "org_id"),
)

calls = Table(
    "calls",
    metadata,
    Column("uid", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("call_id", String(255), nullable=False),
    Column("status", String(12), nullable=False, server_default="Queued"),
    Column("status_rank", SmallInteger, nullable=False, server_default="0"),
    Column("error", Text, nullable=True),
    Column("language", String(5), nullable=False),
    # where `language` came from: the upload, the organisation default, or detection from the audio (0005)
    Column("language_source", String(10), nullable=False, server_default="request"),
    Column("detected_language", String(5), nullable=True),
    Column("language_confidence", Float, nullable=True),
    # what a supervisor should know about the result: language mismatch, text dropped by the guards
    Column("warnings", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    # how operator and customer were told apart (0009): method, voices, operator voice, confidence, evidence
    Column("speakers", JSONB, nullable=True),
    Column("operator_id", String(255), nullable=True),
    Column("customer_id", String(255), nullable=True),
    Column("department", String(255), nullable=True),
    Column("call_date", Date, nullable=False),
    Column("operator_channel", String(5), nullable=True),
    Column("duration_s", Float, nullable=True),
    Column("channels", SmallInteger, nullable=True),
    Column("sample_rate", Integer, nullable=True),
    Column("audio_format", String(8), nullable=False),
    Column("original_filename", String(255), nullable=True),
    Column("size_bytes", BigInteger, nullable=False),
    Column("audio_key", String(255), nullable=False),
    Column("generation", Integer, nullable=False, server_default="1"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("worker_id", String(128), nullable=True),
    Column("enqueued_at", DateTime(timezone=True), nullable=True),
    Column("heartbeat_at", DateTime(timezone=True), nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    # remote jobs a cloud engine started for this call, so a restarted worker resumes them (0006)
    Column("engine_jobs", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    # how far the current processing attempt is, as its worker last measured it (0008);
    # `progress_at` moves, `updated_at` does not: progress is not a change of the call
    Column("progress", Float, nullable=True),
    Column("progress_step", String(16), nullable=True),
    Column("progress_at", DateTime(timezone=True), nullable=True),
    Column("eta_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # a deletion was asked for (0009): the call is gone for every reader, its Call ID free again,
    # and `call_deletions` holds the work left (S3 objects, rows) until the lifecycle worker ends it
    Column("deleted_at", DateTime(timezone=True), nullable=True),
    # the recording was removed by the organisation's audio retention; the transcript stays (0009)
    Column("audio_deleted_at", DateTime(timezone=True), nullable=True),
    # unique among the calls not being deleted, so a deleted call's Call ID can be used again at once
    Index("uq_calls_org_call_id", "org_id", "call_id", unique=True, postgresql_where=text("deleted_at IS NULL")),
    CheckConstraint("status IN ('Queued', 'Processing', 'Done', 'Failed')", name="ck_calls_status"),
    CheckConstraint("status <> 'Failed' OR error IS NOT NULL", name="ck_calls_failed_has_reason"),
    CheckConstraint("language_source IN ('request', 'default', 'detected')", name="ck_calls_language_source"),
    Index("ix_calls_org_created", "org_id", "created_at", "uid"),
    Index("ix_calls_org_status", "org_id", "status", "created_at"),
    Index("ix_calls_org_department", "org_id", "department", "call_date"),
    Index("ix_calls_org_operator", "org_id", "operator_id", "call_date"),
    Index("ix_calls_org_customer", "org_id", "customer_id", "call_date"),
    Index("ix_calls_org_call_date", "org_id", "call_date"),
    Index("ix_calls_pending", "status", "enqueued_at", postgresql_where="status_rank < 2"),
    # scorecard and department aggregates over Done calls in a date range (migration 0003)
    Index("ix_calls_done_org_date", "org_id", "call_date", postgresql_include=["operator_id", "department", "uid"],
          postgresql_where="status = 'Done' AND deleted_at IS NULL"),
)

transcripts = Table(
    "transcripts",
    metadata,
    Column("call_uid", String(36), ForeignKey("calls.uid", ondelete="CASCADE"), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("language", String(5), nullable=False),
    Column("engine", String(32), nullable=False),
    Column("model", String(128), nullable=False),
    Column("speaker_mode", String(8), nullable=False),
    Column("duration_s", Float, nullable=False),
    Column("text", Text, nullable=False),
    Column("turns", JSONB, nullable=False),
    # how the timeline was built and what the hallucination/echo guards dropped (0005)
    Column("meta", JSONB, nullable=True),
    Column("s3_key", String(255), nullable=True),  # unused since 0007 (the S3 copy had no reader)
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_transcripts_org", "org_id"),
    # trigram search works for Japanese too (no word boundaries needed)
    Index("ix_transcripts_text_trgm", "text", postgresql_using="gin", postgresql_ops={"text": "gin_trgm_ops"}),
)

users = Table(
    "users",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("email", String(320), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("password_hash", String(255), nullable=False),
    Column("role", String(16), nullable=False, server_default="supervisor"),
    Column("locale", String(5), nullable=False, server_default="ja"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_login_at", DateTime(timezone=True), nullable=True),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("role IN ('admin', 'supervisor')", name="ck_users_role"),
    CheckConstraint("locale IN ('ja', 'en')", name="ck_users_locale"),
    Index("ix_users_org", "org_id"),
)

web_sessions = Table(
    "web_sessions",
    metadata,
    Column("id_hash", String(64), primary_key=True),  # sha256 of the cookie value
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Index("ix_web_sessions_user", "user_id"),
)

analyses = Table(
    "analyses",
    metadata,
    Column("call_uid", String(36), ForeignKey("calls.uid", ondelete="CASCADE"), primary_key=True),
    Column("org_id", String(64), nullable=False),
    Column("analysis_version", String(16), nullable=False),
    Column("form_fingerprint", String(64), nullable=True),
    Column("result", JSONB, nullable=False),
    # denormalised figures the scorecard aggregates read without opening the JSON
    Column("qa_score", Float, nullable=True),
    Column("operator_talk_share", Float, nullable=True),
    Column("silence_total_s", Float, nullable=True),
    Column("longest_silence_s", Float, nullable=True),
    Column("interruptions", Integer, nullable=True),
    Column("customer_sentiment_start", Float, nullable=True),
    Column("customer_sentiment_end", Float, nullable=True),
    Column("customer_sentiment_change", Float, nullable=True),
    # item id -> passed (true / false / null = not applicable), for per-item pass rates
    Column("qa_items", JSONB, nullable=True),
    # why the analysis could not be made (the transcript is stored regardless); NULL = ok
    Column("error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_analyses_org", "org_id"),
    # covering: the scorecard aggregates read their figures from the index (migration 0004)
    Index("ix_analyses_figures", "call_uid", postgresql_include=[
        "error", "qa_score", "operator_talk_share", "silence_total_s", "longest_silence_s", "interruptions",
        "customer_sentiment_change", "qa_items"]),
)

# A re-run of the analysis over an organisation's Done calls (migration 0007). The
# gateway writes the request; the analysis workers' producer advances it in batches
# (cursor = the last call enqueued, by created_at then uid) and records each call it
# enqueued, so progress is counted exactly, whatever is delivered twice.
RERUN_STATES = ("queued", "enqueueing", "enqueued", "failed")
analysis_reruns = Table(
    "analysis_reruns",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("department", String(255), nullable=True),
    Column("operator_id", String(255), nullable=True),
    Column("date_from", Date, nullable=True),
    Column("date_to", Date, nullable=True),
    # the calls Done by then are the re-run's
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("state", String(12), nullable=False, server_default="queued"),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("enqueued", Integer, nullable=False, server_default="0"),
    Column("cursor_created_at", DateTime(timezone=True), nullable=True),
    Column("cursor_uid", String(36), nullable=True),
    Column("error", Text, nullable=True),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("enqueued_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("state IN ('queued', 'enqueueing', 'enqueued', 'failed')", name="ck_analysis_reruns_state"),
    Index("ix_analysis_reruns_org", "org_id", "requested_at"),
    Index("ix_analysis_reruns_pending", "updated_at", postgresql_where="state IN ('queued', 'enqueueing')"),
)

analysis_rerun_calls = Table(
    "analysis_rerun_calls",
    metadata,
    Column("rerun_id", String(36), ForeignKey("analysis_reruns.id", ondelete="CASCADE"), primary_key=True),
    Column("call_uid", String(36), ForeignKey("calls.uid", ondelete="CASCADE"), primary_key=True),
    # the analysis worker dropped this call's job (gone, no longer Done, or every attempt failed)
    Column("skipped", Boolean, nullable=False, server_default="false"),
    Column("sent_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# ---- a call's life after Done (migration 0009) ------------------------------------------

# A deletion in progress or done: the tombstone. The gateway writes it (with `calls.deleted_at`)
# in the transaction that hides the call; the lifecycle worker removes the call's S3 objects and
# rows and stamps `finished_at`. A crash midway leaves the row unfinished: the next pass ends it.
DELETION_REASONS = ("request", "retention")
call_deletions = Table(
    "call_deletions",
    metadata,
    Column("call_uid", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("call_id", String(255), nullable=False),
    Column("audio_key", String(255), nullable=False),
    Column("reason", String(12), nullable=False),
    Column("requested_by", String(400), nullable=True),  # "user:<email>", "api_key:<name> (<prefix>)", "retention"
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text, nullable=True),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("reason IN ('request', 'retention')", name="ck_call_deletions_reason"),
    Index("ix_call_deletions_org_call", "org_id", "call_id"),
    Index("ix_call_deletions_pending", "requested_at", postgresql_where="finished_at IS NULL"),
)

# Who looked at, played, exported, re-analysed, retried or deleted which call, when and from
# where. Append-only: a trigger refuses UPDATE, DELETE and TRUNCATE (migration 0009).
AUDIT_ACTIONS = ("viewed", "played", "exported", "reanalysed", "retried", "deleted")
AUDIT_ACTORS = ("user", "api_key", "system")
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("actor_type", String(8), nullable=False),
    Column("actor_id", String(36), nullable=True),
    Column("actor_name", String(320), nullable=False),
    Column("action", String(12), nullable=False),
    Column("call_id", String(255), nullable=False),
    Column("call_uid", String(36), nullable=True),
    Column("detail", String(200), nullable=True),  # e.g. the export's format
    Column("ip", String(64), nullable=True),
    Column("user_agent", String(300), nullable=True),
    CheckConstraint("actor_type IN ('user', 'api_key', 'system')", name="ck_audit_log_actor_type"),
    CheckConstraint("action IN ('viewed', 'played', 'exported', 'reanalysed', 'retried', 'deleted')",
                    name="ck_audit_log_action"),
    Index("ix_audit_log_org_at", "org_id", "at", "id"),
    Index("ix_audit_log_org_call", "org_id", "call_id", "at"),
    Index("ix_audit_log_org_actor", "org_id", "actor_id", "at"),
)

# An organisation's webhooks (the gateway owns them). The secret signs each delivery's body.
WEBHOOK_EVENTS = ("call.done", "call.failed", "analysis.done")
webhooks = Table(
    "webhooks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("org_id", String(64), ForeignKey("organizations.id"), nullable=False),
    Column("url", String(2000), nullable=False),
    Column("events", ARRAY(String(20)), nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    Column("secret", String(100), nullable=False),
    Column("created_by", String(400), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("cardinality(events) > 0 AND "
                    "events <@ ARRAY['call.done', 'call.failed', 'analysis.done']::varchar[]",
                    name="ck_webhooks_events"),
    Index("ix_webhooks_org", "org_id"),
)

# One event to one webhook, and its attempts. Rows are made in the transaction that changed
# the call (triggers on `calls` and `analyses`, migration 0009), so no event is lost between
# a status change and its delivery; the webhook deliverer sends them and records each attempt.
DELIVERY_STATES = ("pending", "delivered", "failed", "cancelled")
webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", String(36), primary_key=True),  # X-Callsight-Delivery
    Column("webhook_id", String(36), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False),
    Column("org_id", String(64), nullable=False),
    Column("event", String(20), nullable=False),
    Column("event_id", String(36), nullable=False),  # the same for every webhook and every redelivery
    Column("call_uid", String(36), nullable=False),
    Column("call_id", String(255), nullable=False),
    Column("payload", Text, nullable=True),  # the exact body, frozen at the first attempt
    Column("state", String(10), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_attempt_at", DateTime(timezone=True), nullable=True),
    Column("last_status_code", Integer, nullable=True),
    Column("last_latency_ms", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    Column("redelivery_of", String(36), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('pending', 'delivered', 'failed', 'cancelled')", name="ck_webhook_deliveries_state"),
    Index("ix_webhook_deliveries_webhook", "webhook_id", "created_at"),
    Index("ix_webhook_deliveries_due", "next_attempt_at", postgresql_where="state = 'pending'"),
)
