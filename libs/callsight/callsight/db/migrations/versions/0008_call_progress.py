"""progress of a Processing call: fraction, step, measured finish time (issue 13)

Revision ID: 0008
Revises: 0007
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('calls', sa.Column('progress', sa.Float(), nullable=True))
    op.add_column('calls', sa.Column('progress_step', sa.String(16), nullable=True))
    op.add_column('calls', sa.Column('progress_at', sa.DateTime(timezone=True), nullable=True))
    op.add_column('calls', sa.Column('eta_at', sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    for column in ('eta_at', 'progress_at', 'progress_step', 'progress'):
        op.drop_column('calls', column)
