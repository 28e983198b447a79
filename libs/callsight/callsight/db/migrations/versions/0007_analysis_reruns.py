"""analysis re-runs over many calls (their own queue, enqueued by a producer with progress); S3 copies
of transcripts are gone (PostgreSQL is their one store)

Revision ID: 0007
Revises: 0006
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'analysis_reruns',
        sa.Column('id', sa.String(36), primary_key=True),
        sa.Column('org_id', sa.String(64), sa.ForeignKey('organizations.id'), nullable=False),
        sa.Column('department', sa.String(255), nullable=True),
        sa.Column('operator_id', sa.String(255), nullable=True),
        sa.Column('date_from', sa.Date(), nullable=True),
        sa.Column('date_to', sa.Date(), nullable=True),
        sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('state', sa.String(12), nullable=False, server_default='queued'),
        sa.Column('total', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('enqueued', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('cursor_created_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('cursor_uid', sa.String(36), nullable=True),
        sa.Column('error', sa.Text(), nullable=True),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column('enqueued_at', sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("state IN ('queued', 'enqueueing', 'enqueued', 'failed')", name='ck_analysis_reruns_state'),
    )
    op.create_index('ix_analysis_reruns_org', 'analysis_reruns', ['org_id', 'requested_at'])
    op.create_index('ix_analysis_reruns_pending', 'analysis_reruns', ['updated_at'],
                    postgresql_where=sa.text("state IN ('queued', 'enqueueing')"))
    op.create_table(
        'analysis_rerun_calls',
        sa.Column('rerun_id', sa.String(36), sa.ForeignKey('analysis_reruns.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('call_uid', sa.String(36), sa.ForeignKey('calls.uid', ondelete='CASCADE'), primary_key=True),
        sa.Column('skipped', sa.Boolean(), nullable=False, server_default='false'),
        sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    )
    # the transcript's JSON copy in S3 had no reader: PostgreSQL holds the one transcript
    op.alter_column('transcripts', 's3_key', existing_type=sa.String(255), nullable=True)


def downgrade() -> None:
    op.execute("UPDATE transcripts SET s3_key = '' WHERE s3_key IS NULL")
    op.alter_column('transcripts', 's3_key', existing_type=sa.String(255), nullable=False)
    op.drop_table('analysis_rerun_calls')
    op.drop_index('ix_analysis_reruns_pending', table_name='analysis_reruns')
    op.drop_index('ix_analysis_reruns_org', table_name='analysis_reruns')
    op.drop_table('analysis_reruns')
