"""PostgreSQL: schema, migrations and repositories (the system of record)."""
