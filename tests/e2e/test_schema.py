"""The migrations create exactly the schema the code declares."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from callsight.db.schema import metadata

pytestmark = pytest.mark.integration


def test_migrated_database_matches_the_declared_schema(admin: Any) -> None:
    with admin.engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
