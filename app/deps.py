"""FastAPI dependencies shared by every domain: the database session and who is asking."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, col, select

from app.accounts.models import LoginSession, User
from app.config import Settings
from app.db import Database, utcnow
from app.permissions import ANONYMOUS, Principal, principal_for
from app.security import SAFE_METHODS

SESSION_COOKIE = "session"


def get_database(request: Request) -> Database:
    return request.app.state.database


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_session(request: Request) -> Iterator[Session]:
    """One session per request; requests that may write get a write transaction."""
    database: Database = request.app.state.database
    session = database.session(write=request.method not in SAFE_METHODS)
    try:
        yield session
    finally:
        session.close()


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only session beside the request's own, for checks made before a write, so
    that on SQLite the write lock is taken only for the write itself."""
    database: Database = request.app.state.database
    session = database.session()
    try:
        yield session
    finally:
        session.close()


DbSession = Annotated[Session, Depends(get_session)]
ReadSession = Annotated[Session, Depends(get_read_session)]
AppSettings = Annotated[Settings, Depends(get_settings)]


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def get_principal(request: Request) -> Principal:
    """Who is asking, read in a short read-only session of its own: a request that writes
    takes the SQLite write lock only when its use case starts, not while it is identified."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    principal = ANONYMOUS
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        database: Database = request.app.state.database
        with database.session() as session:
            user = session.execute(
                select(User)
                .join(LoginSession, col(LoginSession.user_id) == col(User.id))
                .where(
                    LoginSession.token_hash == token_hash(token), LoginSession.expires_at > utcnow()
                )
            ).scalar_one_or_none()
            if user is not None:
                principal = principal_for(session, user)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]
