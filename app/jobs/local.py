"""The queue on SQLite: the `local_job` table, and a worker that runs the same task functions
as procrastinate does on PostgreSQL. It runs as a thread inside `python -m app serve` (and
`python -m app worker` runs it alone). Every step is a conditional update in a write
transaction, so several workers (the server's processes) never run one job twice; a
periodic task's due time is a unique key, so it is deferred once."""

from __future__ import annotations

import json
import logging
import threading
from datetime import datetime, timedelta
from typing import Any

from croniter import croniter
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from app.db import utcnow
from app.jobs import PERIODIC, TASKS, Context
from app.jobs.models import LocalJob

log = logging.getLogger(__name__)

# A job in `doing` for longer than this belonged to a worker that stopped; it runs again.
LEASE = timedelta(minutes=15)


def schedule_due(context: Context, now: datetime | None = None) -> int:
    """Defer each periodic task whose latest due time has no job yet (at start: the latest
    past one, as the daily purge always ran at start). Returns how many were deferred. A
    read first: usually nothing is due, and the write lock is not taken for nothing."""
    now = now or utcnow()
    due_keys = {}
    for item in PERIODIC:
        due = croniter(item.cron(context.settings), now).get_prev(datetime)
        due_keys[item.task] = (f"{item.task}@{due.isoformat()}", due)
    with context.database.session() as session:
        known = set(
            session.execute(
                select(col(LocalJob.periodic_key)).where(
                    col(LocalJob.periodic_key).in_([key for key, _ in due_keys.values()])
                )
            ).scalars()
        )
        # An older periodic job of a task still waiting is enough (as procrastinate's
        # queueing lock): a worker that was away does not come back to a pile of them.
        waiting = set(
            session.execute(
                select(col(LocalJob.task)).where(
                    col(LocalJob.periodic_key).is_not(None),
                    col(LocalJob.state).in_(("todo", "doing")),
                )
            ).scalars()
        )
    deferred = 0
    for task, (key, due) in due_keys.items():
        if key in known or task in waiting:
            continue
        with context.database.session(write=True) as session:
            session.add(LocalJob(task=task, args="{}", periodic_key=key, run_after=due))
            try:
                session.commit()
                deferred += 1
            except IntegrityError:
                session.rollback()  # another worker deferred it first
    return deferred


def _due_job(now: datetime) -> Any:
    return (
        select(col(LocalJob.id))
        .where(
            ((col(LocalJob.state) == "todo") & (col(LocalJob.run_after) <= now))
            | ((col(LocalJob.state) == "doing") & (col(LocalJob.locked_at) < now - LEASE))
        )
        .order_by(col(LocalJob.run_after), col(LocalJob.id))
        .limit(1)
    )


def claim(context: Context, now: datetime | None = None) -> LocalJob | None:
    """Take the oldest due job (or one whose worker's lease ran out), or None. A read
    first: the write lock is taken only when there is a job."""
    now = now or utcnow()
    with context.database.session() as session:
        if session.execute(_due_job(now)).scalar() is None:
            return None
    with context.database.session(write=True) as session:
        due = session.execute(_due_job(now)).scalar()
        if due is None:
            return None
        taken = session.execute(
            update(LocalJob)
            .where(col(LocalJob.id) == due, col(LocalJob.state).in_(("todo", "doing")))
            .values(state="doing", attempts=LocalJob.attempts + 1, locked_at=now)
        )
        session.commit()
        if taken.rowcount != 1:  # type: ignore[attr-defined]
            return None
        return session.get(LocalJob, due)


def run_one(context: Context, job: LocalJob, now: datetime | None = None) -> bool:
    """Run a claimed job; True when it succeeded. A retry waits from `now` (default: when
    the attempt ended)."""
    task = TASKS.get(job.task)
    error: str | None = None
    if task is None:
        error = f"no task {job.task}"
    else:
        try:
            task.function(context, **json.loads(job.args))
        except Exception as failure:
            log.exception("job %s (%s) failed", job.id, job.task)
            error = f"{type(failure).__name__}: {failure}"[:500]
    now = now or utcnow()
    with context.database.session(write=True) as session:
        if error is None:
            values: dict[str, object] = {"state": "done", "finished_at": now, "last_error": None}
        else:
            base = context.settings.job_retry_seconds or None
            wait = task.retry_in(job.attempts, base) if task else None
            if wait is None:
                values = {"state": "failed", "finished_at": now, "last_error": error}
            else:
                values = {
                    "state": "todo",
                    "run_after": now + timedelta(seconds=wait),
                    "last_error": error,
                }
        session.execute(update(LocalJob).where(col(LocalJob.id) == job.id).values(**values))
        session.commit()
    return error is None


def run_pending(context: Context, *, now: datetime | None = None, periodic: bool = False) -> int:
    """Run every job that is due now (and, with `periodic`, defer the schedules first);
    returns how many ran. What the worker does each turn, and what the tests call."""
    if periodic:
        schedule_due(context, now)
    ran = 0
    while (job := claim(context, now)) is not None:
        run_one(context, job, now)
        ran += 1
    return ran


class Worker:
    """The loop in a thread: a turn every `interval` seconds, stopped by `stop()`."""

    def __init__(self, context: Context, *, interval: float = 1.0) -> None:
        self.context = context
        self.interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stopping.set()
        self._thread.join(timeout)

    def run_forever(self) -> None:
        self._loop()

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                run_pending(self.context, periodic=True)
            except Exception:
                log.exception("the job worker's turn failed; it tries again")
            self._stopping.wait(self.interval)
