"""The deliberation page and the joint outcome it records."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool

from app import permissions
from app.deps import CurrentPrincipal, DbSession
from app.errors import DomainError
from app.oversight import service as oversight
from app.permissions import Principal
from app.procedures import queries
from app.procedures.vocabulary import Phase
from app.scoring import deliberation as scoring_deliberation
from app.scoring import round as scoring_round
from app.scoring.pages import Context, applicant_context, form_fields
from app.web import render

router = APIRouter()


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
    figures = scoring_deliberation.deliberation_figures(round_, application)
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
            "departures": scoring_deliberation.departures(round_, application, outcome.levels)
            if outcome
            else {},
            "summaries": {f.id: f.summary for f in figures},
            "remarks": oversight.remarks_for_deliberation(session, context.procedure, application),
            "recorded_by": names.get(outcome.recorded_by) if outcome else None,
            "proposal": proposal,
            "pluses": queries.pluses(session, context.procedure),
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
    context = applicant_context(
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
        form_fields(form), pluses,
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
    context = applicant_context(
        session, principal, reference, application_reference, permissions.can_record_outcome
    )
    assert context.member is not None
    try:
        scoring_deliberation.record_outcome(
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
            published_pluses=[p.id for p in queries.pluses(session, context.procedure) if p.id],
        )
    except DomainError as error:
        session.rollback()
        context.round = scoring_round.load_round(
            session, context.procedure, only=context.application
        )
        return _deliberation_page(request, session, context, principal, error=error, values=fields)
    return RedirectResponse(
        f"/committee/{reference}/applicants/{application_reference}/deliberation?recorded=1",
        status_code=303,
    )
