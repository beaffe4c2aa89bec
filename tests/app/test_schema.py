"""The migrations are the only way the schema is made, and they agree with the models."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from app.db import normalise_url
from app.migrate import is_ours
from app.models import metadata


def test_models_and_migrations_agree(database_url: str) -> None:
    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        options = {"compare_type": True, "include_name": is_ours}
        context = MigrationContext.configure(connection, opts=options)
        differences = compare_metadata(context, metadata)
    engine.dispose()
    assert differences == [], differences


def test_sqlite_runs_with_wal_foreign_keys_and_a_busy_timeout(database_url: str) -> None:
    from app.db import connect

    database = connect(database_url)
    with database.engine.connect() as connection:
        if database.is_sqlite:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
        else:
            assert "audit_entry" in inspect(connection).get_table_names()
    database.dispose()
