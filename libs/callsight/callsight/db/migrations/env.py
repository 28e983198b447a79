"""Alembic environment: migrates the database `callsight.db.migrate` names in its config."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from callsight.db.schema import metadata

config = context.config
configured = config.get_main_option("sqlalchemy.url")
if not configured:
    raise RuntimeError("run migrations with `python -m callsight.db upgrade` (it names the database)")
url: str = configured


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
