"""The observer's home and the export of a procedure's audit chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlmodel import select

from app import permissions
from app.audit import service as audit
from app.deps import CurrentPrincipal, DbSession
from app.errors import DomainError, InvalidInput
from app.i18n import gettext as _
from app.procedures import service as procedures
from app.procedures.models import Procedure, ProcedureMember, ProcedureRole
from app.web import render

router = APIRouter()


@router.get("/observer", name="observer_home")
def observer_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_use_observer_home(principal))
    rows = (
        session.execute(permissions.procedures_with_role(principal, ProcedureRole.OBSERVER))
        .scalars()
        .all()
    )
    return _observer_page(request, session, principal, rows)


def _observer_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    rows: Sequence[Procedure],
    *,
    error: DomainError | None = None,
    error_reference: str | None = None,
    status_code: int = 200,
) -> Response:
    heads = {p.reference: audit.head(session, p.reference) for p in rows}
    declarations = {
        member.procedure_id: member
        for member in session.execute(
            select(ProcedureMember).where(ProcedureMember.user_id == principal.user_id)
        ).scalars()
    }
    return render(
        request,
        "oversight/home.html",
        {
            "procedures": rows,
            "heads": heads,
            "declarations": declarations,
            "can_declare": {p.reference: permissions.can_declare_ties(principal, p) for p in rows},
            "error": error,
            "error_reference": error_reference,
        },
        status_code=status_code,
    )


@router.post("/procedures/{reference}/ties")
def declare_ties(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    has_ties: Annotated[str, Form(max_length=10)] = "",
    ties: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The observer declares whether they have personal ties with the committee."""
    procedure = procedures.get_procedure(session, reference)
    permissions.require_login(principal)
    if principal.role_in(procedure) is None:
        permissions.require_visible(False)
    permissions.require(principal, permissions.can_declare_ties(principal, procedure))
    assert principal.user_id is not None
    try:
        if has_ties not in ("yes", "no"):
            raise InvalidInput(_("Choose whether you have personal ties."), field="has_ties")
        if has_ties == "yes" and not ties.strip():
            raise InvalidInput(_("Describe your ties."), field="ties")
        procedures.declare_ties(
            session,
            procedure=procedure,
            user_id=principal.user_id,
            ties=ties if has_ties == "yes" else "",
        )
    except DomainError as error:
        session.rollback()
        rows = (
            session.execute(permissions.procedures_with_role(principal, ProcedureRole.OBSERVER))
            .scalars()
            .all()
        )
        return _observer_page(
            request,
            session,
            principal,
            rows,
            error=error,
            error_reference=reference,
            status_code=error.status_code,
        )
    return RedirectResponse("/observer", status_code=303)


@router.get("/procedures/{reference}/audit.jsonl", name="audit_export")
def export_chain(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = procedures.get_procedure(session, reference)
    permissions.require_login(principal)
    if not permissions.can_view_audit(principal, procedure):
        permissions.require_visible(permissions.can_view_procedure(principal, procedure))
        permissions.require(principal, False)
    lines = list(audit.export_lines(session, procedure.reference))
    return StreamingResponse(
        iter(lines),
        media_type="application/jsonl; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{reference}-audit.jsonl"'},
    )
