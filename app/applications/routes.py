"""The applicant's home."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from app import permissions
from app.deps import CurrentPrincipal, DbSession
from app.procedures.models import Phase, Procedure
from app.web import render

router = APIRouter()


@router.get("/my", name="applicant_home")
def applicant_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require_login(principal)
    procedures = (
        session.execute(permissions.public_procedures().where(Procedure.phase == Phase.OPEN))
        .scalars()
        .all()
    )
    return render(request, "applications/home.html", {"open_procedures": procedures})
