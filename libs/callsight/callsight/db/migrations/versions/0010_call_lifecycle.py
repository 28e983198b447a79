"""a call's life after Done: deletion tombstones, retention, scoped API keys, an append-only audit log,
webhooks and their deliveries (made by triggers in the transaction that changes a call)

Revision ID: 0010
Revises: 0009
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None

ALL_SCOPES = "ARRAY['ingest', 'read', 'admin']::varchar[]"

# A delivery row per subscribed webhook, in the transaction that made the call Done or Failed,
# or stored an analysis: no event is lost between the change and its delivery, whoever wrote
# it (a worker, the reconciler, the analysis worker). Orgs without webhooks pay one index probe.
CALL_EVENT_FUNCTION = """
CREATE FUNCTION callsight_call_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev text := CASE NEW.status WHEN 'Done' THEN 'call.done' ELSE 'call.failed' END;
    ev_id text := gen_random_uuid()::text;
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, org_id, event, event_id, call_uid, call_id)
    SELECT gen_random_uuid()::text, w.id, w.org_id, ev, ev_id, NEW.uid, NEW.call_id
    FROM webhooks w WHERE w.org_id = NEW.org_id AND ev = ANY (w.events);
    RETURN NULL;
END $$;
"""
CALL_EVENT_TRIGGER = """
CREATE TRIGGER calls_webhook_event AFTER UPDATE OF status ON calls FOR EACH ROW
WHEN (OLD.status IS DISTINCT FROM NEW.status AND NEW.status IN ('Done', 'Failed') AND NEW.deleted_at IS NULL)
EXECUTE FUNCTION callsight_call_webhook_event();
"""
ANALYSIS_EVENT_FUNCTION = """
CREATE FUNCTION callsight_analysis_webhook_event() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ev_id text := gen_random_uuid()::text;
BEGIN
    INSERT INTO webhook_deliveries (id, webhook_id, org_id, event, event_id, call_uid, call_id)
    SELECT gen_random_uuid()::text, w.id, w.org_id, 'analysis.done', ev_id, c.uid, c.call_id
    FROM calls c JOIN webhooks w ON w.org_id = c.org_id AND 'analysis.done' = ANY (w.events)
    WHERE c.uid = NEW.call_uid AND c.deleted_at IS NULL;
    RETURN NULL;
