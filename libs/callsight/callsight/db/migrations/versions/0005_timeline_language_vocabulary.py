"""turn timeline: language detection and warnings on calls, transcript quality metadata, org vocabulary

Revision ID: 0005
Revises: 0004
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # where calls.language came from: the upload ('request'), the organisation ('default') or the audio ('detected')
    op.add_column('calls', sa.Column('language_source', sa.String(10), nullable=False, server_default='request'))
    op.add_column('calls', sa.Column('detected_language', sa.String(5), nullable=True))
    op.add_column('calls', sa.Column('language_confidence', sa.Float(), nullable=True))
    # things a supervisor should know about the result (language mismatch, text dropped as hallucination, ...)
    op.add_column('calls', sa.Column('warnings', JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")))
    op.create_check_constraint('ck_calls_language_source', 'calls',
                               "language_source IN ('request', 'default', 'detected')")
    # how the timeline was built and what the guards dropped (counts, thresholds)
    op.add_column('transcripts', sa.Column('meta', JSONB(), nullable=True))
    # product names and terms the engines should prefer: [{"text": ..., "reading": ..., "language": ...}]
    op.add_column('organizations', sa.Column('vocabulary', JSONB(), nullable=False,
                                             server_default=sa.text("'[]'::jsonb")))


def downgrade() -> None:
    op.drop_column('organizations', 'vocabulary')
    op.drop_column('transcripts', 'meta')
    op.drop_constraint('ck_calls_language_source', 'calls', type_='check')
    op.drop_column('calls', 'warnings')
    op.drop_column('calls', 'language_confidence')
    op.drop_column('calls', 'detected_language')
    op.drop_column('calls', 'language_source')
