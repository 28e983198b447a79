"""engine jobs on calls (resume a cloud job after a worker restart); per-organisation engine settings

Revision ID: 0006
Revises: 0005
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # remote jobs a cloud engine started for the call: {request key: {"job_id", "saved_at"}}
    op.add_column('calls', sa.Column('engine_jobs', JSONB(), nullable=False, server_default=sa.text("'{}'::jsonb")))
    # the organisation's settings per engine: {"amivoice": {"allow_logging": false, "engine_ja": ...}}
    op.add_column('organizations', sa.Column('engine_settings', JSONB(), nullable=False,
                                             server_default=sa.text("'{}'::jsonb")))


def downgrade() -> None:
    op.drop_column('organizations', 'engine_settings')
    op.drop_column('calls', 'engine_jobs')
