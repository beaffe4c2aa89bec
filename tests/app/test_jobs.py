"""Durable jobs (app/jobs): deferred in the change's own transaction, run by a worker with
retries, periodic tasks once per cluster; mail sent by the worker to a real SMTP server
(aiosmtpd) that is down while a letter round is published and up later."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import nullcontext
from datetime import timedelta
from email import message_from_bytes
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import func, select, text
from sqlmodel import Session, col

from app import jobs
from app.accounts import mail
from app.accounts.models import Mail, MailState
from app.applications import letter_round
from app.applications.models import Application
from app.audit import service as audit
from app.config import Settings
from app.db import Database, utcnow
from app.jobs import local
from app.jobs.models import LocalJob
from app.procedures.vocabulary import Phase
from app.worker import make_context
from tests.app.conftest import Browser, Factory
from tests.app.test_applications import fresh
from tests.app.test_letter_round_and_privacy import apply, to_letter_round
from tests.conftest import ON_POSTGRES

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Sink:
    """aiosmtpd's handler: keeps every message it is given."""

    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"


@pytest.fixture
def smtp_port() -> int:
    return free_port()


def with_smtp(settings: Settings, port: int) -> Settings:
    return settings.model_copy(
        update={
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_starttls": False,
            "job_retry_seconds": 1,
        }
    )


def jobs_waiting(session: Session, task: str) -> int:
    session.rollback()
    if ON_POSTGRES:
        return int(
            session.execute(
                text(
                    "SELECT count(*) FROM procrastinate_jobs WHERE task_name = :task "
                    "AND status = 'todo'"
                ),
                {"task": task},
            ).scalar_one()
        )
    return int(
        session.execute(
            select(func.count()).where(col(LocalJob.task) == task, col(LocalJob.state) == "todo")
        ).scalar_one()
    )


def run_jobs(context: jobs.Context) -> None:
    """What a worker does until nothing is due: procrastinate's worker on PostgreSQL (it
    stops once the queue is empty), the local queue's loop on SQLite."""
    if ON_POSTGRES:
        from app.jobs.postgres import worker_app

        asyncio.run(_run_procrastinate(worker_app(context)))
    else:
        local.run_pending(context)


async def _run_procrastinate(app: Any) -> None:
    async with app.open_async():
        await app.run_worker_async(wait=False, install_signal_handlers=False, listen_notify=False)


@pytest.fixture
def context(settings: Settings, database: Database, smtp_port: int) -> Iterator[jobs.Context]:
    yield make_context(with_smtp(settings, smtp_port), database)


def test_a_mail_is_deferred_with_its_change_and_not_for_a_rollback(
    context: jobs.Context, session: Session
) -> None:
    with context.database.session(write=True) as writing:
        mail.send(writing, context.settings, to="a@example.org", subject="Eén", body="Tekst")
        writing.rollback()
    assert jobs_waiting(session, mail.SEND_MAIL) == 0
    assert session.execute(select(func.count()).select_from(Mail)).scalar_one() == 0
    with context.database.session(write=True) as writing:
        stored = mail.send(writing, context.settings, to="a@example.org", subject="Eén", body="T")
        writing.commit()
    assert jobs_waiting(session, mail.SEND_MAIL) == 1
    assert stored.state == MailState.QUEUED and stored.message_id.startswith("<")


def test_without_smtp_a_mail_is_kept_in_the_outbox_and_no_job_is_made(
    settings: Settings, session: Session
) -> None:
    kept = mail.send(session, settings, to="a@example.org", subject="S", body="B")
    session.commit()
    assert kept.state == MailState.KEPT
    assert jobs_waiting(session, mail.SEND_MAIL) == 0


