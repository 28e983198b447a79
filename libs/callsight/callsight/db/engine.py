"""Connections to PostgreSQL, shared by every service."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine


def sqlalchemy_url(database_url: str) -> str:
    """Accept the usual `postgresql://` URL and select the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg://" + database_url[len(prefix) :]
    raise ValueError("CALLSIGHT_DATABASE_URL must start with postgresql://")


def make_engine(database_url: str, pool_size: int = 5) -> Engine:
    # pre-ping: after a PostgreSQL restart a stale pooled connection is replaced
    # transparently instead of failing the next request.
    return create_engine(
        sqlalchemy_url(database_url),
        pool_size=pool_size,
        max_overflow=pool_size * 2,
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5},
    )
