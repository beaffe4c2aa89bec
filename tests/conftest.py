"""Test databases: the migrations run once per session, then every test gets a clean copy.

SQLite (the default): the migrated file is copied for each test. PostgreSQL (when
DATABASE_URL names one, as in .ci/run): the migrated database is truncated after each test.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Connection, create_engine, text

from app.config import Settings
from app.db import normalise_url
from app.i18n import set_language
from app.migrate import upgrade

DATABASE_URL = os.environ.get("DATABASE_URL", "")
ON_POSTGRES = DATABASE_URL.startswith(("postgres://", "postgresql"))


def pytest_report_header() -> str:
    return f"database: {'PostgreSQL ' + DATABASE_URL if ON_POSTGRES else 'SQLite (per-test copy)'}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    if ON_POSTGRES:
        upgrade(DATABASE_URL)
        return normalise_url(DATABASE_URL)
    path = tmp_path_factory.mktemp("template") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    engine = create_engine(url)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        connection.exec_driver_sql("PRAGMA journal_mode=DELETE")
    engine.dispose()
    return str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> Iterator[str]:
    if not ON_POSTGRES:
        target = tmp_path / "app.db"
        shutil.copyfile(migrated_template, target)
        yield f"sqlite:///{target}"
        return
    yield migrated_template
    engine = create_engine(migrated_template)
    with engine.begin() as connection:
        empty_every_table(connection)
    engine.dispose()


def empty_every_table(connection: Connection) -> None:
    """Leave the PostgreSQL database as migrated: every table empty and every sequence at
    its start. A TRUNCATE of every table took a quarter of a second even when they were
    empty, so only the tables that hold rows are emptied, and as a superuser (CI's
    postgres) with DELETE, the triggers (foreign keys, the audit chain's append-only rule)
    off for this transaction; only the sequences that were used are restarted."""
    tables = connection.execute(
        text(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
            "AND tablename <> 'alembic_version'"
        )
    ).scalars()
    # The names come from pg_tables (the migrations' own tables), never from input.
    holding = " UNION ALL ".join(
        f"SELECT '{name}' WHERE EXISTS (SELECT FROM \"{name}\")"  # noqa: S608
        for name in tables
    )
    full = connection.execute(text(holding)).scalars().all() if holding else []
    superuser = connection.execute(
        text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
    ).scalar()
    if full and superuser:
        connection.execute(text("SET LOCAL session_replication_role = replica"))
        for name in full:
            connection.execute(text(f'DELETE FROM "{name}"'))  # noqa: S608
        connection.execute(text("SET LOCAL session_replication_role = DEFAULT"))
    elif full:
        names = ", ".join(f'"{name}"' for name in full)
        connection.execute(text(f"TRUNCATE {names} CASCADE"))
    used = connection.execute(
        text(
            "SELECT sequencename FROM pg_sequences "
            "WHERE schemaname = 'public' AND last_value IS NOT NULL"
        )
    ).scalars()
    for sequence in used:
        connection.execute(text(f'ALTER SEQUENCE "{sequence}" RESTART'))


@pytest.fixture(autouse=True)
def default_language() -> None:
    """Every test starts in the default language, whatever a test before it switched to
    (the language of code called outside a request is the thread's own)."""
    set_language("nl")


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    return Settings(
        VAR_DIR=tmp_path / "var",
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret-key-not-used-anywhere-else",
        BASE_URL="http://testserver",
        DEFAULT_LANGUAGE="en",
        # Argon2id at a thousandth of OWASP's cost: the suite hashes and checks thousands
        # of passwords (tests/app/test_accounts.py checks the production cost).
        PASSWORD_HASH_COST="tests",
    )
