"""analyses: per-item QA results and errors; indexes for scorecard aggregates

Revision ID: 0003
Revises: 0002
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('analyses', sa.Column('qa_items', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('analyses', sa.Column('error', sa.Text(), nullable=True))
    # Done calls of an organisation by date, carrying what the aggregates group by:
    # scorecards and department figures read this index only, then join analyses by key.
    op.create_index('ix_calls_done_org_date', 'calls', ['org_id', 'call_date'], unique=False,
                    postgresql_include=['operator_id', 'department'],
                    postgresql_where=sa.text("status = 'Done'"))


def downgrade() -> None:
    op.drop_index('ix_calls_done_org_date', table_name='calls', postgresql_where=sa.text("status = 'Done'"))
    op.drop_column('analyses', 'error')
    op.drop_column('analyses', 'qa_items')
