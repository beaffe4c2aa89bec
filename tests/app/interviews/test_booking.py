"""Interview days (issue 16, part 1): the committee in panels, the slots of the schedule,
the applicants' own conflict-aware bookings, and scoring by the booked panel only."""

from __future__ import annotations

import html
from collections import Counter
from datetime import timedelta
from itertools import pairwise
from typing import Any

import pytest
from sqlmodel import Session, select

from app import demo
from app.accounts.models import User
from app.applications.models import Application
from app.conduct import transition
from app.config import Settings
from app.db import utcnow
from app.forms import AMSTERDAM
from app.interviews import schedule
from app.interviews.models import Booking, InterviewSlot, Panel
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring import round as scoring_round
from tests.app.conftest import Browser, Factory


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


@pytest.fixture
def setup(
    factory: Factory, session: Session, settings: Settings, new_browser: Any
) -> dict[str, Any]:
    """Six applicants invited (the letter round published), six scorers in two panels of
    three; applicant 3 declared knowing a member of panel A."""
    procedure = factory.procedure(
        phase=Phase.LETTER_ROUND, applicants=6, extra_members=3, ties={3: "chair"}
    )
    demo._letter_round(session, settings, procedure, "system")
    # The interview days ahead, so that their slots can still be booked.
    today = utcnow().date()
    procedure.interview_days = [str(today + timedelta(days=10)), str(today + timedelta(days=11))]
    session.commit()
    admin = new_browser()
    admin.login(factory.user(platform_admin=True).email)
    base = f"/manage/procedures/{procedure.reference}"
    for name in ("Panel A", "Panel B"):
        assert admin.post(f"{base}/panels", {"name": name}).status_code == 303
    panels = {
        p.name: p
        for p in session.execute(select(Panel).where(Panel.procedure_id == procedure.id)).scalars()
    }
    scorers = [
        m for m in session.execute(
            select(ProcedureMember).where(ProcedureMember.procedure_id == procedure.id)
            .order_by(ProcedureMember.id)
        ).scalars() if m.role in ("chair", "member")
    ]  # fmt: skip
    chair = next(m for m in scorers if m.role == "chair")
    others = [m for m in scorers if m is not chair]
    seating = {chair.id: "Panel A", others[0].id: "Panel A", others[1].id: "Panel B"}
    seating |= {others[2].id: "Panel A", others[3].id: "Panel B", others[4].id: "Panel B"}
    for member_id, name in seating.items():
        response = admin.post(
            f"{base}/panels/seats", {"member": str(member_id), "panel": str(panels[name].id)}
        )
        assert response.status_code == 303, response.text
    assert admin.post(f"{base}/schedule/generate").status_code == 303
    applications = sorted(
        session.execute(
            select(Application).where(Application.procedure_id == procedure.id)
        ).scalars(),
        key=lambda a: a.reference,
    )
    browsers = {}
    for application in applications:
        user = session.get(User, application.applicant_id)
        assert user is not None
        browsers[application.reference] = new_browser()
        browsers[application.reference].login(user.email)
    return {"procedure": procedure, "admin": admin, "base": base, "panels": panels,
            "applications": applications, "browsers": browsers, "seating": seating,
            "chair": chair}  # fmt: skip


def slots_of(session: Session, procedure: Procedure, panel: Panel) -> list[InterviewSlot]:
    session.rollback()
    return [s for s in schedule.slots(session, procedure) if s.panel_id == panel.id]


def book(setup: dict[str, Any], application: Application, slot: InterviewSlot) -> Any:
    return setup["browsers"][application.reference].post(
        f"/applications/{application.reference}/interview", {"slot": str(slot.id)}
    )


def test_the_schedule_has_every_panels_slots_per_half_day(
    setup: dict[str, Any], session: Session
) -> None:
    procedure = setup["procedure"]
    days = len(procedure.interview_days)
    for panel in setup["panels"].values():
        assert len(slots_of(session, procedure, panel)) == days * 2 * procedure.per_half_day


