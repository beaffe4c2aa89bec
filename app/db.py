"""The database engine, one session per request, and the SQLite settings that make it safe.

SQLite runs in WAL mode with foreign keys and a busy timeout. Requests that may write start
their transaction with BEGIN IMMEDIATE, so two writers queue on the busy timeout instead of
failing with "database is locked" when one of them upgrades a read lock.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, SQLModel, create_engine

SQLITE_BUSY_TIMEOUT_MS = 30_000
_HOLDS_WRITE_LOCK = "holds_write_lock"

# Named constraints, so migrations read the same on SQLite and PostgreSQL.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """Aware UTC; SQLModel's UTCDateTime columns store and return UTC on both databases."""
    return datetime.now(UTC)


def normalise_url(url: str) -> str:
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


@dataclass
class Database:
    url: str
    engine: Engine
    # Same pool; on SQLite its transactions begin IMMEDIATE (see module docstring).
    write_engine: Engine

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    def session(self, *, write: bool = False) -> Session:
        return Session(self.write_engine if write else self.engine, expire_on_commit=False)

    def dispose(self) -> None:
        self.engine.dispose()


def connect(url: str, *, pool_size: int = 10) -> Database:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=pool_size,
            max_overflow=20,
        )
        _configure_sqlite(engine)
    else:
        engine = create_engine(url, pool_size=pool_size, max_overflow=20, pool_pre_ping=True)
    return Database(url=url, engine=engine, write_engine=engine.execution_options(immediate=True))


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    # Writers of one process queue on this lock rather than on SQLite's busy handler, which
    # polls with sleeps of up to 100 ms: under many concurrent writes that polling, not the
    # work, set the pace. The busy timeout still orders writers of different processes.
    # The lock is let go once COMMIT or ROLLBACK has returned, not before: a next writer
    # whose BEGIN IMMEDIATE came while the COMMIT was still running would find the database
    # busy and sleep in that handler, holding this lock (and every writer behind it).
    write_lock = threading.Lock()

    def release(info: dict[Any, Any] | None) -> None:
        # `info` belongs to the pool's record of the DB-API connection: it outlives the
        # connection itself when that is invalidated, so a lock is never left held.
        if info is not None and info.pop(_HOLDS_WRITE_LOCK, False):
            write_lock.release()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        if not connection.get_execution_options().get("immediate", False):
            connection.exec_driver_sql("BEGIN")
            return
        if not write_lock.acquire(timeout=SQLITE_BUSY_TIMEOUT_MS / 1000):
            raise OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked"))
        connection.info[_HOLDS_WRITE_LOCK] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            release(connection.info)
            raise

    dialect = engine.dialect
    do_commit, do_rollback = dialect.do_commit, dialect.do_rollback

    def info_of(proxy: Any) -> dict[Any, Any] | None:
        # The dialect is handed the pool's proxy of the connection, whose `info` is the
        # record's; a bare proxy made while the pool cleans up has none (checkin releases).
        try:
            return proxy.info
        except (AttributeError, NotImplementedError):
            return None

    def commit_then_release(dbapi_connection: Any) -> None:
        try:
            do_commit(dbapi_connection)
        finally:
            release(info_of(dbapi_connection))

    def rollback_then_release(dbapi_connection: Any) -> None:
        try:
            do_rollback(dbapi_connection)
        finally:
            release(info_of(dbapi_connection))

    # The engine's own dialect instance (the write engine shares it), not the class.
    dialect.do_commit = commit_then_release  # type: ignore[method-assign]
    dialect.do_rollback = rollback_then_release  # type: ignore[method-assign]

    @event.listens_for(engine.pool, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A connection given back, or invalidated, in the middle of a write transaction.
        release(record.info if record is not None else None)
