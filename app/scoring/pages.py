"""What every committee page shares: the procedure guard, one applicant with the asker's
standing towards them, and reading a form off the event loop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

from fastapi import Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from app import permissions
from app.deps import DbSession
from app.errors import NotFound
from app.i18n import gettext as _
from app.permissions import Principal, Standing
from app.procedures import queries
from app.scoring import round as scoring_round

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.accounts.models import User
    from app.applications.models import Application
    from app.procedures.models import Procedure, ProcedureMember

Rule: TypeAlias = "Callable[[Principal, Procedure, Standing], bool]"


@dataclass
class Context:
    procedure: Procedure
    application: Application
    round: scoring_round.Round
    member: ProcedureMember | None
    standing: Standing
    applicant: User | None


def committee_procedure_guard(
    session: DbSession, principal: Principal, reference: str
) -> Procedure:
    return permissions.require_procedure(
        session, principal, reference, permissions.can_use_committee_procedure
    )


def applicant_context(
    session: DbSession,
    principal: Principal,
    reference: str,
    application_reference: str,
    rule: Rule,
) -> Context:
    """One invited applicant, if `rule` lets the asker in (permissions.require_on_applicant
    says who gets 403 and who 404)."""
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_procedure, defer_rubric=True
    )
    found = scoring_round.load_applicant_round(session, procedure, application_reference)
    if found is None:
        raise NotFound(_("This page does not exist."))
    application, applicant, round_ = found
    # A scoring member is in the round already; anyone else (an observer) is asked for.
    member = next(
        (m for m in round_.members.values() if m.user_id == principal.user_id), None
    ) or queries.member_of(session, procedure, principal.user_id)
    standing = scoring_round.standing(round_, application, member)
    permissions.require_on_applicant(principal, procedure, standing, rule)
    return Context(procedure, application, round_, member, standing, applicant)


def form_fields(form: Any) -> dict[str, str]:
    return {key: value for key, value in form.multi_items() if isinstance(value, str)}


async def with_form(request: Request, handler: Callable[..., Response], *args: Any) -> Response:
    """Read the form on the event loop, then run the use case (which may wait for the SQLite
    write lock) in the thread pool, so one slow write never blocks the other requests."""
    fields = form_fields(await request.form())
    return await run_in_threadpool(handler, *args, fields)
