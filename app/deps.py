"""FastAPI dependencies shared by every domain: the database session and who is asking."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from typing import Annotated

import anyio
import anyio.to_thread
from fastapi import Depends, Request
from sqlalchemy import bindparam
from sqlmodel import Session, col, select
from starlette.concurrency import run_in_threadpool

from app.accounts.models import LoginSession, User
from app.config import Settings
from app.db import Database, utcnow
from app.permissions import ANONYMOUS, Principal, principal_for
from app.security import SAFE_METHODS

SESSION_COOKIE = "session"


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


async def _close(session: Session) -> None:
    """Close a request's session. It was opened on the event loop (that costs nothing: it
    connects on first use, in the thread pool) and is closed there too, unless it still
    holds a connection: ending that transaction talks to the database, so it goes to a
    thread. Sync dependencies would cost a thread hop each way on every request."""
    if not session.in_transaction():
        session.close()
        return
    # A limiter of its own, as FastAPI does for dependency exits: waiting for a free thread
    # of the shared pool could deadlock (its threads may all be waiting for the write lock
    # this very session holds).
    with anyio.CancelScope(shield=True):
        await anyio.to_thread.run_sync(session.close, limiter=anyio.CapacityLimiter(1))


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request; requests that may write get a write transaction."""
    database: Database = request.app.state.database
    session = database.session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    finally:
        await _close(session)


DbSession = Annotated[Session, Depends(get_session)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# Prebuilt: identifying the user is on every request's path, so the statement is built and
# its cache key computed once per process.
_LOGGED_IN_USER = (
    select(User)
    .join(LoginSession, col(LoginSession.user_id) == col(User.id))
    .where(
        LoginSession.token_hash == bindparam("token_hash"),
        LoginSession.expires_at > bindparam("now"),
    )
)


def principal_from_token(session: Session, token: str | None) -> Principal:
    """Who holds this session cookie: anonymous without one, or once it has expired."""
    if not token:
        return ANONYMOUS
    user = session.execute(
        _LOGGED_IN_USER, {"token_hash": token_hash(token), "now": utcnow()}
    ).scalar_one_or_none()
    return principal_for(session, user)


def identify(request: Request, session: Session) -> Principal:
    """For a use case that runs in one thread with sessions of its own: who is asking, read
    in `session` and kept for the page (as get_principal does)."""
    cached = getattr(request.state, "principal", None)
    if cached is None:
        cached = principal_from_token(session, request.cookies.get(SESSION_COOKIE))
        request.state.principal = cached
    return cached


def _principal_for_token(database: Database, token: str) -> Principal:
    with database.session() as session:
        return principal_from_token(session, token)


async def get_principal(request: Request) -> Principal:
    """Who is asking, read in a short read-only session of its own (in the thread pool): a
    request that writes takes the SQLite write lock only when its use case starts, not
    while it is identified. Anonymous requests do not touch the database."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    principal = (
        await run_in_threadpool(_principal_for_token, request.app.state.database, token)
        if token
        else ANONYMOUS
    )
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
