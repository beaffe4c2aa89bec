"""The one place that says who may see or do what.

Every route asks a named rule here (`can_manage_procedure`, `can_view_audit`, ...), and
every list is filtered by the query helpers here, so a list never shows what the detail
page would refuse. Someone who may not know an object exists gets 404, not 403.

What decides is a person's *standing* towards a procedure and one applicant of it (their
`Standing`: must still score them, has scored, conflicted by either side's declaration,
the applicant, the observer, an admin), not the roles they hold: an admin who is also a
member with an open sheet is, for that applicant, a member with an open sheet. Lists and
exports ask `RoundView` which applicants to leave out (a conflict) and whose sheets to
leave out (the asker must still score them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from sqlalchemy import bindparam, literal, union_all
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select
from sqlmodel.sql.expression import SelectOfScalar

from app.accounts.models import User
from app.applications.models import Application
from app.errors import Forbidden, LoginRequired, NotFound
from app.i18n import gettext as _
from app.procedures.models import Organisation, OrganisationAdmin, Procedure, ProcedureMember
from app.procedures.vocabulary import Phase, ProcedureRole

PUBLIC_PHASES = frozenset(phase.value for phase in Phase) - {Phase.DRAFT.value}


@dataclass(frozen=True)
class Principal:
    """Who is asking: the user (or nobody) with every role they hold, loaded once."""

    user: User | None
    organisation_ids: frozenset[int] = frozenset()
    # procedure id -> member, chair or observer, as invited
    procedure_roles: dict[int, str] = field(default_factory=dict)
    # the procedures the user has an application in (draft, submitted or withdrawn)
    applied_procedure_ids: frozenset[int] = frozenset()

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

    @property
    def roles(self) -> dict[int, str]:
        """The roles that count: an applicant's committee or observer role in their own
        procedure (only old data can hold both; the guideline check names it) counts for
        nothing, so they stand there as an applicant only."""
        return {
            pid: role
            for pid, role in self.procedure_roles.items()
            if pid not in self.applied_procedure_ids
        }

    def role_in(self, procedure: Procedure) -> str | None:
        if procedure.id is None or procedure.id in self.applied_procedure_ids:
            return None
        return self.procedure_roles.get(procedure.id)

    def invited_role_in(self, procedure: Procedure) -> str | None:
        """The role as invited, whether or not it counts (see `roles`)."""
        return self.procedure_roles.get(procedure.id) if procedure.id is not None else None

    def has_applied_to(self, procedure: Procedure) -> bool:
        return procedure.id in self.applied_procedure_ids

    @property
    def is_committee_member(self) -> bool:
        return any(role != ProcedureRole.OBSERVER for role in self.roles.values())

    @property
    def is_observer(self) -> bool:
        return any(role == ProcedureRole.OBSERVER for role in self.roles.values())


ANONYMOUS = Principal(user=None)


# One round trip for all three: the organisations a user administers (role "admin"), their
# role in each procedure, and the procedures they applied to (role "applicant"). Prebuilt,
# as it runs on every signed-in request.
_ROLES = union_all(
    select(col(OrganisationAdmin.organisation_id), literal("admin").label("role")).where(
        OrganisationAdmin.user_id == bindparam("user_id")
    ),
    select(col(ProcedureMember.procedure_id), col(ProcedureMember.role)).where(
        ProcedureMember.user_id == bindparam("user_id")
    ),
    select(col(Application.procedure_id), literal("applicant").label("role")).where(
        Application.applicant_id == bindparam("user_id")
    ),
)


def principal_for(session: Session, user: User | None) -> Principal:
    if user is None:
        return ANONYMOUS
    rows = session.execute(_ROLES, {"user_id": user.id}).all()
    return Principal(
        user=user,
        organisation_ids=frozenset(key for key, role in rows if role == "admin"),
        procedure_roles={key: role for key, role in rows if role not in ("admin", "applicant")},
        applied_procedure_ids=frozenset(key for key, role in rows if role == "applicant"),
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


def can_read_open_data(procedure: Procedure) -> bool:
    """The open-data API and the calendar feeds: published procedures, for anyone."""
    return procedure.phase in PUBLIC_PHASES


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


def apply_refusal(principal: Principal, procedure: Procedure) -> str | None:
    """Why this person may not apply here, or None. Roles exclude each other within one
    procedure: whoever was invited onto its committee, or as its observer (even before
    accepting), cannot also be one of its applicants."""
    if procedure.phase not in PUBLIC_PHASES:
        return _("This procedure does not accept applications now.")
    role = principal.invited_role_in(procedure)
    if role == ProcedureRole.OBSERVER:
        return _("You are the observer of this procedure; the observer cannot also apply to it.")
    if role is not None:
        return _(
            "You are on the committee of this procedure; a committee member cannot also "
            "apply to it."
        )
    return None


def can_apply(principal: Principal, procedure: Procedure) -> bool:
    """Anyone with an account may apply to a published procedure, except its own assessors
    (`apply_refusal` says why not). When is the clock's to say
    (`lifecycle.takes_applications`): before the opening time and after the deadline the
    form is replaced by a page that says so."""
    return principal.authenticated and apply_refusal(principal, procedure) is None


def can_view_application(principal: Principal, application: Application) -> bool:
    """For now only the applicant; the letter round and scoring add their own rules."""
    return principal.user_id is not None and application.applicant_id == principal.user_id


def can_state_preferences(principal: Principal, application: Application) -> bool:
    """Only the candidate states and reads their own preferences: never a committee member,
    nor an admin (the published record shows them, by reference, after the first round)."""
    return can_view_application(principal, application)


def can_read_application(
    principal: Principal,
    application: Application,
    procedure: Procedure,
    standing: Standing | None = None,
) -> bool:
    """The applicant always; the admins during the letter round (they judge the documents
    against the minimum requirements); the applicant's own unconflicted scorers while the
    interviews are prepared, held and discussed. Never anyone with a conflict."""
    if can_view_application(principal, application):
        return True
    standing = standing or Standing()
    if standing.conflicted:
        return False
    if can_manage_procedure(principal, procedure) and procedure.phase == Phase.LETTER_ROUND:
        return True
    return can_open_applicant(principal, procedure, standing)


def can_run_letter_round(principal: Principal, procedure: Procedure) -> bool:
    return can_manage_procedure(principal, procedure)


def can_invite_to_procedure(principal: Principal, procedure: Procedure) -> bool:
    return can_manage_procedure(principal, procedure) and procedure.phase != Phase.ARCHIVED


def can_view_audit(principal: Principal, procedure: Procedure) -> bool:
    """The admins and the observer may export and verify a procedure's chain (but see
    `audit_export_refusal`: not while it holds what their standing keeps from them)."""
    return can_manage_procedure(principal, procedure) or (
        principal.role_in(procedure) == ProcedureRole.OBSERVER
    )


def audit_export_refusal(view: RoundView) -> str | None:
    """The chain holds every submitted sheet's levels and every outcome, and cannot leave
    an entry out without failing verification; so whoever must still score an applicant
    gets it once their own sheets are in, and whoever has a conflict not at all."""
    if view.hidden:
        return _(
            "The chain holds the scores of an applicant you have a conflict of interest "
            "with, so you cannot export it; another admin of the organisation or the "
            "observer can."
        )
    if view.sealed:
        return _(
            "The chain holds the other members' submitted scores. You can download it once "
            "your own score sheets are in (%(count)s still open).",
            count=len(view.sealed),
        )
    return None


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
    """Where the asker stands towards one applicant of a procedure. Several may hold at
    once (an admin who scores); each rule below says which one wins."""

    scorer: bool = False  # one of the applicant's scorers, which excludes a conflict
    conflicted: bool = False  # by the applicant's declaration or the person's own
    own_sheet_submitted: bool = False
    all_in: bool = False  # quorum met and every scorer's sheet submitted
    records_outcome: bool = False  # the chair, or a scorer when the chair is conflicted

    @property
    def must_still_score(self) -> bool:
        """Nobody else's levels or reasons for this applicant, anywhere, until then."""
        return self.scorer and not self.own_sheet_submitted


