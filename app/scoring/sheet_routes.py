"""The score sheet's pages: the sheet itself and its autosave, review and submit (autosaved
by htmx, a full form without JavaScript). The hottest requests of the platform: the
checks run in a read-only session that is let go before the write."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup
from sqlmodel import Session

from app import forms, permissions
from app.applications import queries as application_queries
from app.db import Database
from app.deps import DbSession, identify
from app.errors import DomainError, InvalidInput
from app.i18n import gettext as _
from app.permissions import Principal
from app.procedures import queries
from app.procedures.rubric import Rubric
from app.procedures.vocabulary import Phase
from app.scoring import sheets as scoring_sheets
from app.scoring.pages import Context, applicant_context, form_fields
from app.scoring.round import SheetFacts
from app.web import render, static_parts

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.applications.models import Application
    from app.procedures.models import Procedure, ProcedureMember

router = APIRouter()


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
    target = scoring_sheets.sheet_target(read, reference, application_reference, principal.user_id)
    procedure, application = target.procedure, target.application
    permissions.require_visible(permissions.can_view_procedure(principal, procedure))
    permissions.require_visible(application is not None)
    assert application is not None
    permissions.require_on_applicant(principal, procedure, target.standing, permissions.can_score)
    owner = scoring_sheets.check_owner(target.member, member_id)
    writer = Writer(procedure, application, owner, queries.rubric_of(procedure))
    read.close()  # the checks are done: let go of the read snapshot before writing
    return writer


def _sheet_input(fields: dict[str, str]) -> scoring_sheets.SheetInput:
    return scoring_sheets.SheetInput(
        levels={k.removeprefix("level-"): v for k, v in fields.items() if k.startswith("level-")},
        reasons={
            k.removeprefix("reason-"): v for k, v in fields.items() if k.startswith("reason-")
        },
        version=fields.get("version", ""),
    )


# The score sheet ------------------------------------------------------------------------------


def _criterion_parts(procedure: Procedure, rubric: Rubric) -> list[list[Markup]]:
    """Each criterion's form as far as it depends on the pinned rubric (its hash names its
    content) and the language: rendered once per process, not on every opening."""
    parts = [
        static_parts(
            "scoring/_criterion.html",
            (procedure.rubric_hash, index),
            criterion=criterion,
            rubric=rubric,
            index=index,
        )
        for index, criterion in enumerate(rubric.criteria, start=1)
    ]
    # A slot for whether the level is invalid, one per level, the reason's class, the reason.
    assert all(len(p) == len(rubric.scale) + 4 for p in parts)
    return parts


def _sheet_page(
    request: Request,
    session: DbSession,
    context: Context,
    *,
    sheet: SheetFacts | None = None,
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
            "documents": application_queries.documents(session, context.application),
            "rubric": context.round.rubric,
            "criterion_parts": _criterion_parts(context.procedure, context.round.rubric)
            if editable
            else (),
            "member": member,
            "sheet": sheet,
            "editable": editable,
            "standing": context.standing,
            "missing": scoring_sheets.missing_before_submit(context.round.rubric, sheet),
            "error": error,
            "lost": lost or {},
            "saved": request.query_params.get("saved") == "1",
        },
        status_code=status_code,
        block=block,
    )


@router.get("/committee/{reference}/applicants/{application_reference}", name="score_sheet")
async def sheet_page(request: Request, reference: str, application_reference: str) -> Response:
    """One trip to a thread of the shared pool, with one read session opened there for who
    is asking and the page (as the autosave does): no dependency-managed sessions, each of
    which cost thread hops and a read transaction of its own."""
    return await anyio.to_thread.run_sync(
        _sheet_page_in_session, request, reference, application_reference
    )


def _sheet_page_in_session(
    request: Request, reference: str, application_reference: str
) -> Response:
    database: Database = request.app.state.database
    with database.session() as session:
        principal = identify(request, session)
        context = applicant_context(
            session, principal, reference, application_reference, permissions.can_open_applicant
        )
        return _sheet_page(request, session, context)


def _context_after(
    session: Session, principal: Principal, reference: str, application_reference: str
) -> Context:
    """The whole page's context, read again after a refused change (the write is rolled back)."""
    session.rollback()
    return applicant_context(
        session, principal, reference, application_reference, permissions.can_score
    )


def _lost_edits(
    rubric: Any, given: scoring_sheets.SheetInput, stored: SheetFacts
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
    fields = form_fields(await request.form())
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
            scoring_sheets.submit_sheet(
                session, **target, version=fields.get("version", ""),
                confirmed=fields.get("confirm") == "yes",
            )  # fmt: skip
            return RedirectResponse(
                f"/committee/{reference}/applicants/{application_reference}?submitted=1",
                status_code=303,
            )
        sheet = scoring_sheets.save_sheet(session, **target, given=given)
    except scoring_sheets.StaleSheet as stale:
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
    if scoring_sheets.missing_before_submit(writer.rubric, sheet):
        incomplete = InvalidInput(_("The sheet is not complete yet; see what is missing below."))
        return _sheet_page(request, session, context, error=incomplete, status_code=422)
    return _sheet_page(request, session, context, template="scoring/review.html")
