"""speakers of a call: how operator and customer were told apart (channels, or voices of a mono
track with the evidence and confidence of the operator's role, and who set it)

Revision ID: 0009
Revises: 0008
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('calls', sa.Column('speakers', JSONB(), nullable=True))


def downgrade() -> None:
    op.drop_column('calls', 'speakers')
