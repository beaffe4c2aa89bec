"""Durable jobs: side effects that a worker carries out after the change that asked for them
has committed, with retries, and the schedules that run once per cluster.

A job is deferred in the caller's transaction (`defer`), so there is no job for a change that
rolled back and none lost for one that committed:

- on PostgreSQL through procrastinate: the job row is inserted with procrastinate's own SQL
  function on the connection of the caller's session; `python -m app worker` runs them, and
  its periodic tasks are deferred once per cluster (procrastinate's unique periodic defers);
- on SQLite into the `local_job` table; a worker thread inside `python -m app serve`
  (`app/jobs/local.py`) runs the same task functions, and a periodic task's due time is a
  unique key, so it is deferred once however many workers look at the clock.

The task functions are plain functions of a `Context` and JSON keyword arguments, registered
with `@task` by the module they belong to; `PERIODIC` lists the schedules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlmodel import Session

from app.jobs.models import LocalJob

if TYPE_CHECKING:
    from app.audit.keys import Keyring
    from app.config import Settings
    from app.db import Database

TaskFunction = Callable[..., object]


@dataclass
class Context:
    """What a task is given: the worker's database and settings, and what the web app
    holds too (the document store and the signing keys), made once per worker."""

    database: Database
    settings: Settings
    storage: Any
    keyring: Keyring


@dataclass(frozen=True)
class Task:
    name: str
    function: TaskFunction
    # Attempts in all, the first included; then the job is failed.
    max_attempts: int
    # Seconds before the second attempt; doubled for each later one, at most an hour.
    first_retry_seconds: float

    def retry_in(self, attempts: int, base: float | None = None) -> float | None:
        """Seconds to wait after `attempts` failed attempts, or None: give up."""
        if attempts >= self.max_attempts:
            return None
        first = self.first_retry_seconds if base is None else base
        return float(min(first * 2 ** (attempts - 1), 3600))


@dataclass(frozen=True)
class Periodic:
    task: str
    # Cron with an optional sixth field for the seconds (as procrastinate and croniter read).
    cron: Callable[[Settings], str]


TASKS: dict[str, Task] = {}
PERIODIC: list[Periodic] = []


def task(
    name: str, *, max_attempts: int = 1, first_retry_seconds: float = 30
) -> Callable[[TaskFunction], TaskFunction]:
    """Register `function(context, **kwargs)` as the task `name`."""

    def register(function: TaskFunction) -> TaskFunction:
        if name in TASKS and TASKS[name].function is not function:
            raise ValueError(f"two tasks are called {name}")
        TASKS[name] = Task(name, function, max_attempts, first_retry_seconds)
        return function

    return register


def periodic(name: str, cron: Callable[[Settings], str]) -> None:
    if name not in TASKS:
        raise ValueError(f"no task {name} to schedule")
    if all(item.task != name for item in PERIODIC):
        PERIODIC.append(Periodic(name, cron))


def defer(session: Session, name: str, **kwargs: Any) -> None:
    """Queue the task `name` in the session's transaction; it runs once that commits."""
    if name not in TASKS:
        raise ValueError(f"no task {name}")
    arguments = json.dumps(kwargs, sort_keys=True, separators=(",", ":"))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        from app.jobs import postgres

        postgres.defer(connection.connection.driver_connection, name, json.loads(arguments))
    else:
        session.add(LocalJob(task=name, args=arguments))
        session.flush()
