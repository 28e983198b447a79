"""covering indexes for scorecard aggregates (measured with bench/scorecards_1m.py)

Revision ID: 0004
Revises: 0003
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

FIGURES = ['error', 'qa_score', 'operator_talk_share', 'silence_total_s', 'longest_silence_s', 'interruptions',
           'customer_sentiment_change', 'qa_items']


def upgrade() -> None:
    # uid joins the INCLUDE list so the scoped calls are read from the index alone
    op.drop_index('ix_calls_done_org_date', table_name='calls', postgresql_where=sa.text("status = 'Done'"))
    op.create_index('ix_calls_done_org_date', 'calls', ['org_id', 'call_date'], unique=False,
                    postgresql_include=['operator_id', 'department', 'uid'],
                    postgresql_where=sa.text("status = 'Done'"))
    # the figures aggregates read, without touching the row (and its large result JSON)
    op.create_index('ix_analyses_figures', 'analyses', ['call_uid'], unique=False, postgresql_include=FIGURES)


def downgrade() -> None:
    op.drop_index('ix_analyses_figures', table_name='analyses')
    op.drop_index('ix_calls_done_org_date', table_name='calls', postgresql_where=sa.text("status = 'Done'"))
    op.create_index('ix_calls_done_org_date', 'calls', ['org_id', 'call_date'], unique=False,
                    postgresql_include=['operator_id', 'department'],
                    postgresql_where=sa.text("status = 'Done'"))
