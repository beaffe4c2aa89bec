"""The schedules and the worker: what runs by the clock, once per cluster, and the process
(`python -m app worker`) or thread (inside `python -m app serve` on SQLite) that runs the
jobs. See app/jobs for the queue itself."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import delete
from sqlmodel import col

from app import jobs
from app.accounts.service import prune_expired
from app.applications.privacy import purge
from app.applications.stores import open_storage
from app.audit import keys as signing_keys
from app.audit import service as audit
from app.conduct import transition
from app.config import Settings
from app.db import Database, connect, utcnow
from app.interviews import day as interview_day
from app.jobs.models import LocalJob
from app.placement import preferences
from app.procedures.models import Procedure

log = logging.getLogger("app.worker")

# Finished jobs of the SQLite queue are kept this long, for whoever looks into a problem.
KEEP_FINISHED = timedelta(days=7)


def make_context(settings: Settings, database: Database | None = None) -> jobs.Context:
    database = database or connect(settings.database_url)
    return jobs.Context(
        database=database,
        settings=settings,
        storage=open_storage(settings, database.engine),
        keyring=signing_keys.activate(settings),
    )


@jobs.task("follow_the_clock")
def follow_the_clock_once(context: jobs.Context) -> list[tuple[str, str]]:
    """The steps due at the published times: opening, closing, fixing the preferences at
    their deadline, and the interview reminders the day before. Each step is taken under
    the procedure's row lock (the write lock on SQLite) and checks that it is still due, so
    a second run finds it taken; the pages do not wait for it: they ask the clock
    themselves."""
    database, now = context.database, utcnow()
    with database.session() as session:  # a read first: usually nothing is due
        due = transition.due_by_the_clock(session, now)
        lists_due = preferences.due(session, now)
    taken: list[tuple[str, str]] = []
    if due:
        with database.session(write=True) as session:
            taken += transition.follow_the_clock(session, due, now)
    for procedure_id in lists_due:
        with database.session(write=True) as session:
            procedure = session.get(Procedure, procedure_id)
            if procedure is not None and preferences.fix(session, procedure, now):
                taken.append((procedure.reference, "fix_preferences"))
    with database.session() as session:
        reminders = interview_day.due_reminders(session, now)
    for booking_id in reminders:
        with database.session(write=True) as session:
            if interview_day.send_reminder(session, context.settings, booking_id, now):
                taken.append((f"booking:{booking_id}", "interview_reminder"))
    for reference, action in taken:
        log.info("%s: %s at its published time", reference, action)
    return taken


@jobs.task("purge")
def purge_once(context: jobs.Context) -> int:
    """Erase the applications whose retention period has passed."""
    with context.database.session(write=True) as session:
        count = purge(session, context.storage)
    if count:
        log.info("purged %s applications past their retention period", count)
    return count


@jobs.task("checkpoints")
def checkpoint_once(context: jobs.Context) -> list[str]:
    """A signed checkpoint of every chain that grew since its last one (the spec asks for
    one at least daily while a chain grows); one short transaction per chain, so appends
    to the other chains do not wait."""
    with context.database.session() as session:
        due = audit.chains_to_checkpoint(session)
    for chain in due:
        with context.database.session(write=True) as session:
            audit.checkpoint(session, chain, keyring=context.keyring)
            session.commit()
    if due:
        log.info("signed checkpoints of %s chains", len(due))
    return due


@jobs.task("prune")
def prune_once(context: jobs.Context) -> None:
    """Expired sessions, old login failures and mail requests, and finished local jobs."""
    with context.database.session(write=True) as session:
        prune_expired(session, context.settings)
        session.execute(
            delete(LocalJob).where(
                col(LocalJob.state).in_(("done", "failed")),
                col(LocalJob.finished_at) < utcnow() - KEEP_FINISHED,
            )
        )
        session.commit()


def clock_cron(settings: Settings) -> str:
    step = max(1, min(59, round(settings.clock_seconds)))
    return f"* * * * * */{step}"


jobs.periodic("follow_the_clock", clock_cron)
jobs.periodic("purge", lambda _settings: "0 3 * * *")
jobs.periodic("prune", lambda _settings: "15 3 * * *")
jobs.periodic("checkpoints", lambda _settings: "30 3 * * *")


def run(settings: Settings) -> None:
    """`python -m app worker`: procrastinate's worker on PostgreSQL (any number of them, on
    any machines), the local queue's loop on SQLite."""
    context = make_context(settings)
    try:
        if context.database.is_sqlite:
            log.info("running the jobs of the SQLite queue")
            from app.jobs.local import Worker

            Worker(context).run_forever()
        else:
            from app.jobs.postgres import worker_app

            log.info("running the jobs on PostgreSQL (procrastinate)")
            worker_app(context).run_worker(name="app")
    finally:
        context.database.dispose()
