"""Procedures open and close by themselves at their published times: a scheduled job takes
the steps (recorded in the chain as `system`, once, however many workers run it), and every
page asks the clock itself, so a deadline that has passed is closed before the job ran."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import worker as worker_module
from app.audit import service as audit
from app.conduct import transition as conduct_transition
from app.config import Settings
from app.db import Database, utcnow
from app.errors import Conflict
from app.i18n import set_language
from app.main import create_app
from app.procedures import editor, queries
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from app.web import local_time
from tests.app.conftest import Browser, Factory
from tests.app.test_applications import form, fresh


def set_times(
    session: Session, procedure: Procedure, *, opens: timedelta | None = None, closes: timedelta
) -> Procedure:
    """Move the published times relative to now (as if the clock had moved on)."""
    fresh(session)
    stored = session.get(Procedure, procedure.id)
    assert stored is not None
    now = utcnow()
    if opens is not None:
        stored.opens_at = now + opens
    stored.closes_at = now + closes
    session.commit()
    return stored


def phase_of(session: Session, procedure: Procedure) -> str:
    fresh(session)
    stored = session.get(Procedure, procedure.id)
    assert stored is not None
    return stored.phase


def clock_entries(session: Session, procedure: Procedure) -> list[dict]:  # type: ignore[type-arg]
    """The steps the clock took (the factory walks its procedures as `system` too)."""
    fresh(session)
    return [
        e
        for e in audit.entries(session, procedure.reference)
        if e["action"] in ("procedure.open", "procedure.closed") and "scheduled" in e["data"]
    ]


def dutch(moment) -> str:  # type: ignore[no-untyped-def]
    set_language("en")
    return local_time(moment)


def test_after_the_deadline_every_page_says_closed_before_the_job_ran(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    procedure = set_times(session, procedure, closes=-timedelta(seconds=1))
    assert procedure.phase == Phase.OPEN  # the job has not run
    closed = dutch(procedure.closes_at)

    catalogue = browser.get("/").text
    card = catalogue[catalogue.index(procedure.title) :]
    card = card[: card.index("</li>")]
    assert "Open for applications" not in card and "Closed" in card and closed in card
    assert procedure.title not in browser.get("/?status=open").text
    assert procedure.title in browser.get("/?status=closed").text

    page = browser.get(f"/procedures/{procedure.reference}").text
    assert f"/procedures/{procedure.reference}/apply" not in page
    assert f"closed on {closed} (Dutch time)" in page
    assert "Open for applications" not in page

    summary = browser.get(f"/api/procedures/{procedure.reference}").json()
    assert summary["status"] == "closed"
    listed = browser.get("/api/procedures", params={"status": "open"}).json()
    assert procedure.reference not in [p["reference"] for p in listed]

    browser.login(factory.user().email)
    apply = browser.get(f"/procedures/{procedure.reference}/apply")
    assert apply.status_code == 200
    assert "Applications are closed" in apply.text
    assert f"closed on {closed} (Dutch time)" in apply.text
    assert 'name="big_number"' not in apply.text  # no form to fill in for nothing
    assert procedure.title not in browser.get("/my").text.split("Open for applications now")[1]


@pytest.mark.parametrize("phase", [Phase.CLOSED, Phase.INTERVIEWS])
def test_a_closed_procedures_apply_link_gets_the_closed_page_not_a_403(
    browser: Browser, factory: Factory, session: Session, phase: Phase
) -> None:
    procedure = factory.procedure(phase=phase)
    browser.login(factory.user().email)
    url = f"/procedures/{procedure.reference}/apply"
    page = browser.get(url)
    assert page.status_code == 200 and "Applications are closed" in page.text
    assert dutch(procedure.closes_at) in page.text
    late = browser.post(url, {**form(session, procedure), "action": "submit"})
    assert late.status_code == 409 and "Applications are closed" in late.text


def test_a_published_procedure_takes_applications_from_its_opening_time(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.PUBLISHED)
    procedure = set_times(session, procedure, opens=timedelta(hours=2), closes=timedelta(days=9))
    browser.login(factory.user().email)
    url = f"/procedures/{procedure.reference}/apply"
    early = browser.get(url)
    assert early.status_code == 200 and "Applications are not open yet" in early.text
    assert dutch(procedure.opens_at) in early.text
    assert browser.post(url, {"action": "save"}).status_code == 409
    page = browser.get(f"/procedures/{procedure.reference}").text
    assert f"open on {dutch(procedure.opens_at)} (Dutch time)" in page and url not in page

    procedure = set_times(session, procedure, opens=-timedelta(seconds=1), closes=timedelta(days=9))
    assert procedure.phase == Phase.PUBLISHED  # the job has not run
    assert 'name="big_number"' in browser.get(url).text
    assert f"{url}" in browser.get(f"/procedures/{procedure.reference}").text
    assert browser.post(url, {**form(session, procedure), "action": "save"}).status_code == 303


def test_the_job_opens_and_closes_at_the_published_times_as_system_once(
    app: FastAPI, factory: Factory, session: Session
) -> None:
    waiting = factory.procedure(phase=Phase.PUBLISHED)
    waiting = set_times(session, waiting, opens=-timedelta(seconds=2), closes=timedelta(days=9))
    running = factory.procedure(phase=Phase.OPEN)
    running = set_times(session, running, closes=-timedelta(seconds=2))
    untouched = factory.procedure(phase=Phase.OPEN)

    taken = worker_module.follow_the_clock_once(app.state.jobs)
    assert sorted(taken) == sorted([(waiting.reference, "open"), (running.reference, "close")])
    assert phase_of(session, waiting) == Phase.OPEN
    assert phase_of(session, running) == Phase.CLOSED
    assert phase_of(session, untouched) == Phase.OPEN
    [opened] = clock_entries(session, waiting)
    assert opened["action"] == "procedure.open" and opened["actor"] == "system"
    assert opened["data"]["from"] == "published" and opened["data"]["to"] == "open"
    assert opened["data"]["scheduled"].startswith(waiting.opens_at.strftime("%Y-%m-%dT%H:%M:%S"))
    [closed] = clock_entries(session, running)
    assert closed["data"]["from"] == "open" and closed["data"]["to"] == "closed"

    # idempotent: nothing left to do
    assert worker_module.follow_the_clock_once(app.state.jobs) == []
    assert len(clock_entries(session, waiting)) == len(clock_entries(session, running)) == 1
    for procedure in (waiting, running):
        assert audit.verify_stored(session, procedure.reference).ok


def test_a_procedure_the_job_never_saw_open_is_opened_and_closed_in_one_run(
    app: FastAPI, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.PUBLISHED)
    set_times(session, procedure, opens=-timedelta(days=2), closes=-timedelta(seconds=1))
    assert worker_module.follow_the_clock_once(app.state.jobs) == [
        (procedure.reference, "open"),
        (procedure.reference, "close"),
    ]
    assert phase_of(session, procedure) == Phase.CLOSED


def test_several_workers_at_once_take_each_step_once(
    app: FastAPI, settings: Settings, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    set_times(session, procedure, closes=-timedelta(seconds=1))
    workers = [create_app(settings) for _ in range(3)]
    start = threading.Barrier(len(workers))
    results: list[list[tuple[str, str]]] = []

    def work(worker: FastAPI) -> None:
        start.wait()
        results.append(worker_module.follow_the_clock_once(worker.state.jobs))

    threads = [threading.Thread(target=work, args=(worker,)) for worker in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for worker in workers:
        worker.state.database.dispose()
    assert sorted(results) == [[], [], [(procedure.reference, "close")]]
    assert len(clock_entries(session, procedure)) == 1
    assert audit.verify_stored(session, procedure.reference).ok


def test_an_admins_click_after_the_job_took_the_step_is_refused(
    database: Database, factory: Factory, session: Session
) -> None:
    set_language("en")  # the refusal below is read in English (it leant on a test before it)
    procedure = factory.procedure(phase=Phase.OPEN)
    set_times(session, procedure, closes=-timedelta(seconds=1))
    with database.session(write=True) as admin:
        seen = queries.get_procedure(admin, procedure.reference)  # still open here
        admin.commit()
        with database.session(write=True) as job:
            assert conduct_transition.follow_the_clock(job, [seen.id or 0]) == [
                (procedure.reference, "close")
            ]
        with pytest.raises(Conflict, match="not possible in the current phase"):
            conduct_transition.transition(admin, actor="user:1", procedure=seen, action="close")
    assert len(clock_entries(session, procedure)) == 1


def test_the_manual_buttons_still_work(
    browser: Browser, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    set_times(session, procedure, closes=-timedelta(seconds=1))
    browser.login(admin.email)
    response = browser.post(
        f"/manage/procedures/{procedure.reference}/transition", {"action": "close"}
    )
    assert response.status_code == 303
    assert phase_of(session, procedure) == Phase.CLOSED
    fresh(session)
    actors = [e["actor"] for e in audit.entries(session, procedure.reference)]
    assert actors[-1] == f"user:{admin.id}"


def test_a_passed_deadline_cannot_be_moved_before_the_job_closed_it(
    factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    procedure = set_times(session, procedure, closes=-timedelta(seconds=1))
    assert procedure.closes_at is not None and procedure.letter_round_result_at is not None
    with pytest.raises(Conflict):
        editor.set_timeline(
            session,
            actor="user:1",
            procedure=procedure,
            opens_at=procedure.opens_at,
            closes_at=procedure.closes_at + timedelta(days=1),
            letter_round_result_at=procedure.letter_round_result_at,
            interview_days=[],
            final_result_at=procedure.final_result_at,
        )


def test_the_app_runs_the_job_by_itself(
    settings: Settings, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    set_times(session, procedure, closes=-timedelta(seconds=1))
    # The worker inside the web process (the default on SQLite; procrastinate's on
    # PostgreSQL, where `python -m app worker` is the default).
    app = create_app(settings.model_copy(update={"clock_seconds": 0.1, "jobs_in_web": "yes"}))
    with TestClient(app):  # runs the lifespan, which starts the job worker
        deadline = time.monotonic() + 20
        while phase_of(session, procedure) != Phase.CLOSED and time.monotonic() < deadline:
            time.sleep(0.1)
    app.state.database.dispose()
    assert phase_of(session, procedure) == Phase.CLOSED
