"""The platform admin's pages: organisations and their admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import select

from app import permissions
from app.audit import service as audit
from app.audit.service import actor_id
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.errors import DomainError
from app.procedures import organisations as procedure_organisations
from app.procedures import queries
from app.procedures.models import Organisation
from app.web import render

router = APIRouter()


@router.get("/admin", name="platform_admin")
def platform_admin(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_use_platform_admin(principal))
    return _platform_admin_page(request, session)


def _platform_admin_page(
    request: Request,
    session: DbSession,
    *,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    organisations = session.execute(select(Organisation).order_by(Organisation.name)).scalars()
    return render(
        request,
        "admin/home.html",
        {
            "organisations": list(organisations),
            "error": error,
            "values": values or {},
            "notice": notice,
            "platform_head": audit.head(session, audit.PLATFORM_CHAIN),
        },
        status_code=status_code,
    )


@router.post("/admin/organisations")
def create_organisation(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    slug: Annotated[str, Form(max_length=200)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    short_name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    permissions.require(principal, permissions.can_use_platform_admin(principal))
    try:
        procedure_organisations.create_organisation(
            session, actor=actor_id(principal.user_id), slug=slug, name=name, short_name=short_name
        )
    except DomainError as error:
        session.rollback()
        values = {"slug": slug, "name": name, "short_name": short_name}
        return _platform_admin_page(
            request, session, error=error, values=values, status_code=error.status_code
        )
    return RedirectResponse("/admin", status_code=303)


@router.post("/admin/organisations/{slug}/admins")
def add_organisation_admin(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    slug: str,
    email: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    permissions.require(principal, permissions.can_use_platform_admin(principal))
    organisation = queries.get_organisation(session, slug)
    try:
        invitation = procedure_organisations.add_organisation_admin(
            session,
            settings,
            actor=actor_id(principal.user_id),
            organisation=organisation,
            email=email,
            name=name,
        )
    except DomainError as error:
        session.rollback()
        values = {"admin_email": email, "admin_name": name, "admin_slug": slug}
        return _platform_admin_page(
            request, session, error=error, values=values, status_code=error.status_code
        )
    return _platform_admin_page(request, session, notice=invitation.user.email)
