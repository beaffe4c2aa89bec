"""The public catalogue's first pages, and the admin pages of organisations and procedures."""

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
from app.procedures import service
from app.procedures.models import Organisation, Procedure
from app.web import render

router = APIRouter()


@router.get("/", name="home")
def home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    procedures = (
        session.execute(
            permissions.public_procedures().order_by(Procedure.closes_at, Procedure.title)  # type: ignore[arg-type]
        )
        .scalars()
        .all()
    )
    organisations = {o.id: o for o in session.execute(select(Organisation)).scalars()}
    return render(
        request, "procedures/home.html", {"procedures": procedures, "organisations": organisations}
    )


@router.get("/procedures/{reference}", name="procedure")
def procedure_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = service.get_procedure(session, reference)
    permissions.require_visible(permissions.can_view_procedure(principal, procedure))
    organisation = session.get(Organisation, procedure.organisation_id)
    return render(
        request,
        "procedures/public.html",
        {
            "procedure": procedure,
            "organisation": organisation,
            "members": service.members(session, procedure),
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


def _managed(session: DbSession, principal: CurrentPrincipal, reference: str) -> Procedure:
    procedure = service.get_procedure(session, reference)
    # Admins of another organisation may not even learn a draft exists.
    permissions.require_login(principal)
    if not permissions.can_manage_procedure(principal, procedure):
        permissions.require_visible(permissions.can_view_procedure(principal, procedure))
        permissions.require(principal, False)
    return procedure


def _procedure_admin_page(
    request: Request,
    session: DbSession,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
    invited: str | None = None,
    status_code: int = 200,
) -> Response:
    head = audit.head(session, procedure.reference)
    return render(
        request,
        "procedures/admin.html",
        {
            "procedure": procedure,
            "organisation": session.get(Organisation, procedure.organisation_id),
            "members": service.members(session, procedure),
            "head": head,
            "functions": service.FUNCTIONS,
            "error": error,
            "values": values or {},
            "invited": invited,
        },
        status_code=status_code,
    )


@router.get("/manage/procedures/{reference}", name="manage_procedure")
def manage_procedure(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _managed(session, principal, reference)
    return _procedure_admin_page(request, session, procedure)


@router.post("/manage/procedures/{reference}/invitations")
def invite(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    email: Annotated[str, Form(max_length=1000)] = "",
    name: Annotated[str, Form(max_length=1000)] = "",
    role: Annotated[str, Form(max_length=20)] = "",
    function: Annotated[str, Form(max_length=40)] = "",
    training_done: Annotated[bool, Form()] = False,
) -> Response:
    procedure = _managed(session, principal, reference)
    permissions.require(principal, permissions.can_invite_to_procedure(principal, procedure))
    values = {"email": email, "name": name, "role": role, "function": function}
    try:
        invitation = service.invite_to_procedure(
            session,
            settings,
            actor=actor_id(principal.user_id),
            procedure=procedure,
            email=email,
            name=name,
            role=role,
            function=function,
            training_done=training_done,
        )
    except DomainError as error:
        session.rollback()
        return _procedure_admin_page(
            request, session, procedure, error=error, values=values, status_code=error.status_code
        )
    return _procedure_admin_page(request, session, procedure, invited=invitation.user.email)


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
        service.create_organisation(
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
    organisation = service.get_organisation(session, slug)
    try:
        invitation = service.add_organisation_admin(
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
