"""The observer's home and the export of a procedure's audit chain."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from app import permissions
from app.audit import service as audit
from app.deps import CurrentPrincipal, DbSession
from app.procedures import service as procedures
from app.procedures.models import ProcedureRole
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
    heads = {p.reference: audit.head(session, p.reference) for p in rows}
    return render(request, "oversight/home.html", {"procedures": rows, "heads": heads})


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
