"""The committee's pages: their procedures and applicants, conflicts of interest and ties,
the committee's figures, and the admin's view of quorum, progress and reserves."""

from __future__ import annotations

import functools
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session

from app import flash, forms, permissions
from app.applications import letter_round
from app.applications.vocabulary import Relation
from app.audit.service import actor_id
from app.db import utcnow
from app.deps import CurrentPrincipal, DbSession
from app.errors import Conflict, DomainError, InvalidInput
from app.forms import AMSTERDAM
from app.i18n import gettext as _
from app.interviews import day as interview_day
from app.interviews import schedule as interview_schedule
from app.lottery import draws
from app.permissions import Principal
from app.procedures import queries, roles
from app.procedures.vocabulary import Phase, ProcedureRole
from app.scoring import conflicts as scoring_conflicts
from app.scoring import deliberation as scoring_deliberation
from app.scoring import listing
from app.scoring import round as scoring_round
from app.scoring.pages import Context, applicant_context, committee_procedure_guard, with_form
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()


# The member's procedures and applicants ------------------------------------------------------


@router.get("/committee", name="committee_home")
def committee_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_use_committee_home(principal))
    rows = (
        session.execute(
            permissions.procedures_with_role(principal, ProcedureRole.MEMBER, ProcedureRole.CHAIR)
        )
        .scalars()
        .all()
    )
    progress = {}
    to_declare = set()
    for procedure in rows:
        member = queries.member_of(session, procedure, principal.user_id)
        undeclared = member is not None and member.ties_declared_at is None
        if undeclared and permissions.can_declare_own_ties(principal, procedure):
            to_declare.add(procedure.id)
        if procedure.rubric_content is None:
            continue
        round_ = scoring_round.load_round(session, procedure)
        if member is not None:
            progress[procedure.id] = scoring_round.member_progress(round_, member)
    return render(
        request,
        "scoring/home.html",
        {"procedures": rows, "progress": progress, "to_declare": to_declare},
    )


