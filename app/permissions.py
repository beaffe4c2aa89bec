"""The one place that says who may see or do what.

Every route asks a named rule here (`can_manage_procedure`, `can_view_audit`, ...), and
every list is filtered by the query helpers here, so a list never shows what the detail
page would refuse. Someone who may not know an object exists gets 404, not 403.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import bindparam, literal, union_all
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


# One round trip for both: the organisations a user administers (role "admin") and their
# role in each procedure. Prebuilt, as it runs on every signed-in request.
_ROLES = union_all(
    select(col(OrganisationAdmin.organisation_id), literal("admin").label("role")).where(
        OrganisationAdmin.user_id == bindparam("user_id")
    ),
    select(col(ProcedureMember.procedure_id), col(ProcedureMember.role)).where(
        ProcedureMember.user_id == bindparam("user_id")
    ),
)


def principal_for(session: Session, user: User | None) -> Principal:
    if user is None:
        return ANONYMOUS
    rows = session.execute(_ROLES, {"user_id": user.id}).all()
    return Principal(
        user=user,
        organisation_ids=frozenset(key for key, role in rows if role == "admin"),
        procedure_roles={key: role for key, role in rows if role != "admin"},
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
    principal: Principal,
    application: Application,
    procedure: Procedure,
    standing: Standing | None = None,
) -> bool:
    """The applicant, the admins who run the letter round, and the applicant's own
    (unconflicted) scorers while the interviews are prepared, held and discussed."""
    return (
        can_view_application(principal, application)
        or can_manage_procedure(principal, procedure)
        or (standing is not None and can_open_applicant(principal, procedure, standing))
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


# Scoring ---------------------------------------------------------------------------------

SCORING_ROLES = frozenset({ProcedureRole.MEMBER.value, ProcedureRole.CHAIR.value})
# From the published letter-round result (conflicts are declared before the interviews)
# until the results are out; after archiving, the applicants' data is on its way out.
APPLICANT_PHASES = frozenset(
    {Phase.LETTER_ROUND, Phase.INTERVIEWS, Phase.DELIBERATION, Phase.RESULTS}
)
DELIBERATION_PHASES = frozenset({Phase.INTERVIEWS, Phase.DELIBERATION, Phase.RESULTS})


@dataclass(frozen=True)
class Standing:
    """Where the asker stands towards one invited applicant of a procedure."""

    scorer: bool = False  # one of the applicant's scorers, which excludes a conflict
    conflicted: bool = False
    own_sheet_submitted: bool = False
    all_in: bool = False  # quorum met and every scorer's sheet submitted
    records_outcome: bool = False  # the chair, or a scorer when the chair is conflicted


def is_scoring_member(principal: Principal, procedure: Procedure) -> bool:
    return principal.role_in(procedure) in SCORING_ROLES


def can_use_committee_procedure(principal: Principal, procedure: Procedure) -> bool:
    return is_scoring_member(principal, procedure)


def can_open_applicant(principal: Principal, procedure: Procedure, standing: Standing) -> bool:
    """A conflicted member may not know anything of the applicant, so everything is 404."""
    return (
        is_scoring_member(principal, procedure)
        and standing.scorer
        and not standing.conflicted
        and procedure.phase in APPLICANT_PHASES
    )


def can_score(principal: Principal, procedure: Procedure, standing: Standing) -> bool:
    """Edits are refused with their own message (phase, final sheet) by the service."""
    return can_open_applicant(principal, procedure, standing)


def can_declare_conflict(principal: Principal, procedure: Procedure, standing: Standing) -> bool:
    return can_open_applicant(principal, procedure, standing)


def can_declare_own_ties(principal: Principal, procedure: Procedure) -> bool:
    """Every committee member (reserves too) declares once whom of the invited applicants
    they know; the service refuses it outside its phases with its own message."""
    return is_scoring_member(principal, procedure) and procedure.phase in (
        Phase.LETTER_ROUND,
        Phase.INTERVIEWS,
        Phase.DELIBERATION,
    )


def can_view_deliberation(principal: Principal, procedure: Procedure, standing: Standing) -> bool:
    """Once every sheet is in: the applicant's scorers (their own is in, so independence
    holds), the admins and the observer. Never a conflicted member."""
    if standing.conflicted or procedure.phase not in DELIBERATION_PHASES:
        return False
    if can_open_applicant(principal, procedure, standing):
        return standing.all_in and standing.own_sheet_submitted
    return can_manage_procedure(principal, procedure) or (
        principal.role_in(procedure) == ProcedureRole.OBSERVER
    )


def can_record_outcome(principal: Principal, procedure: Procedure, standing: Standing) -> bool:
    return (
        can_open_applicant(principal, procedure, standing)
        and standing.records_outcome
        and standing.all_in
    )


def can_view_round(principal: Principal, procedure: Procedure, own_sheets_all_in: bool) -> bool:
    """The round's figures: admins and the observer; a member once all their sheets are in."""
    if can_manage_procedure(principal, procedure):
        return True
    role = principal.role_in(procedure)
    if role == ProcedureRole.OBSERVER:
        return True
    return role in SCORING_ROLES and own_sheets_all_in


def can_manage_scoring(principal: Principal, procedure: Procedure) -> bool:
    return can_manage_procedure(principal, procedure)


# The observer ---------------------------------------------------------------------------


def can_read_round(principal: Principal, procedure: Procedure) -> bool:
    """The whole round, read-only: the observer and the admins."""
    return can_manage_procedure(principal, procedure) or (
        principal.role_in(procedure) == ProcedureRole.OBSERVER
    )


def can_remark(principal: Principal, procedure: Procedure) -> bool:
    """Remarks and the sign-off are the observer's alone."""
    return principal.role_in(procedure) == ProcedureRole.OBSERVER


# The lottery ------------------------------------------------------------------------------


def can_run_lottery(principal: Principal, procedure: Procedure) -> bool:
    return can_manage_procedure(principal, procedure)


def can_contribute_to_draw(principal: Principal, procedure: Procedure) -> bool:
    """The observer and the chair each contribute a secret to every draw."""
    return principal.role_in(procedure) in (ProcedureRole.OBSERVER, ProcedureRole.CHAIR)


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


def require_on_procedure(principal: Principal, procedure: Procedure, allowed: bool) -> None:
    """Refuse what `allowed` does not grant: 403 for those who may know the procedure exists,
    404 for those who may not (a draft, to outsiders)."""
    if not allowed:
        require_visible(can_view_procedure(principal, procedure))
        require(principal, False)


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
