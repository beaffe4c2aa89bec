"""The interview day (issue 16): the reminder the day before (once, also with two workers;
again after a move), and a panel's running-late notice that moves its later interviews of
the day in the panel's view."""

from __future__ import annotations

import html
from datetime import UTC, datetime, time, timedelta
from typing import Any

from fastapi import FastAPI
from sqlmodel import Session, select

from app import demo
from app.accounts.models import Mail, User
from app.audit.models import AuditEntry
from app.conduct import transition
from app.config import Settings
from app.db import utcnow
from app.forms import AMSTERDAM
from app.interviews import day
from app.interviews.models import Booking, InterviewSlot, Panel
from app.procedures.models import ProcedureMember
from app.worker import follow_the_clock_once
from tests.app.conftest import Browser
from tests.app.interviews.test_booking import book, setup, slots_of

__all__ = ["setup"]  # the fixture, shared with the booking tests


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


def reminders_to(session: Session, email: str) -> list[Mail]:
    session.rollback()
    return [
        m
        for m in session.execute(select(Mail).where(Mail.recipient == email)).scalars()
        if m.subject.startswith("Morgen")
    ]


def test_the_reminder_goes_out_the_day_before_once_and_again_after_a_move(
    setup: dict[str, Any], session: Session, settings: Settings
) -> None:
    procedure, panels = setup["procedure"], setup["panels"]
    first = setup["applications"][0]
    slot = slots_of(session, procedure, panels["Panel A"])[0]
    assert book(setup, first, slot).status_code == 303
    session.rollback()
    booking = session.execute(
        select(Booking).where(Booking.application_id == first.id)
    ).scalar_one()
    user = session.get(User, first.applicant_id)
    assert user is not None
    due_at = day.reminder_moment(slot)
    assert due_at.astimezone(AMSTERDAM).time() == time(9, 0)
    interview_day = slot.starts_at.astimezone(AMSTERDAM).date()
    assert due_at.astimezone(AMSTERDAM).date() == interview_day - timedelta(days=1)
    assert day.due_reminders(session, due_at - timedelta(minutes=1)) == []
    assert day.due_reminders(session, due_at) == [booking.id]
    # Two workers find it due at once: only one sends it.
    assert day.send_reminder(session, settings, booking.id, due_at)
    assert not day.send_reminder(session, settings, booking.id, due_at)
    assert day.due_reminders(session, due_at + timedelta(hours=1)) == []
    sent = reminders_to(session, user.email)
    assert len(sent) == 1
    assert f"/applications/{first.reference}#interview" in sent[0].body
    assert "Panel A" in sent[0].body
    chained = session.execute(
        select(AuditEntry).where(
            AuditEntry.chain == procedure.reference, AuditEntry.action == "booking.reminded"
        )
    ).scalars()
    assert [e.subject for e in chained] == [f"application:{first.reference}"]

    # Moved to another time: a new reminder the day before that one.
    later = slots_of(session, procedure, panels["Panel B"])[-1]
    assert book(setup, first, later).status_code == 303
    session.rollback()
    assert day.due_reminders(session, day.reminder_moment(later)) == [booking.id]


def test_the_clock_sends_the_due_reminders(
    setup: dict[str, Any], session: Session, app: FastAPI
) -> None:
    procedure, panels = setup["procedure"], setup["panels"]
    first = setup["applications"][0]
    slot = slots_of(session, procedure, panels["Panel A"])[0]
    assert book(setup, first, slot).status_code == 303
    session.rollback()
    # The interview is tomorrow morning now, and it is past nine the day before.
    moved = session.get(InterviewSlot, slot.id)
    assert moved is not None
    moved.starts_at = utcnow() + timedelta(hours=20)
    session.commit()
    if day.reminder_moment(moved) > utcnow():  # before nine: the clock would wait
        # An interview later this morning instead, whose reminder was due yesterday at nine.
        moved.starts_at = utcnow() + timedelta(minutes=30)
        session.commit()
    assert day.reminder_moment(moved) <= utcnow() < moved.starts_at
    taken = follow_the_clock_once(app.state.jobs)
    assert [action for _ref, action in taken] == ["interview_reminder"]
    assert follow_the_clock_once(app.state.jobs) == []  # sent once
    user = session.get(User, first.applicant_id)
    assert user is not None and len(reminders_to(session, user.email)) == 1