def test_an_applicant_books_sees_the_panel_and_rebooks_and_a_taken_slot_is_refused(
    setup: dict[str, Any], session: Session
) -> None:
    procedure, panels = setup["procedure"], setup["panels"]
    first, second = setup["applications"][0], setup["applications"][1]
    page = setup["browsers"][first.reference].get(f"/applications/{first.reference}")
    assert says(page, "Book your interview")
    a_slots = slots_of(session, procedure, panels["Panel A"])
    assert book(setup, first, a_slots[0]).status_code == 303
    page = setup["browsers"][first.reference].get(f"/applications/{first.reference}")
    assert says(page, "panel: Panel A") and says(page, "Who interviews you")
    calendar = setup["browsers"][first.reference].get(
        f"/applications/{first.reference}/interview.ics"
    )
    assert calendar.status_code == 200 and b"BEGIN:VEVENT" in calendar.content
    # The same slot for another applicant: gone.
    refused = book(setup, second, a_slots[0])
    assert refused.status_code == 409 and says(refused, "Someone else has just booked this slot")
    # Rebooking moves the one booking.
    b_slot = slots_of(session, procedure, panels["Panel B"])[0]
    assert book(setup, first, b_slot).status_code == 303
    session.rollback()
    held = (
        session.execute(select(Booking).where(Booking.application_id == first.id)).scalars().all()
    )
    assert [b.slot_id for b in held] == [b_slot.id]
    assert book(setup, second, a_slots[0]).status_code == 303


def test_a_panel_with_a_conflict_is_never_offered_and_cannot_be_booked(
    setup: dict[str, Any], session: Session
) -> None:
    procedure, panels = setup["procedure"], setup["panels"]
    third = setup["applications"][2]  # declared knowing the chair, who sits on panel A
    session.rollback()
    mine = schedule.mine(session, procedure, third)
    assert mine is not None and mine.offers
    assert {o.panel.name for o in mine.offers} == {"Panel B"}
    refused = book(setup, third, slots_of(session, procedure, panels["Panel A"])[0])
    assert refused.status_code == 409 and says(refused, "conflict of interest")


def test_booking_closes_at_the_deadline(setup: dict[str, Any], session: Session) -> None:
    procedure, panels = setup["procedure"], setup["panels"]
    session.rollback()
    procedure.booking_deadline = utcnow() - timedelta(minutes=1)
    session.commit()
    first = setup["applications"][0]
    refused = book(setup, first, slots_of(session, procedure, panels["Panel B"])[0])
    assert refused.status_code == 409 and says(refused, "closed on")
    # The admin still places them.
    response = setup["admin"].post(
        f"{setup['base']}/bookings",
        {
            "application": first.reference,
            "slot": str(slots_of(session, procedure, panels["Panel B"])[0].id),
        },
    )
    assert response.status_code == 303
    cancelled = setup["admin"].post(f"{setup['base']}/bookings/{first.reference}/cancel")
    assert cancelled.status_code == 303
    session.rollback()
    assert (
        session.execute(select(Booking).where(Booking.application_id == first.id)).first() is None
    )


def test_each_panel_scores_only_its_own_applicants(
    setup: dict[str, Any], session: Session, settings: Settings, new_browser: Any
) -> None:
    procedure, panels = setup["procedure"], setup["panels"]
    first, second, *_rest = setup["applications"]
    book(setup, first, slots_of(session, procedure, panels["Panel A"])[0])
    book(setup, second, slots_of(session, procedure, panels["Panel B"])[0])
    session.rollback()
    round_ = scoring_round.load_round(session, procedure)
    by_ref = {a.reference: a for a in round_.applications}
    a_scorers = {m.id for m in round_.scorers(by_ref[first.reference])}
    assert a_scorers == {m for m, p in setup["seating"].items() if p == "Panel A"}
    assert round_.has_quorum(by_ref[first.reference])
    # Not booked: nobody scores them yet.
    assert round_.scorers(by_ref[setup["applications"][3].reference]) == []
    # A member of panel A does not know the applicant booked with panel B exists.
    chair = session.get(User, setup["chair"].user_id)
    assert chair is not None
    browser: Browser = new_browser()
    browser.login(chair.email)
    committee = f"/committee/{procedure.reference}/applicants"
    # The interviews start once everyone is booked: panels and schedule are fixed from then.
    free_b = slots_of(session, procedure, panels["Panel B"])[1:]
    for application, slot in zip(setup["applications"][2:], free_b, strict=False):
        assert book(setup, application, slot).status_code == 303
    session.rollback()
    demo.declare_no_ties(session, procedure)
    transition.transition(session, actor="system", procedure=procedure, action="start_interviews",
                          settings=settings)  # fmt: skip
    assert browser.get(f"{committee}/{first.reference}").status_code == 200
    assert browser.get(f"{committee}/{second.reference}").status_code == 404
    refused = setup["admin"].post(f"{setup['base']}/panels", {"name": "Panel C"})
    assert refused.status_code == 409 and says(refused, "fixed once the interviews start")


