"""The interview days' pages: the admin's panels and schedule, the applicant's booking on
their application page, and the interview's calendar file."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from app import forms, permissions
from app.applications import letter_round
from app.applications import queries as application_queries
from app.applications.routes import show_application
from app.audit.service import actor_id
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.downloads import attachment
from app.errors import DomainError
from app.i18n import gettext as _
from app.interviews import panels, schedule
from app.permissions import Principal
from app.procedures import queries
from app.scoring import round as scoring_round
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()


def _run(session: DbSession, principal: Principal, reference: str) -> Procedure:
    return permissions.require_procedure(
        session, principal, reference, permissions.can_run_interviews
    )


def _page(
    request: Request,
    session: DbSession,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    every = panels.seats(session, procedure)
    seated = panels.panel_of_members(session, procedure)
    taken = schedule.bookings(session, procedure)
    references = application_queries.references_of(session, procedure)
    invited_applications = letter_round.invited_applications(session, procedure)
    invited = [a.reference for a in invited_applications]
    suggested = schedule.suggested_conflicts(session, procedure, invited_applications)
    booked = {references.get(b.application_id, "") for b in taken.values()}
    return render(
        request,
        "interviews/manage.html",
        {
            "procedure": procedure,
            "seats": every,
            "seated": seated,
            "scorers": [
                (member, user)
                for member, user in queries.members(session, procedure)
                if member.role in permissions.SCORING_ROLES
            ],
            "slots": schedule.slots(session, procedure),
            "taken": taken,
            "references": references,
            "panel_names": {seat.panel.id: seat.panel.name for seat in every},
            "unbooked": [ref for ref in invited if ref not in booked],
            "suggested": [
                (references.get(item.application_id, ""), item.institution, item.member_id)
                for item in suggested
            ],
            "invited": invited,
            "setup": procedure.phase in panels.SETUP_PHASES,
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/manage/procedures/{reference}/interviews", name="interviews_admin")
def manage_interviews(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return _page(request, session, _run(session, principal, reference))


def _act(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    step: Callable[[Procedure, str], object],
    anchor: str,
) -> Response:
    procedure = _run(session, principal, reference)
    try:
        step(procedure, actor_id(principal.user_id))
    except DomainError as error:
        session.rollback()
        return _page(request, session, procedure, error=error, status_code=error.status_code)
    return RedirectResponse(f"/manage/procedures/{reference}/interviews#{anchor}", status_code=303)


@router.post("/manage/procedures/{reference}/panels")
def add_panel(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: panels.add_panel(
            session, actor=actor, procedure=procedure, name=name
        ),
        "panels",
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/panels/{panel_id}/delete")
def remove_panel(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    panel_id: forms.Id,
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: panels.remove_panel(
            session, actor=actor, procedure=procedure,
            panel=panels.get_panel(session, procedure, panel_id),
        ),
        "panels",
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/panels/seats")
def seat_member(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    member: Annotated[str, Form(max_length=20)] = "",
    panel: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def step(procedure: Procedure, actor: str) -> None:
        found = queries.find_member(session, procedure, forms.identifier(member, "member"))
        chosen = (
            panels.get_panel(session, procedure, forms.identifier(panel, "panel"))
            if panel
            else None
        )
        panels.seat_member(session, actor=actor, procedure=procedure, member=found, panel=chosen)

    return _act(request, session, principal, reference, step, "panels")


@router.post("/manage/procedures/{reference}/schedule")
def set_schedule(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    slot_minutes: Annotated[str, Form(max_length=20)] = "",
    per_half_day: Annotated[str, Form(max_length=20)] = "",
    booking_deadline: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    def step(procedure: Procedure, actor: str) -> None:
        schedule.set_schedule(
            session, actor=actor, procedure=procedure,
            slot_minutes=forms.integer(slot_minutes, "slot_minutes", _("the length of a slot"),
                                       minimum=10, maximum=240),
            per_half_day=forms.integer(per_half_day, "per_half_day",
                                       _("the interviews per half-day"), minimum=1, maximum=8),
            booking_deadline=forms.local_datetime(booking_deadline, "booking_deadline"),
        )  # fmt: skip

    return _act(request, session, principal, reference, step, "schedule")


@router.post("/manage/procedures/{reference}/schedule/generate")
def generate_slots(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: schedule.generate(session, actor=actor, procedure=procedure),
        "slots",
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/schedule/clear")
def clear_slots(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: schedule.remove_free_slots(
            session, actor=actor, procedure=procedure
        ),
        "slots",
    )  # fmt: skip


def _may_act_on(
    session: DbSession, principal: Principal, procedure: Procedure, application_id: int | None
) -> None:
    """An admin with a conflict leaves the applicant's booking to another admin."""
    view = scoring_round.view_of(session, principal, procedure, None)
    permissions.require_visible(
        permissions.can_act_on_applicant(principal, procedure, view, application_id)
    )


@router.post("/manage/procedures/{reference}/bookings")
def place_booking(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    application: Annotated[str, Form(max_length=80)] = "",
    slot: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    def step(procedure: Procedure, actor: str) -> None:
        found = letter_round.invited_application(session, procedure, application)
        _may_act_on(session, principal, procedure, found.id)
        schedule.book(
            session, settings, procedure=procedure, application=found,
            slot_id=forms.identifier(slot, "slot"), by_admin=actor,
        )  # fmt: skip

    return _act(request, session, principal, reference, step, "slots")


@router.post("/manage/procedures/{reference}/bookings/{application_reference}/cancel")
def cancel_booking(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    def step(procedure: Procedure, actor: str) -> None:
        found = letter_round.invited_application(session, procedure, application_reference)
        _may_act_on(session, principal, procedure, found.id)
        schedule.cancel(session, settings, actor=actor, procedure=procedure, application=found)

    return _act(request, session, principal, reference, step, "slots")


# The applicant -------------------------------------------------------------------------------


@router.post("/applications/{application_reference}/interview")
def book_interview(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    application_reference: str,
    slot: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    permissions.require_login(principal)
    application = application_queries.by_reference(session, application_reference)
    permissions.require_visible(permissions.can_book_interview(principal, application))
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    try:
        schedule.book(
            session, settings, procedure=procedure, application=application,
            slot_id=forms.identifier(slot, "slot"),
        )  # fmt: skip
    except DomainError as error:
        session.rollback()
        return show_application(
            request, session, principal, application_reference,
            interview_error=error, status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/applications/{application_reference}#interview", status_code=303)


@router.get("/applications/{application_reference}/interview.ics")
def interview_calendar(
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    application_reference: str,
) -> Response:
    permissions.require_login(principal)
    application = application_queries.by_reference(session, application_reference)
    permissions.require_visible(permissions.can_book_interview(principal, application))
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    mine = schedule.mine(session, procedure, application)
    permissions.require_visible(mine is not None and mine.slot is not None)
    assert mine is not None and mine.slot is not None
    url = f"{settings.base_url}/applications/{application.reference}#interview"
    return Response(
        schedule.ical(procedure, mine.slot, mine.panel, url),
        media_type="text/calendar; charset=utf-8",
        headers=attachment(f"{application.reference}-interview.ics"),
    )
