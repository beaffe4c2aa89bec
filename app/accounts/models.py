"""Users, their login sessions, single-use tokens, login attempts, mail requests and outgoing
mail."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=254, unique=True, index=True)
    name: str = Field(max_length=200)
    # Empty until an invited member or observer accepts and chooses a password.
    password_hash: str | None = Field(default=None, max_length=255)
    email_verified_at: datetime | None = None
    is_platform_admin: bool = False
    language: str | None = Field(default=None, max_length=2)
    created_at: datetime = Field(default_factory=utcnow)


class LoginSession(SQLModel, table=True):
    """A server-side session: the cookie holds a random token, the table only its SHA-256."""

    __tablename__ = "login_session"

    token_hash: str = Field(primary_key=True, max_length=64)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime


class Token(SQLModel, table=True):
    """A single-use, expiring token sent by e-mail: verification, password reset, invitation."""

    __tablename__ = "account_token"

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, unique=True)
    purpose: str = Field(max_length=20)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    expires_at: datetime
    used_at: datetime | None = None


class LoginFailure(SQLModel, table=True):
    """One failed login, counted per account and per address for throttling."""

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    account: str = Field(max_length=254, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    # An attempt whose password is still being checked: it counts against its own account
    # from its own address (so parallel guesses cannot all pass), not against the wider
    # limits, or many people logging in at once behind one address would lock each other out.
    pending: bool = Field(default=False)


class MailState(StrEnum):
    # No SMTP settings: the outbox page is where the message is read (a demo, the tests).
    KEPT = "kept"
    # A job will send it (again, after `error`, until MAX_ATTEMPTS in app/accounts/mail.py).
    QUEUED = "queued"
    SENT = "sent"
    # Every attempt failed; the platform admin can send it again.
    FAILED = "failed"


class Mail(SQLModel, table=True):
    """Every message the platform sends; without SMTP settings this table is the outbox."""

    __tablename__ = "mail"

    id: int | None = Field(default=None, primary_key=True)
    recipient: str = Field(max_length=254)
    subject: str = Field(max_length=300)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created_at: datetime = Field(default_factory=utcnow)
    sent_at: datetime | None = None
    # The last attempt's error.
    error: str | None = Field(default=None, max_length=500)
    state: str = Field(default=MailState.KEPT, max_length=10, index=True)
    attempts: int = 0
    message_id: str = Field(default="", max_length=200)


class MailRequest(SQLModel, table=True):
    """One mail that someone asked for without being logged in as its recipient (a
    registration, a password reset, a confirmation link), counted per target mailbox and
    per address for throttling, whether or not an account has that mailbox."""

    __tablename__ = "mail_request"

    id: int | None = Field(default=None, primary_key=True)
    mailbox: str = Field(max_length=254, index=True)
    address: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, index=True)
