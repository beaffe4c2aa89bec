"""The request's database sessions: closed without waiting for the shared thread pool."""

from __future__ import annotations

from contextlib import asynccontextmanager

import anyio
import anyio.to_thread
import pytest
from fastapi import FastAPI, Request

from app.audit.service import record
from app.db import Database
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
