"""The committee's pages: their procedures and applicants, conflicts of interest, the score
sheet (autosaved by htmx, a full form without JavaScript), the deliberation, the round's
figures, and the admin's view of quorum and progress."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import forms, permissions
from app.accounts.models import User
from app.applications import letter_round
from app.applications import service as applications
from app.applications.models import Application, Relation
from app.audit.service import actor_id
from app.db import Database
from app.deps import CurrentPrincipal, DbSession, identify
from app.errors import DomainError, InvalidInput
from app.i18n import gettext as _
from app.lottery import service as lottery
from app.oversight import service as oversight
from app.permissions import Principal, Standing
from app.procedures import service as procedures
from app.procedures.models import Phase, Procedure, ProcedureMember, ProcedureRole
from app.scoring import service as scoring
from app.scoring.models import ScoreSheet
from app.web import render

router = APIRouter()

Rule = Callable[[Principal, Procedure, Standing], bool]


@dataclass
class Context:
    procedure: Procedure
    application: Application
    round: scoring.Round
    member: ProcedureMember | None
    standing: Standing
    applicant: User | None


def _committee_procedure(session: DbSession, principal: Principal, reference: str) -> Procedure:
    return permissions.require_procedure(
        session, principal, reference, permissions.can_use_committee_procedure
    )


def _applicant(
    session: DbSession,
    principal: Principal,
    reference: str,
    application_reference: str,
    rule: Rule,
) -> Context:
    """One invited applicant, if `rule` lets the asker in (permissions.require_on_applicant
    says who gets 403 and who 404)."""
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_procedure
    )
    application = scoring.invited_application(session, procedure, application_reference)
    round_ = scoring.load_round(session, procedure, only=application)
    member = scoring.member_of(session, procedure, principal.user_id)
    standing = scoring.standing(round_, application, member)
    permissions.require_on_applicant(principal, procedure, standing, rule)
    applicant = session.get(User, application.applicant_id)
    return Context(procedure, application, round_, member, standing, applicant)


@dataclass
class Writer:
    """What a change to one's own sheet needs, checked in a read-only session."""

    procedure: Procedure
    application: Application
    member: ProcedureMember
    rubric: Any


def _sheet_writer(
    read: Session,
    principal: Principal,
    reference: str,
    application_reference: str,
    member_id: forms.Id,
) -> Writer:
    permissions.require_login(principal)
    target = scoring.sheet_target(read, reference, application_reference, principal.user_id)
    procedure, application = target.procedure, target.application
    permissions.require_visible(permissions.can_view_procedure(principal, procedure))
    permissions.require_visible(application is not None)
    assert application is not None
    permissions.require_on_applicant(principal, procedure, target.standing, permissions.can_score)
    owner = scoring.check_owner(target.member, member_id)
    writer = Writer(procedure, application, owner, scoring.rubric_of(procedure))
    read.close()  # the checks are done: let go of the read snapshot before writing
    return writer


def _fields(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


async def _with_form(request: Request, handler: Callable[..., Response], *args: Any) -> Response:
    """Read the form on the event loop, then run the use case (which may wait for the SQLite
    write lock) in the thread pool, so one slow write never blocks the other requests."""
    fields = _fields(await request.form())
    return await run_in_threadpool(handler, *args, fields)


def _sheet_input(fields: dict[str, str]) -> scoring.SheetInput:
    return scoring.SheetInput(
        levels={k.removeprefix("level-"): v for k, v in fields.items() if k.startswith("level-")},
        reasons={
            k.removeprefix("reason-"): v for k, v in fields.items() if k.startswith("reason-")
        },
        version=fields.get("version", ""),
    )


# The member's procedures and applicants ------------------------------------------------------


@router.get("/committee", name="committee_home")
def committee_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_use_committee_home(principal))
    rows = (
        session.execute(
            permissions.procedures_with_role(
                principal, ProcedureRole.MEMBER, ProcedureRole.CHAIR
            ).order_by(Procedure.reference)
        )
        .scalars()
        .all()
    )
    progress = {}
    to_declare = set()
    for procedure in rows:
        member = scoring.member_of(session, procedure, principal.user_id)
        undeclared = member is not None and member.ties_declared_at is None
        if undeclared and permissions.can_declare_own_ties(principal, procedure):
            to_declare.add(procedure.id)
        if procedure.rubric_content is None:
            continue
        round_ = scoring.load_round(session, procedure)
        if member is not None:
            progress[procedure.id] = scoring.member_progress(round_, member)
    return render(
        request,
        "scoring/home.html",
        {"procedures": rows, "progress": progress, "to_declare": to_declare},
    )


