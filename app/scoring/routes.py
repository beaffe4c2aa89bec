"""The committee member's home: their procedures and their role in each."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import permissions
from app.deps import CurrentPrincipal, DbSession
from app.procedures.models import Procedure, ProcedureRole
from app.web import render

router = APIRouter()


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
    return render(request, "scoring/home.html", {"procedures": rows})