@dataclass(frozen=True)
class RoundView:
    """What a procedure-wide page or export (the observer's view, the report, the CSV and
    XLSX, the letter round, the figures) shows this asker, by application id."""

    hidden: frozenset[int] = frozenset()  # conflicted: the applicant is left out entirely
    sealed: frozenset[int] = frozenset()  # must still score: the other sheets are left out

    def shows(self, application_id: int | None) -> bool:
        return application_id not in self.hidden

    def shows_sheets(self, application_id: int | None) -> bool:
        return application_id not in self.hidden and application_id not in self.sealed


EVERYTHING = RoundView()


def round_view(
    principal: Principal,
    procedure: Procedure,
    conflicted: Iterable[int],
    open_sheets: Iterable[int],
) -> RoundView:
    """`conflicted`: the applications the asker's membership has a conflict with (either
    side's declaration); `open_sheets`: those they score and have not submitted yet. Both
    count only where the membership counts (see `Principal.roles`)."""
    if principal.role_in(procedure) is None:
        return EVERYTHING
    sealed = frozenset(open_sheets) if is_scoring_member(principal, procedure) else frozenset()
    return RoundView(hidden=frozenset(conflicted), sealed=sealed)


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


def can_report_running_late(principal: Principal, procedure: Procedure) -> bool:
    """A scoring member says their panel runs late today; the service checks the panel and
    the day."""
    return is_scoring_member(principal, procedure)


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
    holds), the admins and the observer. Never a conflicted member, never whoever must
    still score the applicant (an admin who is also one of the scorers)."""
    if standing.conflicted or procedure.phase not in DELIBERATION_PHASES:
        return False
    if can_open_applicant(principal, procedure, standing) or standing.must_still_score:
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


def can_act_on_applicant(principal: Principal, procedure: Procedure, view: RoundView,
                         application_id: int | None) -> bool:  # fmt: skip
    """Admin work on one applicant (the letter-round decision, a reserve assignment, a
    declined place): an admin with a conflict leaves it to another admin."""
    return can_manage_procedure(principal, procedure) and view.shows(application_id)


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


def can_run_placement(principal: Principal, procedure: Procedure) -> bool:
    """The procedure's admins hold the ordering draw, publish the rounds and close the
    placement; the page shows how many lists were stated, never a list."""
    return can_manage_procedure(principal, procedure)


def can_answer_offer(principal: Principal, application: Application) -> bool:
    """Only the candidate accepts or declines the place offered to them."""
    return can_view_application(principal, application)


def can_run_interviews(principal: Principal, procedure: Procedure) -> bool:
    """The procedure's admins divide the committee into panels and run the schedule."""
    return can_manage_procedure(principal, procedure)


