"""The one place that says who may see or do what.

Every route asks a named rule here (`can_manage_procedure`, `can_view_audit`, ...), and
every list is filtered by the query helpers here, so a list never shows what the detail
page would refuse. Someone who may not know an object exists gets 404, not 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import User
from app.applications.models import Application
from app.errors import Forbidden, LoginRequired, NotFound
from app.i18n import gettext as _
from app.procedures.models import (
    Organisation,
    OrganisationAdmin,
    Phase,
    Procedure,
    ProcedureMember,
    ProcedureRole,
)

PUBLIC_PHASES = frozenset(phase.value for phase in Phase) - {Phase.DRAFT.value}


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user (or nobody) with every role they hold, loaded once."""

    user: User | None
    organisation_ids: frozenset[int] = frozenset()
    # procedure id -> member, chair or observer
    procedure_roles: dict[int, str] = field(default_factory=dict)

    @property
    def authenticated(self) -> bool:
        return self.user is not None

    @property
    def user_id(self) -> int | None:
        return self.user.id if self.user else None

    @property
    def is_platform_admin(self) -> bool:
        return bool(self.user and self.user.is_platform_admin)

    @property
    def is_organisation_admin(self) -> bool:
        return bool(self.organisation_ids)

    def role_in(self, procedure: Procedure) -> str | None:
        return self.procedure_roles.get(procedure.id) if procedure.id is not None else None

    @property
    def is_committee_member(self) -> bool:
        return any(role != ProcedureRole.OBSERVER for role in self.procedure_roles.values())

    @property
    def is_observer(self) -> bool:
        return any(role == ProcedureRole.OBSERVER for role in self.procedure_roles.values())


ANONYMOUS = Principal(user=None)


def principal_for(session: Session, user: User | None) -> Principal:
    if user is None:
        return ANONYMOUS
    organisation_ids = session.execute(
        select(col(OrganisationAdmin.organisation_id)).where(OrganisationAdmin.user_id == user.id)
    ).scalars()
    roles = session.execute(
        select(col(ProcedureMember.procedure_id), col(ProcedureMember.role)).where(
            ProcedureMember.user_id == user.id
        )
    ).all()
    return Principal(
        user=user,
        organisation_ids=frozenset(organisation_ids),
        procedure_roles={procedure_id: role for procedure_id, role in roles},
    )


# Named rules --------------------------------------------------------------------------


def can_use_platform_admin(principal: Principal) -> bool:
    return principal.is_platform_admin


def can_read_outbox(principal: Principal) -> bool:
    return principal.is_platform_admin


def can_manage_organisation(principal: Principal, organisation: Organisation) -> bool:
    return principal.is_platform_admin or organisation.id in principal.organisation_ids


def can_manage_procedure(principal: Principal, procedure: Procedure) -> bool:
    return principal.is_platform_admin or procedure.organisation_id in principal.organisation_ids


def can_view_procedure(principal: Principal, procedure: Procedure) -> bool:
    return (
        procedure.phase in PUBLIC_PHASES
        or can_manage_procedure(principal, procedure)
        or principal.role_in(procedure) is not None
    )


def can_edit_procedure(principal: Principal, procedure: Procedure) -> bool:
    """Each editor change checks its own rule (frozen fields, phase) in the service."""
    return can_manage_procedure(principal, procedure)


def can_declare_ties(principal: Principal, procedure: Procedure) -> bool:
    """The observer declares their personal ties before the interviews start."""
    return principal.role_in(procedure) == ProcedureRole.OBSERVER and Phase(procedure.phase) in (
        Phase.DRAFT,
        Phase.PUBLISHED,
        Phase.OPEN,
        Phase.CLOSED,
        Phase.LETTER_ROUND,
    )


def can_apply(principal: Principal, procedure: Procedure) -> bool:
    """Anyone with an account may apply to an open procedure, except its own assessors."""
    return (
        principal.authenticated
        and procedure.phase == Phase.OPEN
        and principal.role_in(procedure) is None
    )


def can_view_application(principal: Principal, application: Application) -> bool:
    """For now only the applicant; the letter round and scoring add their own rules."""
    return principal.user_id is not None and application.applicant_id == principal.user_id


def can_read_application(
    principal: Principal, application: Application, procedure: Procedure
) -> bool:
    """The applicant, and the admins who run the letter round; assessors come with scoring."""
    return can_view_application(principal, application) or can_manage_procedure(
        principal, procedure
    )


def can_run_letter_round(principal: Principal, procedure: Procedure) -> bool:
    return can_manage_procedure(principal, procedure)


def can_invite_to_procedure(principal: Principal, procedure: Procedure) -> bool:
    return can_manage_procedure(principal, procedure) and procedure.phase != Phase.ARCHIVED


def can_view_audit(principal: Principal, procedure: Procedure) -> bool:
    """The admins and the observer may export and verify a procedure's chain."""
    return can_manage_procedure(principal, procedure) or (
        principal.role_in(procedure) == ProcedureRole.OBSERVER
    )


def can_use_committee_home(principal: Principal) -> bool:
    return principal.is_committee_member


def can_use_observer_home(principal: Principal) -> bool:
    return principal.is_observer


def can_use_manage_home(principal: Principal) -> bool:
    return principal.is_platform_admin or principal.is_organisation_admin


# Enforcement --------------------------------------------------------------------------


def require_login(principal: Principal) -> User:
    if principal.user is None:
        raise LoginRequired(_("Please log in to continue."))
    return principal.user


def require(principal: Principal, allowed: bool) -> None:
    """403 for a logged-in user, a login prompt for a visitor."""
    require_login(principal)
    if not allowed:
        raise Forbidden(_("You do not have access to this page."))


def require_visible(allowed: bool) -> None:
    """404 where the asker may not even know the object exists."""
    if not allowed:
        raise NotFound(_("This page does not exist."))


# Query helpers: lists filtered by the same rules as single objects ---------------------


def public_procedures() -> SelectOfScalar[Procedure]:
    return select(Procedure).where(col(Procedure.phase).in_(PUBLIC_PHASES))


def managed_procedures(principal: Principal) -> SelectOfScalar[Procedure]:
    query = select(Procedure)
    if not principal.is_platform_admin:
        query = query.where(col(Procedure.organisation_id).in_(principal.organisation_ids))
    return query


def managed_organisations(principal: Principal) -> SelectOfScalar[Organisation]:
    query = select(Organisation)
    if not principal.is_platform_admin:
        query = query.where(col(Organisation.id).in_(principal.organisation_ids))
    return query


def procedures_with_role(principal: Principal, *roles: str) -> SelectOfScalar[Procedure]:
    ids = [pid for pid, role in principal.procedure_roles.items() if role in roles]
    return select(Procedure).where(col(Procedure.id).in_(ids))