def test_a_bad_panel_or_schedule_is_refused_with_a_specific_message(setup: dict[str, Any]) -> None:
    admin, base = setup["admin"], setup["base"]
    refused = admin.post(f"{base}/panels", {"name": "panel a"})
    assert refused.status_code == 409 and says(refused, "already")
    refused = admin.post(f"{base}/panels", {"name": "x" * 81})
    assert refused.status_code == 422
    refused = admin.post(f"{base}/schedule", {"slot_minutes": "٤٥", "per_half_day": "3"})
    assert refused.status_code == 422
    refused = admin.post(
        f"{base}/schedule", {"slot_minutes": "99999999999999999999", "per_half_day": "3"}
    )
    assert refused.status_code == 422
    refused = admin.post(f"{base}/schedule", {"slot_minutes": "45", "per_half_day": "9"})
    assert refused.status_code == 422


def test_a_panel_member_from_the_applicants_institution_is_a_suggested_conflict(
    setup: dict[str, Any], session: Session, new_browser: Any
) -> None:
    """The applicant works where a member of panel B works (their form, the member's pool
    record, spelled differently): panel B is not offered, and the admin sees why."""
    from app.pool.models import PoolEntry

    procedure, panels = setup["procedure"], setup["panels"]
    first = setup["applications"][0]
    session.rollback()  # a fresh snapshot before writing beside the requests
    b_member = session.get(
        ProcedureMember, next(m for m, p in setup["seating"].items() if p == "Panel B")
    )
    assert b_member is not None
    session.add(
        PoolEntry(user_id=b_member.user_id, function="staff", specialty="Anesthesiologie",
                  institution="UMC  Utrecht", region="Utrecht")
    )  # fmt: skip
    application = session.get(Application, first.id)
    assert application is not None
    application.institution = "umc utrecht"
    session.commit()
    page = setup["browsers"][first.reference].get(f"/applications/{first.reference}")
    assert "Panel A" in page.text and "Panel B" not in page.text
    refused = book(setup, first, slots_of(session, procedure, panels["Panel B"])[0])
    assert refused.status_code == 409 and says(refused, "conflict of interest")
    admin_page = setup["admin"].get(f"{setup['base']}/interviews")
    assert says(admin_page, "Suggested conflicts of interest")
    assert first.reference in admin_page.text and "UMC  Utrecht" in admin_page.text
    # The admin cannot place them there either.
    placed = setup["admin"].post(
        f"{setup['base']}/bookings",
        {"application": first.reference,
         "slot": str(slots_of(session, procedure, panels["Panel B"])[0].id)},
    )  # fmt: skip
    assert placed.status_code == 409