@router.get("/committee/{reference}", name="committee_procedure")
def committee_procedure(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _committee_procedure(session, principal, reference)
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
    member = scoring.member_of(session, procedure, principal.user_id)
    assert member is not None
    round_ = scoring.load_round(session, procedure)
    mine = round_.applications_of(member)
    unpublished = letter_round.unpublished(session, procedure)
    declarable = scoring.declarable(round_, member)
    return render(
        request,
        "scoring/procedure.html",
        {
            "applicants": {
                a.applicant_id: user
                for a in mine
                if (user := session.get(User, a.applicant_id)) is not None
            },
            "procedure": procedure,
            "member": member,
            "round": round_,
            "applications": mine,
            "all_in": all(round_.progress(a, member) == "submitted" for a in mine),
            "relations": list(Relation),
            "show_applicants": procedure.phase in permissions.APPLICANT_PHASES,
            "open_draws": lottery.open_draws(session, [procedure])
            if member.role == ProcedureRole.CHAIR
            else {},
            # The declaration of ties: once, when the invited applicants are known.
            "can_declare_ties": permissions.can_declare_own_ties(principal, procedure)
            and member.ties_declared_at is None
            and not unpublished,
            "declarable": declarable,
            "declarable_names": {
                a.id: user.name
                for a in declarable
                if (user := session.get(User, a.applicant_id)) is not None
            },
            "named_in_declaration": scoring.named_in_declaration(session, member),
            "error": error,
            "values": values or {},
        },
        status_code=error.status_code if error else 200,
    )


@router.post("/committee/{reference}/ties")
async def declare_ties(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return await _with_form(request, _declare_ties, request, session, principal, reference)


def _declare_ties(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    fields: dict[str, str],
) -> Response:
    procedure = _committee_procedure(session, principal, reference)
    permissions.require(principal, permissions.can_declare_own_ties(principal, procedure))
    member = scoring.member_of(session, procedure, principal.user_id)
    assert member is not None
    try:
        scoring.declare_ties(
            session,
            round_=scoring.load_round(session, procedure),
            member=member,
            has_ties=fields.get("has_ties", ""),
            known={k.removeprefix("tie-"): v for k, v in fields.items() if k.startswith("tie-")},
            letter_round_unpublished=letter_round.unpublished(session, procedure),
        )
    except DomainError as error:
        session.rollback()
        return _procedure_page(request, session, principal, procedure, error=error, values=fields)
    return RedirectResponse(f"/committee/{reference}?ties=1#ties", status_code=303)


# Conflicts of interest ------------------------------------------------------------------------


@router.get("/committee/{reference}/applicants/{application_reference}/conflict")
def conflict_form(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    context = _applicant(
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
    return await _with_form(
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
    context = _applicant(
        session, principal, reference, application_reference, permissions.can_declare_conflict
    )
    assert context.member is not None
    try:
        scoring.declare_conflict(
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


# The score sheet ------------------------------------------------------------------------------


def _sheet_page(
    request: Request,
    session: DbSession,
    context: Context,
    *,
    sheet: ScoreSheet | None = None,
    error: DomainError | None = None,
    lost: dict[str, tuple[str, str]] | None = None,
    status_code: int = 200,
    block: str | None = None,
    template: str = "scoring/sheet.html",
) -> Response:
    member = context.member
    assert member is not None
    if sheet is None:
        sheet = context.round.sheet(context.application, member)
    editable = (
        context.procedure.phase == Phase.INTERVIEWS
        and (sheet is None or sheet.status == "draft")
        and not context.standing.conflicted
    )
    return render(
        request,
        template,
        {
            "procedure": context.procedure,
            "application": context.application,
            "applicant": context.applicant,
            "documents": applications.documents(session, context.application),
            "rubric": context.round.rubric,
            "member": member,
            "sheet": sheet,
            "editable": editable,
            "standing": context.standing,
            "missing": scoring.missing_before_submit(context.round.rubric, sheet),
            "error": error,
            "lost": lost or {},
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=status_code,
        block=block,
    )


@router.get("/committee/{reference}/applicants/{application_reference}", name="score_sheet")
def sheet_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    context = _applicant(
        session, principal, reference, application_reference, permissions.can_open_applicant
    )
    return _sheet_page(request, session, context)


def _context_after(
    session: Session, principal: Principal, reference: str, application_reference: str
) -> Context:
    """The whole page's context, read again after a refused change (the write is rolled back)."""
    session.rollback()
    return _applicant(session, principal, reference, application_reference, permissions.can_score)


def _lost_edits(
    rubric: Any, given: scoring.SheetInput, stored: ScoreSheet
) -> dict[str, tuple[str, str]]:
    """What the stale device sent that differs from the newer stored version."""
    lost = {}
    for criterion in rubric.criteria:
        level = given.levels.get(criterion.id, "").strip()
        reason = given.reasons.get(criterion.id, "").strip()
        stored_level = str(stored.levels.get(criterion.id, ""))
        stored_reason = stored.reasons.get(criterion.id, "")
        if (level and level != stored_level) or (reason and reason != stored_reason):
            lost[criterion.id] = (level, reason)
    return lost


SHEET = "/committee/{reference}/applicants/{application_reference}/sheets/{member_id}"


@router.post(SHEET)
async def save_sheet(
    request: Request, reference: str, application_reference: str, member_id: forms.Id
) -> Response:
    """An autosave (htmx: answers with the new version and the saved state) or, without
    JavaScript, the whole form saved and the page shown again."""
    return await _in_sheet_thread(request, "save", reference, application_reference, member_id)


@router.post(SHEET + "/review")
async def review_sheet(
    request: Request, reference: str, application_reference: str, member_id: forms.Id
) -> Response:
    """Save what the form holds, then ask for confirmation (or say what is still missing)."""
    return await _in_sheet_thread(request, "review", reference, application_reference, member_id)


@router.post(SHEET + "/submit")
async def submit_sheet(
    request: Request, reference: str, application_reference: str, member_id: forms.Id
) -> Response:
    return await _in_sheet_thread(request, "submit", reference, application_reference, member_id)


async def _in_sheet_thread(
    request: Request, action: str, reference: str, application_reference: str, member_id: forms.Id
) -> Response:
    """Read the form on the event loop, then do the rest in one trip to a thread of the
    sheets' own small pool (app.state.sheet_limiter, SHEET_THREADS): who is asking, the
    checks and the write, with sessions opened there rather than by dependencies, each of
    which cost a thread hop or two. The pool of its own keeps autosaves from waiting behind
    logins and uploads in the shared one; on PostgreSQL 4 threads gave a fifth more saves
    per second than 40 and a p95 of 0.46 s instead of 0.86 s (bench/README.md)."""
    fields = _fields(await request.form())
    return await anyio.to_thread.run_sync(
        _change_sheet_in_sessions, action, request, reference, application_reference,
        member_id, fields, limiter=request.app.state.sheet_limiter,
    )  # fmt: skip


def _change_sheet_in_sessions(
    action: str,
    request: Request,
    reference: str,
    application_reference: str,
    member_id: forms.Id,
    fields: dict[str, str],
) -> Response:
    database: Database = request.app.state.database
    # The read session answers who is asking and the checks; _sheet_writer closes it
    # before the write session takes the write lock.
    with database.session() as read, database.session(write=True) as session:
        principal = identify(request, read)
        return _change_sheet(
            action, request, read, session, principal, reference, application_reference,
            member_id, fields,
        )  # fmt: skip


def _change_sheet(
    action: str,
    request: Request,
    read: Session,
    session: Session,
    principal: Principal,
    reference: str,
    application_reference: str,
    member_id: forms.Id,
    fields: dict[str, str],
) -> Response:
    writer = _sheet_writer(read, principal, reference, application_reference, member_id)
    htmx = action == "save" and bool(request.headers.get("hx-request"))
    given = _sheet_input(fields)
    target = dict(procedure=writer.procedure, rubric=writer.rubric,
                  application=writer.application, member=writer.member)  # fmt: skip
    try:
        if action == "submit":
            scoring.submit_sheet(
                session, **target, version=fields.get("version", ""),
                confirmed=fields.get("confirm") == "yes",
            )  # fmt: skip
            return RedirectResponse(
                f"/committee/{reference}/applicants/{application_reference}?submitted=1",
                status_code=303,
            )
        sheet = scoring.save_sheet(session, **target, given=given)
    except scoring.StaleSheet as stale:
        context = _context_after(session, principal, reference, application_reference)
        newer = context.round.sheet(context.application, writer.member)
        response = _sheet_page(
            request, session, context, sheet=newer, error=stale,
            lost=_lost_edits(writer.rubric, given, newer) if newer else {},
            status_code=409, block="sheet" if htmx else None,
        )  # fmt: skip
        if htmx:
            response.headers["HX-Retarget"] = "#sheet"
            response.headers["HX-Reswap"] = "outerHTML"
        return response
    except DomainError as error:
        if htmx:
            session.rollback()
            return render(
                request,
                "scoring/sheet.html",
                {"error": error, "sheet": None, "saved_at": None},
                status_code=error.status_code,
                block="status",
            )
        context = _context_after(session, principal, reference, application_reference)
        return _sheet_page(request, session, context, error=error, status_code=error.status_code)
    if htmx:
        return render(
            request,
            "scoring/sheet.html",
            {"sheet": sheet, "error": None, "saved_at": sheet.updated_at},
            block="status",
        )
    if action == "save":
        return RedirectResponse(
            f"/committee/{reference}/applicants/{application_reference}?saved=1#sheet",
            status_code=303,
        )
    context = _context_after(session, principal, reference, application_reference)
    if scoring.missing_before_submit(writer.rubric, sheet):
        incomplete = InvalidInput(_("The sheet is not complete yet; see what is missing below."))
        return _sheet_page(request, session, context, error=incomplete, status_code=422)
    return _sheet_page(request, session, context, template="scoring/review.html")


# Deliberation ---------------------------------------------------------------------------------


def _deliberation_page(
    request: Request,
    session: Session,
    context: Context,
    principal: Principal,
    *,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    round_ = context.round
    application = context.application
    sheets = round_.submitted(application)
    names = {m.id: round_.name(m) for m in round_.members.values()}
    assert application.id is not None
    outcome = round_.outcomes.get(application.id)
    figures = scoring.deliberation_figures(round_, application)
    proposal = {
        f.id: (outcome.levels.get(f.id) if outcome else None)
        or (round(f.summary.median + 0.01) if f.summary else None)
        for f in figures
    }
    return render(
        request,
        "scoring/deliberation.html",
        {
            "procedure": context.procedure,
            "application": application,
            "applicant": context.applicant,
            "rubric": round_.rubric,
            "sheets": sheets,
            "names": names,
            "figures": figures,
            "outcome": outcome,
            "departures": scoring.departures(round_, application, outcome.levels)
            if outcome
            else {},
            "summaries": {f.id: f.summary for f in figures},
            "remarks": oversight.remarks_for_deliberation(session, context.procedure, application),
            "recorded_by": names.get(outcome.recorded_by) if outcome else None,
            "proposal": proposal,
            "pluses": procedures.pluses(session, context.procedure),
            "can_record": permissions.can_record_outcome(
                principal, context.procedure, context.standing
            )
            and context.procedure.phase in (Phase.INTERVIEWS, Phase.DELIBERATION),
            "error": error,
            "values": values or {},
        },
        status_code=error.status_code if error else 200,
    )


@router.get(
    "/committee/{reference}/applicants/{application_reference}/deliberation",
    name="deliberation",
)
def deliberation(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    context = _applicant(
        session, principal, reference, application_reference, permissions.can_view_deliberation
    )
    return _deliberation_page(request, session, context, principal)


@router.post("/committee/{reference}/applicants/{application_reference}/deliberation")
async def record_outcome(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    form = await request.form()
    pluses = [value for value in form.getlist("plus") if isinstance(value, str)]
    return await run_in_threadpool(
        _record_outcome, request, session, principal, reference, application_reference,
        _fields(form), pluses,
    )  # fmt: skip


def _record_outcome(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    application_reference: str,
    fields: dict[str, str],
    pluses: list[str],
) -> Response:
    context = _applicant(
        session, principal, reference, application_reference, permissions.can_record_outcome
    )
    assert context.member is not None
    try:
        scoring.record_outcome(
            session,
            round_=context.round,
            application=context.application,
            member=context.member,
            levels={
                k.removeprefix("level-"): v for k, v in fields.items() if k.startswith("level-")
            },
            suitable=fields.get("suitable", ""),
            motivation=fields.get("motivation", ""),
            reasons={
                k.removeprefix("reason-"): v for k, v in fields.items() if k.startswith("reason-")
            },
            pluses=pluses,
            published_pluses=[p.id for p in procedures.pluses(session, context.procedure) if p.id],
        )
    except DomainError as error:
        session.rollback()
        context.round = scoring.load_round(session, context.procedure, only=context.application)
        return _deliberation_page(request, session, context, principal, error=error, values=fields)
    return RedirectResponse(
        f"/committee/{reference}/applicants/{application_reference}/deliberation?recorded=1",
        status_code=303,
    )


# The round's figures and the admin's overview -------------------------------------------------


@router.get("/committee/{reference}/round", name="round_figures")
def round_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_procedure
    )
    if procedure.rubric_content is None:
        permissions.require(principal, permissions.can_manage_procedure(principal, procedure))
        permissions.require_visible(False)
    round_ = scoring.load_round(session, procedure)
    view = scoring.view_of(session, principal, procedure, round_)
    permissions.require(
        principal, permissions.can_view_round(principal, procedure, not view.sealed)
    )
    shown = [a for a in round_.applications if view.shows(a.id)]
    return render(
        request,
        "scoring/round.html",
        {
            "procedure": procedure,
            "rubric": round_.rubric,
            "figures": scoring.round_figures(round_, view.hidden | view.sealed),
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
    round_ = scoring.load_round(session, procedure) if procedure.rubric_content else None
    applicants = {}
    hidden = 0
    if round_ is not None:
        # An admin with a conflict: the applicant is left out; another admin assigns.
        view = scoring.view_of(session, principal, procedure, round_)
        shown = [a for a in round_.applications if view.shows(a.id)]
        hidden = len(round_.applications) - len(shown)
        round_.applications = shown
        ids = [a.applicant_id for a in round_.applications]
        applicants = {user_id: session.get(User, user_id) for user_id in ids}
    return render(
        request,
        "scoring/overview.html",
        {
            "procedure": procedure,
            "round": round_,
            "applicants": applicants,
            "reserve_candidates": lambda application: (
                scoring.reserve_candidates(round_, application) if round_ else []
            ),
            "can_assign": procedure.phase in (Phase.LETTER_ROUND, Phase.INTERVIEWS),
            "hidden": hidden,
            "hidden_notice": procedures.left_to_another_admin(
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
    return await _with_form(
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
    application = scoring.invited_application(session, procedure, application_reference)
    round_ = scoring.load_round(session, procedure, only=application)
    view = scoring.view_of(session, principal, procedure, round_)
    permissions.require_visible(
        permissions.can_act_on_applicant(principal, procedure, view, application.id)
    )
    try:
        member_id = forms.parse_whole_number(fields.get("member", ""), minimum=1)
        if member_id is None:
            raise InvalidInput(_("Choose a reserve member of this committee."), field="member")
        scoring.assign_reserve(
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
        f"/manage/procedures/{reference}/scoring#{application_reference}", status_code=303
    )