def running(setup: dict[str, Any], session: Session, settings: Settings) -> tuple[Any, Any]:
    """Everyone booked, one of panel A's interviews moved to later today, the interviews
    started; returns the chair's browser (panel A) and that slot."""
    procedure, panels = setup["procedure"], setup["panels"]
    a_slots = slots_of(session, procedure, panels["Panel A"])
    b_slots = slots_of(session, procedure, panels["Panel B"])
    # The third applicant knows panel A's chair: they go to panel B.
    apps = setup["applications"]
    pairs = zip([apps[0], apps[1], apps[3], apps[2], apps[4], apps[5]],
                [*a_slots[:3], *b_slots[:3]], strict=True)  # fmt: skip
    for application, slot in pairs:
        assert book(setup, application, slot).status_code == 303
    session.rollback()
    now = utcnow()
    end_of_today = datetime.combine(
        now.astimezone(AMSTERDAM).date(), time(23, 30), AMSTERDAM
    ).astimezone(UTC)
    today_slot = session.get(InterviewSlot, a_slots[0].id)
    assert today_slot is not None
    today_slot.starts_at = min(now + timedelta(minutes=40), end_of_today)
    session.commit()
    demo.declare_no_ties(session, procedure)
    transition.transition(session, actor="system", procedure=procedure, action="start_interviews",
                          settings=settings)  # fmt: skip
    return setup["chair_browser"], today_slot


def test_a_panel_reports_running_late_and_its_later_interviews_move(
    setup: dict[str, Any], session: Session, settings: Settings, new_browser: Any
) -> None:
    procedure = setup["procedure"]
    chair = session.get(User, setup["chair"].user_id)
    assert chair is not None
    setup["chair_browser"] = browser = new_browser()
    browser.login(chair.email)
    _browser, slot = running(setup, session, settings)
    page = f"/committee/{procedure.reference}"
    before = browser.get(page)
    planned = slot.starts_at.astimezone(AMSTERDAM).strftime("%H:%M")
    assert 'id="today"' in before.text and planned in before.text
    answer = browser.post(f"{page}/running-late", {"minutes": "20"})
    assert answer.status_code == 303
    after = browser.get(page)
    expected = (slot.starts_at + timedelta(minutes=20)).astimezone(AMSTERDAM).strftime("%H:%M")
    assert says(after, "runs 20 minutes late") and expected in after.text
    assert says(after, f"planned {planned}")
    session.rollback()
    panel = session.get(Panel, slot.panel_id)
    assert panel is not None and panel.late_minutes == 20
    entry = session.execute(
        select(AuditEntry).where(AuditEntry.action == "panel.running_late")
    ).scalar_one()
    assert entry.chain == procedure.reference
    # Bad input: specific, and nothing saved is lost.
    for raw, message in (("7", "steps of 5"), ("٢٠", "whole number"), ("999", "whole number")):
        refused = browser.post(f"{page}/running-late", {"minutes": raw})
        assert refused.status_code == 422 and says(refused, message), raw
    session.rollback()
    kept = session.get(Panel, slot.panel_id)
    assert kept is not None and kept.late_minutes == 20
    # On time again.
    assert browser.post(f"{page}/running-late", {"minutes": "0"}).status_code == 303
    assert says(browser.get(page), "runs on time again")


def test_only_a_panel_member_on_an_interview_day_reports_a_delay(
    setup: dict[str, Any], session: Session, settings: Settings, new_browser: Any
) -> None:
    procedure = setup["procedure"]
    page = f"/committee/{procedure.reference}/running-late"
    chair = session.get(User, setup["chair"].user_id)
    assert chair is not None
    early: Browser = new_browser()
    early.login(chair.email)
    # Before the interviews start: refused with its reason.
    refused = early.post(page, {"minutes": "10"})
    assert refused.status_code == 409 and says(refused, "while the interviews run")
    setup["chair_browser"] = early
    running(setup, session, settings)
    # A member of panel B has no interview today (only panel A's moved to today).
    b_member = next(m for m, p in setup["seating"].items() if p == "Panel B")
    member = session.get(ProcedureMember, b_member)
    assert member is not None
    b_user = session.get(User, member.user_id)
    assert b_user is not None
    other: Browser = new_browser()
    other.login(b_user.email)
    refused = other.post(page, {"minutes": "10"})
    assert refused.status_code == 409 and says(refused, "no interviews today")
