"""The request's database sessions: closed without waiting for the shared thread pool."""

from __future__ import annotations

import threading
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import anyio.to_thread
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import event, text
from sqlalchemy.exc import OperationalError

from app.audit.service import record
from app.db import Database, connect
from app.deps import _close, get_session
from app.errors import InvalidInput

CHAIN = "session-test"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_a_session_left_in_a_transaction_is_closed_while_every_thread_waits_for_it(
    database: Database,
) -> None:
    """A route that leaves its write transaction open holds the write lock (SQLite) or the
    chain's head row (PostgreSQL) until its session is closed. If closing waited for a
    thread of the shared pool while every thread waits for that lock, nothing would move
    until the 30 s lock timeout answered everyone with a 500."""
    limiter = anyio.to_thread.current_default_thread_limiter()
    tokens = limiter.total_tokens
    limiter.total_tokens = 1  # the whole pool, busy with one waiting writer
    holder = database.session(write=True)
    record(holder, chain=CHAIN, actor="system", action="test.first", subject="x")
    appended: list[int] = []

    def next_writer() -> None:
        with database.session(write=True) as session:
            appended.append(
                record(session, chain=CHAIN, actor="system", action="test.next", subject="x").seq
            )
            session.commit()

    try:
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.to_thread.run_sync, next_writer)
            await anyio.sleep(0.3)  # the writer now holds the only thread and waits
            assert appended == []
            with anyio.fail_after(10):
                await _close(holder)  # the route has returned: its session is closed
    finally:
        limiter.total_tokens = tokens
    # The first entry was rolled back with its session, so the next writer's entry is 1.
    assert appended == [1]


@pytest.mark.anyio
async def test_a_route_that_fails_mid_transaction_leaves_no_transaction_open(
    app: FastAPI, database: Database
) -> None:
    """FastAPI exits a dependency with the route's exception: the session must be closed
    then and there (a session closed only when garbage-collected kept the SQLite write
    lock, and the next writer got "database is locked")."""
    request = Request({"type": "http", "method": "POST", "app": app, "headers": []})
    with pytest.raises(InvalidInput):
        async with asynccontextmanager(get_session)(request) as session:
            record(session, chain=CHAIN, actor="system", action="test.failed", subject="x")
            assert session.in_transaction()
            raise InvalidInput("the route refuses")
    assert not session.in_transaction()
    with anyio.fail_after(5):
        await anyio.to_thread.run_sync(_append_one, database)


def _append_one(database: Database) -> None:
    with database.session(write=True) as session:
        assert record(session, chain=CHAIN, actor="system", action="t", subject="x").seq == 1
        session.commit()


def test_the_next_sqlite_writer_begins_only_once_the_commit_has_returned(tmp_path: Path) -> None:
    """Writers of one process queue on a lock, and the next one gets it when the COMMIT of
    the last has returned. Were it handed on before, the next BEGIN IMMEDIATE could meet
    the COMMIT still running and sleep in SQLite's busy handler, holding the queue. Here
    the busy timeout is 0, so such a meeting fails at once instead of sleeping."""
    database = connect(f"sqlite:///{tmp_path / 'writers.db'}")

    @event.listens_for(database.engine, "connect")
    def _no_busy_wait(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counted (n INTEGER)")
    failures: list[Exception] = []

    def writer() -> None:
        for _ in range(250):
            try:
                with database.session(write=True) as session:
                    session.execute(text("INSERT INTO counted VALUES (1)"))
                    session.commit()
            except OperationalError as error:
                failures.append(error)

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with database.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT count(*) FROM counted").scalar()
    database.dispose()
    assert failures == []
    assert stored == 1000


def test_a_writer_whose_connection_is_invalidated_lets_the_next_one_in(tmp_path: Path) -> None:
    """A write transaction whose connection is lost (invalidated, no COMMIT or ROLLBACK)
    still hands the lock on when the connection goes back to the pool."""
    database = connect(f"sqlite:///{tmp_path / 'lost.db'}")
    with database.engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE counted (n INTEGER)")
    with database.session(write=True) as session:
        session.execute(text("INSERT INTO counted VALUES (1)"))
        session.connection().invalidate()
    done = threading.Event()

    def next_writer() -> None:
        with database.session(write=True) as session:
            session.execute(text("INSERT INTO counted VALUES (2)"))
            session.commit()
        done.set()

    threading.Thread(target=next_writer, daemon=True).start()
    assert done.wait(timeout=5), "the next writer is still waiting for the lock"
    with database.engine.connect() as connection:
        stored = connection.exec_driver_sql("SELECT n FROM counted").scalars().all()
    database.dispose()
    assert stored == [2]