def can_book_interview(principal: Principal, application: Application) -> bool:
    """Only the applicant books (and reads) their own interview."""
    return can_view_application(principal, application)


def can_keep_pool_record(principal: Principal) -> bool:
    """Anyone with an account may join the national pool of assessors; the record is
    theirs alone to read, correct, export and remove."""
    return principal.authenticated


def can_search_pool(principal: Principal) -> bool:
    """The WV admins (and the platform's) search the pool and add people to it; composing a
    committee from it is inviting, so it asks `can_invite_to_procedure` too."""
    return principal.is_platform_admin or principal.is_organisation_admin


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


def require(principal: Principal, allowed: bool, why: str | None = None) -> None:
    """403 for a logged-in user (with `why`, when the page can say it), a login prompt for
    a visitor."""
    require_login(principal)
    if not allowed:
        raise Forbidden(why or _("You do not have access to this page."))


def require_visible(allowed: bool) -> None:
    """404 where the asker may not even know the object exists."""
    if not allowed:
        raise NotFound(_("This page does not exist."))


def require_on_procedure(
    principal: Principal, procedure: Procedure, allowed: bool, why: str | None = None
) -> None:
    """Refuse what `allowed` does not grant: 403 for those who may know the procedure exists,
    404 for those who may not (a draft, to outsiders)."""
    if not allowed:
        require_visible(can_view_procedure(principal, procedure))
        require(principal, False, why)


ProcedureRule = Callable[[Principal, Procedure], bool]
ApplicantRule = Callable[[Principal, Procedure, Standing], bool]


def require_procedure(
    session: Session,
    principal: Principal,
    reference: str,
    rule: ProcedureRule,
    *,
    defer_rubric: bool = False,
) -> Procedure:
    """The guard of every page about one procedure: log in, the procedure by its reference
    (404 when there is none), then `rule`: 403 for those who may know the procedure
    exists, 404 for those who may not. `defer_rubric` leaves the pinned rubric's content
    unread for pages that get the rubric from its parse cache (queries.rubric_of)."""
    require_login(principal)
    query = select(Procedure).where(Procedure.reference == reference)
    if defer_rubric:
        query = query.options(defer(Procedure.rubric_content))  # type: ignore[arg-type]
    procedure = session.execute(query).scalar_one_or_none()
    require_visible(procedure is not None)
    assert procedure is not None
    require_on_procedure(principal, procedure, rule(principal, procedure))
    return procedure


def may_know_applicant(principal: Principal, procedure: Procedure, standing: Standing) -> bool:
    """Who may know that an invited applicant exists: their scorers, the admins and the
    observer, never anyone with a conflict."""
    return not standing.conflicted and (
        can_manage_procedure(principal, procedure)
        or principal.role_in(procedure) == ProcedureRole.OBSERVER
        or can_open_applicant(principal, procedure, standing)
    )


def require_on_applicant(
    principal: Principal, procedure: Procedure, standing: Standing, rule: ApplicantRule
) -> None:
    """Those who may know the applicant exists get 403 where `rule` stops them; everyone
    else, and anyone with a conflict (an admin too), 404."""
    if rule(principal, procedure, standing):
        return
    require_visible(may_know_applicant(principal, procedure, standing))
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
    ids = [pid for pid, role in principal.roles.items() if role in roles]
    return select(Procedure).where(col(Procedure.id).in_(ids)).order_by(col(Procedure.reference))