def test_the_smtp_server_down_at_publishing_and_up_later_everyone_gets_one_message(
    new_browser: Any, factory: Factory, session: Session, context: jobs.Context, smtp_port: int
) -> None:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    people = [factory.user(f"Kandidaat {n}") for n in range(4)]
    for person in people:
        apply(new_browser(), session, procedure, person)
    procedure = to_letter_round(session, procedure)
    requirements = letter_round.minimum_requirements(session, procedure)
    for application in session.execute(select(Application)).scalars().all():
        letter_round.decide(
            session,
            actor="admin",
            procedure=procedure,
            application=application,
            verdicts={r.id: ("met", "") for r in requirements if r.id is not None},
        )
    session.commit()
    # Nothing listens on the SMTP port: publishing answers, the letters wait in the queue.
    before = session.execute(select(func.max(Mail.id))).scalar() or 0
    assert letter_round.publish(session, context.settings, actor="admin", procedure=procedure) == 4
    letters = session.execute(select(Mail).where(col(Mail.id) > before)).scalars().all()
    assert len(letters) == 4 and all(m.state == MailState.QUEUED for m in letters)
    run_jobs(context)
    session.rollback()
    for letter in session.execute(select(Mail).where(col(Mail.id).in_([m.id for m in letters]))):
        stored = letter[0]
        assert stored.state == MailState.QUEUED and stored.attempts == 1
        assert "ConnectionRefusedError" in (stored.error or "")
    assert jobs_waiting(session, mail.SEND_MAIL) == 4  # each retried later

    sink = Sink()
    server = Controller(sink, hostname="127.0.0.1", port=smtp_port)
    server.start()
    try:
        time.sleep(1.2)  # the first retry waits JOB_RETRY_SECONDS
        run_jobs(context)
        run_jobs(context)  # a second worker turn finds nothing to send again
    finally:
        server.stop()
    received = Counter(message["To"] for message in sink.messages)
    assert received == Counter(person.email for person in people)
    ids = [message["Message-ID"] for message in sink.messages]
    session.rollback()
    stored = session.execute(select(Mail).where(col(Mail.id).in_([m.id for m in letters])))
    sent = [row[0] for row in stored]
    assert sorted(ids) == sorted(m.message_id for m in sent)
    assert all(m.state == MailState.SENT and m.attempts == 2 for m in sent)


def test_a_mail_that_keeps_failing_is_failed_and_the_admin_sends_it_again(
    browser: Browser, factory: Factory, session: Session, context: jobs.Context, smtp_port: int,
    app: FastAPI,
) -> None:  # fmt: skip
    stored = mail.send(session, context.settings, to="x@example.org", subject="Hallo", body="B")
    session.commit()
    for attempt in range(1, mail.MAX_ATTEMPTS + 1):
        # Nothing listens: each attempt asks to be retried, but the last marks it failed.
        expected = pytest.raises(mail.NotSent) if attempt < mail.MAX_ATTEMPTS else nullcontext()
        with expected:
            mail.send_stored(context.database, context.settings, stored.id or 0)
    fresh(session)
    failed = session.get(Mail, stored.id)
    assert failed is not None and failed.state == MailState.FAILED
    assert failed.attempts == mail.MAX_ATTEMPTS

    admin = factory.user("Beheer", platform_admin=True)
    browser.login(admin.email)
    page = browser.get("/admin/outbox")
    assert (
        page.status_code == 200 and "Failed" in page.text and "ConnectionRefusedError" in page.text
    )
    member = factory.user("Lid")
    outsider = Browser(app, context.settings)
    outsider.login(member.email)
    assert outsider.post(f"/admin/outbox/{stored.id}/send-again").status_code in (403, 404)
    answer = browser.post(f"/admin/outbox/{stored.id}/send-again")
    assert answer.status_code == 303
    fresh(session)
    again = session.get(Mail, stored.id)
    assert again is not None and again.state == MailState.QUEUED and again.attempts == 0
    assert jobs_waiting(session, mail.SEND_MAIL) >= 1
    actions = [entry["action"] for entry in audit.entries(session, audit.PLATFORM_CHAIN)]
    assert "mail.send_again" in actions
    # Only a failed message can be sent again.
    assert browser.post(f"/admin/outbox/{stored.id}/send-again").status_code == 409


def test_a_job_that_fails_is_retried_with_backoff_then_failed(
    context: jobs.Context, session: Session
) -> None:
    if ON_POSTGRES:
        pytest.skip("the local queue's own bookkeeping (procrastinate's is its own)")
    calls: list[int] = []

    @jobs.task("tests.always_fails", max_attempts=3, first_retry_seconds=60)
    def always_fails(_context: jobs.Context, n: int) -> None:
        calls.append(n)
        raise RuntimeError("kapot")

    jobs.defer(session, "tests.always_fails", n=7)
    session.commit()
    settings = context.settings.model_copy(update={"job_retry_seconds": 0})
    context = jobs.Context(context.database, settings, context.storage, context.keyring)
    now = utcnow()
    assert local.run_pending(context, now=now) == 1
    assert local.run_pending(context, now=now) == 0  # waits its backoff (60 s)
    assert local.run_pending(context, now=now + timedelta(seconds=61)) == 1
    assert local.run_pending(context, now=now + timedelta(seconds=61 + 119)) == 0
    assert local.run_pending(context, now=now + timedelta(seconds=61 + 121)) == 1
    assert local.run_pending(context, now=now + timedelta(days=1)) == 0
    session.rollback()
    [job] = session.execute(select(LocalJob)).scalars().all()
    assert calls == [7, 7, 7] and job.state == "failed" and job.attempts == 3
    assert job.last_error == "RuntimeError: kapot"