def test_the_applicant_states_where_they_work_on_the_form(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    user = factory.user()
    browser: Browser = new_browser()
    browser.login(user.email)
    form = f"/procedures/{procedure.reference}/apply"
    assert 'id="f-institution"' in browser.get(form).text
    saved = browser.post(form, {"institution": "  Meander   Medisch Centrum ", "action": "save"})
    assert saved.status_code in (200, 303), saved.text
    session.rollback()
    application = session.execute(
        select(Application).where(Application.applicant_id == user.id)
    ).scalar_one()
    assert application.institution == "Meander Medisch Centrum"
    refused = browser.post(
        form, {"institution": "x" * 201, "phone": "06 1234567", "action": "save"}
    )
    assert refused.status_code == 422 and says(refused, "at most 200 characters")
    session.rollback()
    kept = session.get(Application, application.id)
    assert kept is not None and kept.institution == "Meander Medisch Centrum"


def test_another_panels_applicant_is_unknown_in_every_channel(
    setup: dict[str, Any], session: Session, settings: Settings, new_browser: Any
) -> None:
    """A member of panel A gets 404 for an applicant booked with panel B, on every route
    about one applicant: the sheet and its saves, the conflict, the deliberation."""
    from tests.app.test_permissions import MATRIX

    procedure, panels = setup["procedure"], setup["panels"]
    apps = setup["applications"]
    # Everyone booked (the third knows panel A's chair: panel B), the interviews started.
    a_slots = slots_of(session, procedure, panels["Panel A"])
    b_slots = slots_of(session, procedure, panels["Panel B"])
    pairs = zip([apps[0], apps[1], apps[3], apps[2], apps[4], apps[5]],
                [*a_slots[:3], *b_slots[:3]], strict=True)  # fmt: skip
    for application, slot in pairs:
        assert book(setup, application, slot).status_code == 303
    session.rollback()
    demo.declare_no_ties(session, procedure)
    transition.transition(session, actor="system", procedure=procedure, action="start_interviews",
                          settings=settings)  # fmt: skip
    a_member_id = next(m for m, p in setup["seating"].items() if p == "Panel A" and
                       m != setup["chair"].id)  # fmt: skip
    a_member = session.get(ProcedureMember, a_member_id)
    assert a_member is not None
    user = session.get(User, a_member.user_id)
    assert user is not None
    browser: Browser = new_browser()
    browser.login(user.email)
    prefix = "/committee/{reference}/applicants/{application_reference}"
    routes = sorted(key for key in MATRIX if key[1].startswith(prefix))
    assert len(routes) >= 8
    for method, path in routes:
        for application, expected in ((apps[0], None), (apps[2], 404)):
            url = path.format(
                reference=procedure.reference,
                application_reference=application.reference,
                member_id=a_member_id,
            )
            response = browser.get(url) if method == "GET" else browser.post(url, {})
            if expected is None:  # their own panel's applicant: never a 404
                assert response.status_code != 404, (method, url)
            else:
                assert response.status_code == expected, (method, url, response.status_code)


def test_generating_again_under_other_settings_keeps_each_panel_within_its_maximum(
    setup: dict[str, Any], session: Session
) -> None:
    """A booked slot stays when the admin changes the schedule and generates it again; no
    new slot overlaps it, and no half-day of a panel holds more than the new maximum."""
    procedure, panels, admin, base = (
        setup["procedure"], setup["panels"], setup["admin"], setup["base"],
    )  # fmt: skip
    first = setup["applications"][0]
    booked = slots_of(session, procedure, panels["Panel A"])[1]  # the morning's second
    assert book(setup, first, booked).status_code == 303
    changed = admin.post(f"{base}/schedule", {"slot_minutes": "30", "per_half_day": "4"})
    assert changed.status_code == 303
    # The change took the free slots of the old settings away; the booked one stays.
    session.rollback()
    assert [s.id for s in schedule.slots(session, procedure)] == [booked.id]
    assert admin.post(f"{base}/schedule/generate").status_code == 303
    for panel in panels.values():
        mine = slots_of(session, procedure, panel)
        assert panel.name != "Panel A" or booked.id in {s.id for s in mine}
        per_half_day = Counter(
            (local.date(), local.time() >= schedule.HALF_DAYS[1])
            for local in (s.starts_at.astimezone(AMSTERDAM) for s in mine)
        )
        assert max(per_half_day.values()) <= 4, per_half_day
        times = sorted((s.starts_at, s.starts_at + timedelta(minutes=s.minutes)) for s in mine)
        assert all(ends <= begins for (_b, ends), (begins, _e) in pairwise(times)), times
    # Generating once more adds nothing.
    session.rollback()
    before = len(schedule.slots(session, procedure))
    assert admin.post(f"{base}/schedule/generate").status_code == 303
    session.rollback()
    assert len(schedule.slots(session, procedure)) == before


def test_lowering_the_maximum_takes_the_free_slots_beyond_it_away(
    setup: dict[str, Any], session: Session
) -> None:
    procedure, panels, admin, base = (
        setup["procedure"], setup["panels"], setup["admin"], setup["base"],
    )  # fmt: skip
    booked = slots_of(session, procedure, panels["Panel B"])[2]  # the morning's third
    assert book(setup, setup["applications"][0], booked).status_code == 303
    lowered = admin.post(f"{base}/schedule", {"slot_minutes": "45", "per_half_day": "2"})
    assert lowered.status_code == 303
    session.rollback()
    assert [s.id for s in schedule.slots(session, procedure)] == [booked.id]
    assert admin.post(f"{base}/schedule/generate").status_code == 303
    for panel in panels.values():
        per_half_day = Counter(
            (local.date(), local.time() >= schedule.HALF_DAYS[1])
            for local in (
                s.starts_at.astimezone(AMSTERDAM) for s in slots_of(session, procedure, panel)
            )
        )
        assert max(per_half_day.values()) <= 2, (panel.name, per_half_day)


def test_the_booking_deadline_is_typed_in_the_pages_own_form(
    setup: dict[str, Any], session: Session
) -> None:
    procedure, admin, base = setup["procedure"], setup["admin"], setup["base"]
    page = admin.get(f"{base}/interviews")
    assert 'name="booking_deadline" type="text"' in page.text
    day = (utcnow() + timedelta(days=5)).astimezone(AMSTERDAM)
    typed = day.strftime("%d/%m/%Y") + " 12:00"  # the English page's form
    saved = admin.post(
        f"{base}/schedule",
        {"slot_minutes": "45", "per_half_day": "3", "booking_deadline": typed},
    )
    assert saved.status_code == 303, saved.text
    session.rollback()
    row = session.get(Procedure, procedure.id)
    assert row is not None and row.booking_deadline is not None
    assert row.booking_deadline.astimezone(AMSTERDAM).strftime("%d/%m/%Y %H:%M") == typed
    assert day.strftime("%d/%m/%Y") + " 12:00" in admin.get(f"{base}/interviews").text
