"""The queue on PostgreSQL: procrastinate (https://procrastinate.readthedocs.io), whose jobs,
retries, LISTEN/NOTIFY and once-per-cluster periodic defers are its own tables and SQL
functions, made by migration 0014 from the schema of the installed procrastinate."""

from __future__ import annotations

import logging
from typing import Any

import procrastinate
from procrastinate.retry import BaseRetryStrategy, RetryDecision
from sqlalchemy.engine import make_url

from app.jobs import PERIODIC, TASKS, Context, Task

log = logging.getLogger(__name__)

_DEFERRING: procrastinate.App | None = None


def conninfo(database_url: str) -> str:
    """The libpq form of the app's SQLAlchemy URL (which names the psycopg driver)."""
    return make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)


def _deferring_app() -> procrastinate.App:
    """An app that only defers, always on a connection it is given: it never opens a pool."""
    global _DEFERRING
    if _DEFERRING is None:
        _DEFERRING = procrastinate.App(connector=procrastinate.PsycopgConnector())
    return _DEFERRING


def defer(connection: Any, name: str, kwargs: dict[str, Any]) -> None:
    """Insert the job with procrastinate's defer function on the caller's psycopg connection,
    inside its open transaction (it commits or rolls back with the change)."""
    _deferring_app().configure_task(name, connection=connection).defer(**kwargs)


class _Backoff(BaseRetryStrategy):
    def __init__(self, task: Task, base: float | None) -> None:
        self.task = task
        self.base = base

    def get_retry_decision(
        self, *, exception: BaseException, job: procrastinate.jobs.Job
    ) -> RetryDecision | None:
        # `job.attempts` counts the attempts before this one.
        wait = self.task.retry_in(job.attempts + 1, self.base)
        if wait is None:
            return None
        return RetryDecision(retry_in={"seconds": round(wait)})


def worker_app(context: Context) -> procrastinate.App:
    """A procrastinate app with every registered task and schedule, run by `python -m app
    worker`."""
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(conninfo=conninfo(context.database.url))
    )
    base = context.settings.job_retry_seconds or None
    periodic = {item.task: item for item in PERIODIC}
    for task in TASKS.values():
        if task.name in periodic:
            scheduled = app.task(name=task.name, queueing_lock=task.name)(
                _periodic_run(context, task)
            )
            app.periodic(cron=periodic[task.name].cron(context.settings))(scheduled)
        else:
            retry = _Backoff(task, base) if task.max_attempts > 1 else False
            app.task(name=task.name, retry=retry)(_run(context, task))

    @app.periodic(cron="* * * * *")
    @app.task(name="retry_stalled_jobs", queueing_lock="retry_stalled_jobs")
    async def retry_stalled_jobs(timestamp: int) -> None:
        """A job whose worker stopped beating (killed, or its machine gone) runs again."""
        for job in await app.job_manager.get_stalled_jobs():
            log.warning("job %s (%s) was stalled; it runs again", job.id, job.task_name)
            await app.job_manager.retry_job(job)

    return app


def _run(context: Context, task: Task) -> Any:
    def run(**kwargs: Any) -> None:
        task.function(context, **kwargs)

    run.__name__ = task.name
    return run


def _periodic_run(context: Context, task: Task) -> Any:
    def run(timestamp: int) -> None:
        task.function(context)

    run.__name__ = task.name
    return run