@router.get("/committee/{reference}", name="committee_procedure")
def committee_procedure(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = committee_procedure_guard(session, principal, reference)
    return _procedure_page(request, session, principal, procedure)


def _procedure_page(
    request: Request,
    session: Session,
    principal: Principal,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    member = queries.member_of(session, procedure, principal.user_id)
    assert member is not None
    round_ = scoring_round.load_round(session, procedure)
    mine = round_.applications_of(member)
    # With panels: the member's interviews in slot order, today's first on the page.
    times = interview_schedule.times_of(session, procedure, member) if round_.has_panels else {}
    if times:
        mine.sort(key=lambda a: (times[a.id].starts_at, a.reference) if a.id in times else
                  (datetime.max.replace(tzinfo=UTC), a.reference))  # fmt: skip
    today = interview_schedule.today_in_amsterdam()
    panel = interview_day.panel_of(session, procedure, member) if round_.has_panels else None
    unpublished = letter_round.unpublished(session, procedure)
    can_declare_ties = (
        permissions.can_declare_own_ties(principal, procedure)
        and member.ties_declared_at is None
        and not unpublished
    )
    # The declaration form lists every invited applicant; only while it is to be made.
    declarable = scoring_conflicts.declarable(round_, member) if can_declare_ties else []
    names = round_.applicant_names
    # A national round gives a member hundreds of applicants: a page at a time, found by
    # name or reference, filtered by the member's own progress.
    shown = listing.paginate(
        mine,
        listing.ListQuery.of(request.query_params),
        text=lambda a: f"{names.get(a.id or 0, '')} {a.reference}",
        status=lambda a: round_.progress(a, member),
        key=lambda a: a.reference,
    )
    return render(
        request,
        "scoring/procedure.html",
        {
            "names": names,
            "procedure": procedure,
            "member": member,
            "round": round_,
            "applications": shown.items,
            "listing": shown,
            "times": times,
            "late": interview_day.late_of(panel, today),
            "now": utcnow(),
            "on_panel": panel is not None,
            "late_steps": range(0, interview_day.MAX_LATE + 1, 5),
            "today": [
                a
                for a in mine
                if a.id in times and times[a.id].starts_at.astimezone(AMSTERDAM).date() == today
            ],
            "all_in": shown.counts.get("submitted", 0) == len(mine),
            "relations": list(Relation),
            "show_applicants": procedure.phase in permissions.APPLICANT_PHASES,
            "open_draws": draws.open_draws(session, [procedure])
            if member.role == ProcedureRole.CHAIR
            else {},
            # The declaration of ties: once, when the invited applicants are known.
            "can_declare_ties": can_declare_ties,
            "declarable": declarable,
            "declarable_names": names,
            "named_in_declaration": scoring_conflicts.named_in_declaration(session, member),
            "error": error,
            "values": values or {},
        },
        status_code=error.status_code if error else 200,
    )


@router.post("/committee/{reference}/ties")
async def declare_ties(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return await with_form(request, _declare_ties, request, session, principal, reference)


def _declare_ties(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    fields: dict[str, str],
) -> Response:
    procedure = committee_procedure_guard(session, principal, reference)
    permissions.require(principal, permissions.can_declare_own_ties(principal, procedure))
    member = queries.member_of(session, procedure, principal.user_id)
    assert member is not None
    try:
        scoring_conflicts.declare_ties(
            session,
            round_=scoring_round.load_round(session, procedure),
            member=member,
            has_ties=fields.get("has_ties", ""),
            known={k.removeprefix("tie-"): v for k, v in fields.items() if k.startswith("tie-")},
            letter_round_unpublished=letter_round.unpublished(session, procedure),
        )
    except DomainError as error:
        session.rollback()
        return _procedure_page(request, session, principal, procedure, error=error, values=fields)
    return RedirectResponse(f"/committee/{reference}?ties=1#ties", status_code=303)


@router.post("/committee/{reference}/running-late")
def report_running_late(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    minutes: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """The panel runs late today: its later interviews move in the panel's view."""
    procedure = committee_procedure_guard(session, principal, reference)
    permissions.require(principal, permissions.can_report_running_late(principal, procedure))
    member = queries.member_of(session, procedure, principal.user_id)
    assert member is not None
    panel = interview_day.panel_of(session, procedure, member)
    try:
        if panel is None:
            raise Conflict(_("You sit on no panel of this procedure."), field="minutes")
        late = interview_day.report_late(
            session, actor=actor_id(principal.user_id), procedure=procedure, panel=panel,
            raw_minutes=minutes,
        )  # fmt: skip
    except DomainError as error:
        session.rollback()
        return _procedure_page(
            request, session, principal, procedure, error=error, values={"minutes": minutes}
        )
    message = (
        _("Your panel runs %(minutes)s minutes late today: its later interviews have moved.",
          minutes=late)
        if late
        else _("Your panel runs on time again.")
    )  # fmt: skip
    return flash.redirect(request, f"/committee/{reference}#today", message)


# Conflicts of interest ------------------------------------------------------------------------


@router.get("/committee/{reference}/applicants/{application_reference}/conflict")
def conflict_form(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    context = applicant_context(
        session, principal, reference, application_reference, permissions.can_declare_conflict
    )
    return _conflict_page(request, context)


def _conflict_page(
    request: Request, context: Context, error: DomainError | None = None, values: Any = None
) -> Response:
    return render(
        request,
        "scoring/conflict.html",
        {
            "procedure": context.procedure,
            "application": context.application,
            "applicant": context.applicant,
            "relations": list(Relation),
            "error": error,
            "values": values or {},
        },
        status_code=error.status_code if error else 200,
    )


@router.post("/committee/{reference}/applicants/{application_reference}/conflict")
async def declare_conflict(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    return await with_form(
        request, _declare_conflict, request, session, principal, reference, application_reference
    )


def _declare_conflict(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    application_reference: str,
    fields: dict[str, str],
) -> Response:
    context = applicant_context(
        session, principal, reference, application_reference, permissions.can_declare_conflict
    )
    assert context.member is not None
    try:
        scoring_conflicts.declare_conflict(
            session,
            round_=context.round,
            application=context.application,
            member=context.member,
            relation=fields.get("relation", ""),
            note=fields.get("note", ""),
        )
    except DomainError as error:
        session.rollback()
        return _conflict_page(request, context, error, fields)
    return RedirectResponse(f"/committee/{reference}?declared=1", status_code=303)


# The round's figures and the admin's overview -------------------------------------------------


@router.get("/committee/{reference}/round", name="committee_figures")
def figures_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_procedure
    )
    if procedure.rubric_content is None:
        permissions.require(principal, permissions.can_manage_procedure(principal, procedure))
        permissions.require_visible(False)
    round_ = scoring_round.load_round(session, procedure)
    view = scoring_round.view_of(session, principal, procedure, round_)
    permissions.require(
        principal, permissions.can_view_round(principal, procedure, not view.sealed)
    )
    shown = [a for a in round_.applications if view.shows(a.id)]
    return render(
        request,
        "scoring/figures.html",
        {
            "procedure": procedure,
            "rubric": round_.rubric,
            "figures": scoring_deliberation.criterion_figures(round_, view.hidden | view.sealed),
            "complete": sum(round_.all_in(a) for a in shown),
            "total": len(shown),
        },
    )


def _scoring_overview(
    request: Request,
    session: DbSession,
    principal: Principal,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    error_reference: str | None = None,
) -> Response:
    round_ = scoring_round.load_round(session, procedure) if procedure.rubric_content else None
    hidden = 0
    page = None
    if round_ is not None:
        # An admin with a conflict: the applicant is left out; another admin assigns.
        view = scoring_round.view_of(session, principal, procedure, round_)
        shown = [a for a in round_.applications if view.shows(a.id)]
        hidden = len(round_.applications) - len(shown)
        round_.applications = shown
        query = listing.ListQuery.of(request.query_params)
        if error_reference:
            query = replace(query, at=error_reference)
        names = round_.applicant_names
        page = listing.paginate(
            shown,
            query,
            text=lambda a: f"{names.get(a.id or 0, '')} {a.reference}",
            status=functools.partial(scoring_round.scoring_status, round_),
            key=lambda a: a.reference,
        )
    return render(
        request,
        "scoring/overview.html",
        {
            "procedure": procedure,
            "round": round_,
            "listing": page,
            "statuses": scoring_round.scoring_statuses(),
            "reserve_candidates": lambda application: (
                scoring_conflicts.reserve_candidates(round_, application) if round_ else []
            ),
            "can_assign": procedure.phase in (Phase.LETTER_ROUND, Phase.INTERVIEWS),
            "hidden": hidden,
            "hidden_notice": roles.left_to_another_admin(
                session, procedure, principal.user_id, hidden
            ),
            "error": error,
            "error_reference": error_reference,
        },
        status_code=error.status_code if error else 200,
    )


def _managed(session: DbSession, principal: Principal, reference: str) -> Procedure:
    return permissions.require_procedure(
        session, principal, reference, permissions.can_manage_scoring
    )


@router.get("/manage/procedures/{reference}/scoring", name="scoring_overview")
def scoring_overview(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _managed(session, principal, reference)
    return _scoring_overview(request, session, principal, procedure)


@router.post("/manage/procedures/{reference}/scoring/{application_reference}/reserve")
async def assign_reserve(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    return await with_form(
        request, _assign_reserve, request, session, principal, reference, application_reference
    )


def _assign_reserve(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    application_reference: str,
    fields: dict[str, str],
) -> Response:
    procedure = _managed(session, principal, reference)
    application = letter_round.invited_application(session, procedure, application_reference)
    round_ = scoring_round.load_round(session, procedure, only=application)
    view = scoring_round.view_of(session, principal, procedure, round_)
    permissions.require_visible(
        permissions.can_act_on_applicant(principal, procedure, view, application.id)
    )
    try:
        member_id = forms.parse_whole_number(fields.get("member", ""), minimum=1)
        if member_id is None:
            raise InvalidInput(_("Choose a reserve member of this committee."), field="member")
        scoring_conflicts.assign_reserve(
            session,
            actor=actor_id(principal.user_id),
            round_=round_,
            application=application,
            member_id=member_id,
        )
    except DomainError as error:
        session.rollback()
        return _scoring_overview(
            request, session, principal, procedure, error=error,
            error_reference=application_reference,
        )  # fmt: skip
    return RedirectResponse(
        f"/manage/procedures/{reference}/scoring?at={application_reference}#{application_reference}",
        status_code=303,
    )