END $$;
"""
ANALYSIS_EVENT_TRIGGER = """
CREATE TRIGGER analyses_webhook_event AFTER INSERT OR UPDATE ON analyses FOR EACH ROW
WHEN (NEW.error IS NULL)
EXECUTE FUNCTION callsight_analysis_webhook_event();
"""
AUDIT_APPEND_ONLY = """
CREATE FUNCTION callsight_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % is not allowed', TG_OP;
END $$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log
FOR EACH ROW EXECUTE FUNCTION callsight_audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
FOR EACH STATEMENT EXECUTE FUNCTION callsight_audit_log_append_only();
"""


def upgrade() -> None:
    # ---- deletion: the call is hidden at once, its Call ID free; the rest is finished later
    op.add_column('calls', sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('calls', sa.Column('audio_deleted_at', sa.DateTime(timezone=True), nullable=True))
    op.drop_constraint('uq_calls_org_call_id', 'calls', type_='unique')
    op.create_index('uq_calls_org_call_id', 'calls', ['org_id', 'call_id'], unique=True,
                    postgresql_where=sa.text('deleted_at IS NULL'))
    op.drop_index('ix_calls_done_org_date', table_name='calls')
    op.create_index('ix_calls_done_org_date', 'calls', ['org_id', 'call_date'],
                    postgresql_include=['operator_id', 'department', 'uid'],
                    postgresql_where=sa.text("status = 'Done' AND deleted_at IS NULL"))
    op.create_table(
        'call_deletions',
        sa.Column('call_uid', sa.String(36), primary_key=True),
        sa.Column('org_id', sa.String(64), sa.ForeignKey('organizations.id'), nullable=False),
        sa.Column('call_id', sa.String(255), nullable=False),
        sa.Column('audio_key', sa.String(255), nullable=False),
        sa.Column('reason', sa.String(12), nullable=False),
        sa.Column('requested_by', sa.String(400), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("reason IN ('request', 'retention')", name='ck_call_deletions_reason'),
    )
    op.create_index('ix_call_deletions_org_call', 'call_deletions', ['org_id', 'call_id'])
    op.create_index('ix_call_deletions_pending', 'call_deletions', ['requested_at'],
                    postgresql_where=sa.text('finished_at IS NULL'))

    # ---- retention, per organisation (0 = forever)
    op.add_column('organizations', sa.Column('audio_retention_days', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('organizations', sa.Column('transcript_retention_days', sa.Integer(), nullable=False,
                                             server_default='0'))
    op.create_check_constraint('ck_org_retention', 'organizations',
                               'audio_retention_days >= 0 AND transcript_retention_days >= 0')

    # ---- scoped API keys: the keys made before scopes existed could do everything, and still can
    op.add_column('api_keys', sa.Column('scopes', postgresql.ARRAY(sa.String(16)), nullable=True))
    op.add_column('api_keys', sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('api_keys', sa.Column('created_by', sa.String(320), nullable=True))
    op.execute(f"UPDATE api_keys SET scopes = {ALL_SCOPES}")
    op.alter_column('api_keys', 'scopes', existing_type=postgresql.ARRAY(sa.String(16)), nullable=False)
    op.create_check_constraint('ck_api_keys_scopes', 'api_keys',
                               f"cardinality(scopes) > 0 AND scopes <@ {ALL_SCOPES}")

    # ---- the audit log, append-only
    op.create_table(
        'audit_log',
        sa.Column('id', sa.BigInteger(), sa.Identity(always=True), primary_key=True),
        sa.Column('org_id', sa.String(64), sa.ForeignKey('organizations.id'), nullable=False),
        sa.Column('at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('actor_type', sa.String(8), nullable=False),
        sa.Column('actor_id', sa.String(36), nullable=True),
        sa.Column('actor_name', sa.String(320), nullable=False),
        sa.Column('action', sa.String(12), nullable=False),
        sa.Column('call_id', sa.String(255), nullable=False),
        sa.Column('call_uid', sa.String(36), nullable=True),
        sa.Column('detail', sa.String(200), nullable=True),
        sa.Column('ip', sa.String(64), nullable=True),
        sa.Column('user_agent', sa.String(300), nullable=True),
        sa.CheckConstraint("actor_type IN ('user', 'api_key', 'system')", name='ck_audit_log_actor_type'),
        sa.CheckConstraint("action IN ('viewed', 'played', 'exported', 'reanalysed', 'retried', 'deleted')",
                           name='ck_audit_log_action'),
    )
    op.create_index('ix_audit_log_org_at', 'audit_log', ['org_id', 'at', 'id'])
    op.create_index('ix_audit_log_org_call', 'audit_log', ['org_id', 'call_id', 'at'])
    op.create_index('ix_audit_log_org_actor', 'audit_log', ['org_id', 'actor_id', 'at'])
    op.execute(AUDIT_APPEND_ONLY)

    # ---- webhooks and their deliveries
    op.create_table(
        'webhooks',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('org_id', sa.String(64), sa.ForeignKey('organizations.id'), nullable=False),
        sa.Column('url', sa.String(2000), nullable=False),
        sa.Column('events', postgresql.ARRAY(sa.String(20)), nullable=False),
        sa.Column('description', sa.String(500), nullable=False, server_default=''),
        sa.Column('secret', sa.String(100), nullable=False),
        sa.Column('created_by', sa.String(400), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("cardinality(events) > 0 AND "
                           "events <@ ARRAY['call.done', 'call.failed', 'analysis.done']::varchar[]",
                           name='ck_webhooks_events'),
    )
    op.create_index('ix_webhooks_org', 'webhooks', ['org_id'])
    op.create_table(
        'webhook_deliveries',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('webhook_id', sa.String(36), sa.ForeignKey('webhooks.id', ondelete='CASCADE'), nullable=False),
        sa.Column('org_id', sa.String(64), nullable=False),
        sa.Column('event', sa.String(20), nullable=False),
        sa.Column('event_id', sa.String(36), nullable=False),
        sa.Column('call_uid', sa.String(36), nullable=False),
        sa.Column('call_id', sa.String(255), nullable=False),
        sa.Column('payload', sa.Text(), nullable=True),
        sa.Column('state', sa.String(10), nullable=False, server_default='pending'),
        sa.Column('attempts', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('next_attempt_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('last_attempt_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_status_code', sa.Integer(), nullable=True),
        sa.Column('last_latency_ms', sa.Integer(), nullable=True),
        sa.Column('last_error', sa.Text(), nullable=True),
        sa.Column('delivered_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('redelivery_of', sa.String(36), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("state IN ('pending', 'delivered', 'failed', 'cancelled')",
                           name='ck_webhook_deliveries_state'),
    )
    op.create_index('ix_webhook_deliveries_webhook', 'webhook_deliveries', ['webhook_id', 'created_at'])
    op.create_index('ix_webhook_deliveries_due', 'webhook_deliveries', ['next_attempt_at'],
                    postgresql_where=sa.text("state = 'pending'"))
    op.execute(CALL_EVENT_FUNCTION)
    op.execute(CALL_EVENT_TRIGGER)
    op.execute(ANALYSIS_EVENT_FUNCTION)
    op.execute(ANALYSIS_EVENT_TRIGGER)


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS analyses_webhook_event ON analyses")
    op.execute("DROP TRIGGER IF EXISTS calls_webhook_event ON calls")
    op.execute("DROP FUNCTION IF EXISTS callsight_analysis_webhook_event()")
    op.execute("DROP FUNCTION IF EXISTS callsight_call_webhook_event()")
    op.drop_table('webhook_deliveries')
    op.drop_table('webhooks')
    op.drop_table('audit_log')
    op.execute("DROP FUNCTION IF EXISTS callsight_audit_log_append_only()")
    op.drop_constraint('ck_api_keys_scopes', 'api_keys', type_='check')
    op.drop_column('api_keys', 'created_by')
    op.drop_column('api_keys', 'expires_at')
    op.drop_column('api_keys', 'scopes')
    op.drop_constraint('ck_org_retention', 'organizations', type_='check')
    op.drop_column('organizations', 'transcript_retention_days')
    op.drop_column('organizations', 'audio_retention_days')
    op.drop_table('call_deletions')
    # the calls still being deleted are finished here: a unique Call ID needs them gone
    op.execute("DELETE FROM calls WHERE deleted_at IS NOT NULL")
    op.drop_index('ix_calls_done_org_date', table_name='calls')
    op.create_index('ix_calls_done_org_date', 'calls', ['org_id', 'call_date'],
                    postgresql_include=['operator_id', 'department', 'uid'],
                    postgresql_where=sa.text("status = 'Done'"))
    op.drop_index('uq_calls_org_call_id', table_name='calls')
    op.create_unique_constraint('uq_calls_org_call_id', 'calls', ['org_id', 'call_id'])
    op.drop_column('calls', 'audio_deleted_at')
    op.drop_column('calls', 'deleted_at')
