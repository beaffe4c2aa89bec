"""The job table of the SQLite queue (app/jobs/local.py). On PostgreSQL, procrastinate keeps
its own tables (procrastinate_jobs and others), made by migration 0014 from procrastinate's
schema; this table then stays empty."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, Text
from sqlmodel import Field, SQLModel

from app.db import utcnow


class LocalJob(SQLModel, table=True):
    __tablename__ = "local_job"

    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=80)
    # The task's keyword arguments, as canonical JSON.
    args: str = Field(sa_column=Column(Text, nullable=False))
    # todo → doing → done, or back to todo with a later run_after, or failed.
    state: str = Field(default="todo", max_length=10, index=True)
    attempts: int = 0
    run_after: datetime = Field(default_factory=utcnow, index=True)
    # A periodic job's task and due time: unique, so that it is deferred once however
    # many workers look at the clock.
    periodic_key: str | None = Field(default=None, max_length=120, unique=True)
    locked_at: datetime | None = None
    last_error: str | None = Field(default=None, max_length=500)
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None
