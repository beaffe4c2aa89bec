"""The public pages of procedures (the catalogue and a procedure's page) and the manage
home that lists an admin's procedures."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from app import forms, permissions
from app.applications import queries as application_queries
from app.audit import service as audit
from app.deps import CurrentPrincipal, DbSession
from app.errors import DomainError
from app.lottery import draws
from app.lottery import results as lottery_results
from app.lottery.vocabulary import DrawStatus
from app.procedures import catalogue as procedure_catalogue
from app.procedures import queries
from app.procedures.models import Organisation, Procedure
from app.procedures.vocabulary import Phase
from app.web import render

router = APIRouter()


@router.get("/", name="home")
def home(
    request: Request,
    session: DbSession,
    q: Annotated[str, Query(max_length=200)] = "",
    specialty: Annotated[str, Query(max_length=100)] = "",
    region: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[str, Query(max_length=20)] = "",
    closes_before: Annotated[str, Query(max_length=20)] = "",
) -> Response:
    """The public catalogue: search and filter by specialty, region, status and deadline."""
    error = None
    try:
        deadline = forms.dates([closes_before], "closes_before")
    except DomainError as problem:
        error, deadline = problem, []
    query = procedure_catalogue.CatalogueFilter(
        text=q,
        specialty=specialty,
        region=region,
        status=status if status in permissions.PUBLIC_PHASES else "",
        closes_before=deadline[0] if deadline else None,
    )
    return render(
        request,
        "procedures/home.html",
        {
            "results": procedure_catalogue.catalogue(session, query),
            "specialties": procedure_catalogue.specialties(session),
            "statuses": [p.value for p in Phase if p.value in permissions.PUBLIC_PHASES],
            "query": {
                "q": q,
                "specialty": specialty,
                "region": region,
                "status": status,
                "closes_before": closes_before,
            },
            "filtered": any([q, specialty, region, status, closes_before]),
            "error": error,
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/procedures/{reference}", name="procedure")
def procedure_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = queries.get_procedure(session, reference)
    permissions.require_visible(permissions.can_view_procedure(principal, procedure))
    published = procedure.phase in (Phase.RESULTS, Phase.ARCHIVED) and procedure.rubric_hash
    standings = lottery_results.Standings.load(session, procedure) if published else None
    every_draw = standings.draws if standings else draws.draws(session, procedure)
    return render(
        request,
        "procedures/public.html",
        {
            "procedure": procedure,
            "organisation": session.get(Organisation, procedure.organisation_id),
            "members": queries.members(session, procedure),
            "requirements": queries.requirements(session, procedure),
            "pluses": queries.pluses(session, procedure),
            "institutions": queries.institutions(session, procedure),
            "corrections": queries.corrections(session, procedure),
            "rubric": queries.pinned_rubric(procedure),
            "warnings": procedure_catalogue.published_findings(procedure),
            "can_manage": permissions.can_manage_procedure(principal, procedure),
            "figures": lottery_results.public_figures(session, procedure, standings),
            "by_group": lottery_results.outcomes_by_group(session, procedure, standings),
            "has_draws": any(d.status != DrawStatus.PREPARING for d in every_draw),
            "public_chain": audit.chain_version(session, procedure.reference) == 2,
            # The visitor's own application here, so the page says where it stands
            # instead of offering to apply again.
            "mine": application_queries.for_applicant(session, procedure, principal.user)
            if principal.user is not None and procedure.id in principal.applied_procedure_ids
            else None,
        },
    )


@router.get("/manage", name="manage")
def manage_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_use_manage_home(principal))
    organisations = (
        session.execute(permissions.managed_organisations(principal).order_by(Organisation.name))
        .scalars()
        .all()
    )
    procedures = (
        session.execute(permissions.managed_procedures(principal).order_by(Procedure.reference))
        .scalars()
        .all()
    )
    by_organisation: dict[int | None, list[Procedure]] = {}
    for procedure in procedures:
        by_organisation.setdefault(procedure.organisation_id, []).append(procedure)
    return render(
        request,
        "procedures/manage.html",
        {"organisations": organisations, "by_organisation": by_organisation},
    )
