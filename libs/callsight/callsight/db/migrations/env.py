"""Alembic environment: migrates the database named by CALLSIGHT_DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine, pool

from callsight.db.engine import sqlalchemy_url
from callsight.db.schema import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or sqlalchemy_url(os.environ["CALLSIGHT_DATABASE_URL"])


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connectable = create_engine(url, poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