def test_a_periodic_task_is_deferred_once_however_many_workers_look(
    context: jobs.Context, session: Session
) -> None:
    if ON_POSTGRES:
        pytest.skip("on PostgreSQL: test_two_procrastinate_workers_run_a_periodic_job_once")
    now = utcnow()
    deferred = [local.schedule_due(context, now) for _ in range(3)]
    assert deferred[0] == len(jobs.PERIODIC) and deferred[1:] == [0, 0]
    session.rollback()
    keys = session.execute(select(LocalJob.periodic_key)).scalars().all()
    assert len(keys) == len(set(keys)) == len(jobs.PERIODIC)


def _clock_jobs(database_url: str) -> list[tuple[str, str]]:
    """(due timestamp, status) of every clock job in procrastinate's table: a periodic job
    carries the time it was due as its `timestamp` argument."""
    from sqlalchemy import create_engine

    from app.db import normalise_url

    engine = create_engine(normalise_url(database_url))
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT args->>'timestamp', status::text FROM procrastinate_jobs "
                "WHERE task_name = 'follow_the_clock'"
            )
        ).all()
    engine.dispose()
    return [(str(row[0]), str(row[1])) for row in rows]


def clock_runs(session: Session, database_url: str) -> tuple[int, list[str], Any]:
    """How many clock jobs succeeded, and the due times deferred (one per job)."""
    session.rollback()
    if ON_POSTGRES:
        jobs_ = _clock_jobs(database_url)
        done = sum(1 for _, status in jobs_ if status == "succeeded")
        return done, [due for due, _ in jobs_], jobs_
    rows = session.execute(
        select(LocalJob.periodic_key, LocalJob.state).where(
            col(LocalJob.task) == "follow_the_clock"
        )
    ).all()
    done = sum(1 for row in rows if row[1] == "done")
    return done, [str(row[0]) for row in rows], rows


def test_two_workers_run_a_periodic_job_once(
    settings: Settings, session: Session, tmp_path: Path
) -> None:
    """Two `python -m app worker` processes side by side, the clock every second: once both
    run, each due time's job is deferred and run once, however the two race for it."""
    env = {
        "PATH": "/usr/bin:/bin",
        "VAR_DIR": str(settings.var_dir),
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": "test-secret-key-not-used-anywhere-else",
        "CLOCK_SECONDS": "1",
        "PASSWORD_HASH_COST": "tests",
    }
    logs = [tmp_path / f"worker-{n}.log" for n in range(2)]
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "app", "worker"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=log.open("w"),
        )
        for log in logs
    ]
    try:
        deadline = time.monotonic() + 90
        while not all("running the jobs" in log.read_text() for log in logs):
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            assert all(worker.poll() is None for worker in workers), [
                log.read_text() for log in logs
            ]
            time.sleep(0.2)
        started, _, _ = clock_runs(session, settings.database_url)
        # Four more seconds' runs with both workers looking at the clock.
        while clock_runs(session, settings.database_url)[0] < started + 4:
            assert time.monotonic() < deadline, [log.read_text() for log in logs]
            time.sleep(0.2)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
    done, deferred, rows = clock_runs(session, settings.database_url)
    errors = [log.read_text()[-2000:] for log in logs]
    assert done >= started + 4
    assert deferred and len(deferred) == len(set(deferred)), (rows, errors)


def test_procedures_open_by_the_worker_not_by_each_web_process(
    settings: Settings, factory: Factory, session: Session
) -> None:
    """The web app does not run the jobs when JOBS_IN_WEB says no (PostgreSQL's default)."""
    from app.main import create_app

    quiet = settings.model_copy(update={"jobs_in_web": "no"})
    assert not quiet.runs_jobs_in_web
    assert settings.model_copy(update={"jobs_in_web": "auto"}).runs_jobs_in_web == (not ON_POSTGRES)
    app = create_app(quiet)
    from fastapi.testclient import TestClient

    with TestClient(app):
        time.sleep(1.5)
    app.state.database.dispose()
    session.rollback()
    assert session.execute(select(func.count()).select_from(LocalJob)).scalar_one() == 0
