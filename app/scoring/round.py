"""The round: one procedure's invited applicants, its scorers, their sheets, conflicts,
reserves and joint outcomes, loaded once per request and read by every committee page.

Who scores an applicant: every scoring member (member or chair) of the procedure who is not
a reserve and has no conflict with them (with panels: of the panel the applicant booked),
plus the reserve members the admin assigned to them. A conflict counts the same whether the
applicant declared it when applying or the member declared it later."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import orjson
from sqlalchemy import Text, bindparam, cast, literal, union_all
from sqlalchemy import select as sa_select
from sqlalchemy.orm import load_only
from sqlalchemy.sql.selectable import CompoundSelect
from sqlmodel import Session, col, select

from app import permissions
from app.accounts.models import User
from app.applications.letter_round import INVITED
from app.applications.models import Application, Declaration
from app.applications.vocabulary import ApplicationStatus
from app.errors import Conflict
from app.i18n import gettext as _
from app.interviews.models import Booking, InterviewSlot, Panel, PanelMember
from app.oversight.models import SignOff
from app.permissions import SCORING_ROLES
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.queries import conflicted_with, fixing_draw, member_of, rubric_of
from app.procedures.rubric import Rubric
from app.procedures.vocabulary import ProcedureRole
from app.scoring.models import JointOutcome, MemberConflict, ReserveAssignment, ScoreSheet
from app.scoring.vocabulary import SheetStatus


class ApplicationFacts(Protocol):
    """What the round's pages read of an application: an Application, or its row as
    load_round reads it for the whole procedure (no ORM object per applicant, and not its
    letter-round answers, which no round page shows)."""

    @property
    def id(self) -> int | None: ...
    @property
    def procedure_id(self) -> int: ...
    @property
    def applicant_id(self) -> int: ...
    @property
    def reference(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def institution(self) -> str: ...
    @property
    def submitted_at(self) -> datetime | None: ...
    @property
    def withdrawn_at(self) -> datetime | None: ...
    @property
    def letter_round_outcome(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class ApplicationRow:
    """An invited application as read for the whole round, read only."""

    id: int
    procedure_id: int
    applicant_id: int
    reference: str
    status: str
    institution: str
    submitted_at: datetime | None
    withdrawn_at: datetime | None
    letter_round_outcome: str | None


_APPLICATION_COLUMNS = (
    col(Application.id),
    col(Application.procedure_id),
    col(Application.applicant_id),
    col(Application.reference),
    col(Application.status),
    col(Application.institution),
    col(Application.submitted_at),
    col(Application.withdrawn_at),
    col(Application.letter_round_outcome),
)


class SheetFacts(Protocol):
    """What the round's pages read of a sheet: a ScoreSheet, or its row as load_round reads
    it for the whole procedure (no ORM object per sheet)."""

    @property
    def id(self) -> int | None: ...
    @property
    def application_id(self) -> int: ...
    @property
    def member_id(self) -> int: ...
    @property
    def status(self) -> str: ...
    @property
    def levels(self) -> dict[str, int]: ...
    @property
    def reasons(self) -> dict[str, str]: ...
    @property
    def version(self) -> int: ...


class OutcomeFacts(Protocol):
    """What the round's pages read of a joint outcome (a JointOutcome or its row)."""

    @property
    def id(self) -> int | None: ...
    @property
    def application_id(self) -> int: ...
    @property
    def levels(self) -> dict[str, int]: ...
    @property
    def suitable(self) -> bool: ...
    @property
    def pluses(self) -> list[int]: ...
    @property
    def reasons(self) -> dict[str, str]: ...
    @property
    def motivation(self) -> str: ...
    @property
    def recorded_by(self) -> int: ...
    @property
    def recorded_at(self) -> datetime: ...


def parsed(value: Any) -> Any:
    """A JSON column read as text, parsed (orjson: several times faster than json, which
    counts for the tens of thousands of sheets of a national round)."""
    return orjson.loads(value) if isinstance(value, str) else value


@dataclass(slots=True)
class SheetRow:
    """A score sheet as read for the whole round, read only: many times cheaper to load than
    the ORM object (a national round has tens of thousands of sheets). Its levels and
    reasons stay JSON until they are read: the lists read only a sheet's status, and the
    reasons are long texts most pages never show."""

    id: int
    application_id: int
    member_id: int
    status: str
    levels_json: str | dict[str, int]
    version: int
    # Not read with the round (most of its bytes): read_reasons reads them for the
    # applicants a page shows.
    reasons_json: str | dict[str, str] | None = None

    @property
    def levels(self) -> dict[str, int]:
        self.levels_json = levels = parsed(self.levels_json)
        return levels

    @property
    def reasons(self) -> dict[str, str]:
        if self.reasons_json is None:
            raise LookupError(f"sheet {self.id}: its reasons were not read (read_reasons)")
        self.reasons_json = reasons = parsed(self.reasons_json)
        return reasons


@dataclass(slots=True)
class OutcomeRow:
    """A joint outcome as read for the whole round, read only; its JSON columns parsed when
    first read, as a sheet's."""

    id: int
    application_id: int
    levels_json: str | dict[str, int]
    suitable: bool
    pluses_json: str | list[int]
    reasons_json: str | dict[str, str]
    motivation: str
    recorded_by: int
    recorded_at: datetime

    @property
    def levels(self) -> dict[str, int]:
        self.levels_json = levels = parsed(self.levels_json)
        return levels

    @property
    def pluses(self) -> list[int]:
        self.pluses_json = pluses = parsed(self.pluses_json)
        return pluses

    @property
    def reasons(self) -> dict[str, str]:
        self.reasons_json = reasons = parsed(self.reasons_json)
        return reasons


_SHEET_COLUMNS = (
    col(ScoreSheet.id),
    col(ScoreSheet.application_id),
    col(ScoreSheet.member_id),
    col(ScoreSheet.status),
    cast(col(ScoreSheet.levels), Text),
    col(ScoreSheet.version),
)
_OUTCOME_COLUMNS = (
    col(JointOutcome.id),
    col(JointOutcome.application_id),
    cast(col(JointOutcome.levels), Text),
    col(JointOutcome.suitable),
    cast(col(JointOutcome.pluses), Text),
    cast(col(JointOutcome.reasons), Text),
    col(JointOutcome.motivation),
    col(JointOutcome.recorded_by),
    col(JointOutcome.recorded_at),
)


@dataclass
class Round:
    """Everything about the scoring of one procedure (or one applicant of it), read once.
    Loaded for one applicant, its sheets and outcome are the ORM objects (the pages that
    change them); for the whole procedure, read-only rows."""

    procedure: Procedure
    rubric: Rubric
    applications: list[ApplicationFacts]
    members: dict[int, ProcedureMember]  # the scoring members (member, chair), by id
    users: dict[int, User]  # by user id
    # application id -> member id -> (relation, declared by "applicant" or "member")
    conflicts: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)
    reserves: dict[int, set[int]] = field(default_factory=dict)
    sheets: dict[tuple[int, int], SheetFacts] = field(default_factory=dict)
    outcomes: dict[int, OutcomeFacts] = field(default_factory=dict)
    # Interview days (app/interviews): with panels, a member scores the applicants booked
    # with their own panel only. Member id -> panel id; application id -> booked panel id.
    # application id -> the applicant's name, read with the applications
    applicant_names: dict[int, str] = field(default_factory=dict)
    has_panels: bool = False
    panel_of_member: dict[int, int] = field(default_factory=dict)
    panel_of_application: dict[int, int] = field(default_factory=dict)
    # application id -> its scorers, worked out once (a page asks for them several times
    # per applicant); `changed` forgets them when a conflict or a reserve is added.
    _scorers: dict[int, list[ProcedureMember]] = field(default_factory=dict, repr=False)
    # Without panels, an applicant with no conflict and no reserve is scored by every
    # scoring member who is not a reserve: one list for all of them (most of a round).
    _everyone: list[ProcedureMember] | None = field(default=None, repr=False)
    # The ids of those lists of scorers: by application id, 0 for `_everyone`.
    _ids: dict[int, list[int]] = field(default_factory=dict, repr=False)

    def changed(self, application: ApplicationFacts) -> None:
        assert application.id is not None
        self._scorers.pop(application.id, None)
        self._ids.pop(application.id, None)

    def on_panel(self, application: ApplicationFacts, member: ProcedureMember) -> bool:
        """Without panels everyone is; with them, the member sits on the panel the applicant
        booked (an applicant without a booking has no panel yet)."""
        if not self.has_panels:
            return True
        assert application.id is not None and member.id is not None
        booked = self.panel_of_application.get(application.id)
        return booked is not None and self.panel_of_member.get(member.id) == booked

    def conflicted(self, application: ApplicationFacts, member: ProcedureMember) -> bool:
        assert application.id is not None and member.id is not None
        return member.id in self.conflicts.get(application.id, {})

    def scorers(self, application: ApplicationFacts) -> list[ProcedureMember]:
        assert application.id is not None
        known = self._scorers.get(application.id)
        if known is not None:
            return known
        if (
            not self.has_panels
            and application.id not in self.conflicts
            and application.id not in self.reserves
        ):
            if self._everyone is None:
                self._everyone = [m for m in self.members.values() if not m.reserve]
            return self._everyone
        assigned = self.reserves.get(application.id, set())
        known = self._scorers[application.id] = [
            member
            for member in self.members.values()
            if (
                member.id in assigned or (not member.reserve and self.on_panel(application, member))
            )
            and not self.conflicted(application, member)
        ]
        return known

    def _scorer_ids(self, application: ApplicationFacts) -> list[int]:
        """The ids of scorers(application), worked out once per list of scorers (reading
        an ORM object's attribute is slow, and a page asks for every applicant's sheets)."""
        scorers = self.scorers(application)
        key = 0 if scorers is self._everyone else application.id
        assert key is not None
        ids = self._ids.get(key)
        if ids is None:
            ids = self._ids[key] = [m.id for m in scorers if m.id is not None]
        return ids

    def is_scorer(self, application: ApplicationFacts, member: ProcedureMember | None) -> bool:
        return member is not None and member.id in self._scorer_ids(application)

    def has_quorum(self, application: ApplicationFacts) -> bool:
        return len(self.scorers(application)) >= self.procedure.quorum

    def sheet(self, application: ApplicationFacts, member: ProcedureMember) -> SheetFacts | None:
        assert application.id is not None and member.id is not None
        return self.sheets.get((application.id, member.id))

    def submitted(self, application: ApplicationFacts) -> list[SheetFacts]:
        """The submitted sheets of the applicant's current scorers, in member order."""
        known, at = self.sheets, application.id
        assert at is not None
        sheets = [known.get((at, member_id)) for member_id in self._scorer_ids(application)]
        return [s for s in sheets if s is not None and s.status == SheetStatus.SUBMITTED]

    def all_in(self, application: ApplicationFacts) -> bool:
        return self.all_sheets(application) is not None

    def all_sheets(self, application: ApplicationFacts) -> list[SheetFacts] | None:
        """The submitted sheets when every scorer's is in and there is a quorum, else None."""
        sheets = self.submitted(application)
        complete = self.has_quorum(application) and len(sheets) == len(self.scorers(application))
        return sheets if complete else None

    def progress(self, application: ApplicationFacts, member: ProcedureMember) -> str:
        sheet = self.sheet(application, member)
        if sheet is None or sheet.status == SheetStatus.VOID:
            return "not_started"
        return sheet.status

    def records_outcome(
        self, application: ApplicationFacts, member: ProcedureMember | None
    ) -> bool:
        """The chair records the joint outcome; when the chair does not score this applicant
        (a conflict), any of the applicant's scorers does."""
        if member is None or not self.is_scorer(application, member):
            return False
        if member.role == ProcedureRole.CHAIR:
            return True
        return not any(m.role == ProcedureRole.CHAIR for m in self.scorers(application))

    def applications_of(self, member: ProcedureMember) -> list[ApplicationFacts]:
        return [a for a in self.applications if self.is_scorer(a, member)]

    def name(self, member: ProcedureMember) -> str:
        user = self.users.get(member.user_id)
        return user.name if user else ""


def is_signed_off(session: Session, procedure: Procedure) -> bool:
    """The observer signed the round off: outcomes and draws no longer change."""
    return (
        session.execute(select(col(SignOff.id)).where(SignOff.procedure_id == procedure.id)).first()
        is not None
    )


def refuse_if_draw_fixes(session: Session, procedure: Procedure) -> None:
    fixed = fixing_draw(session, procedure)
    if fixed is not None:
        raise Conflict(
            _(
                "Draw %(draw)s has been announced: the outcomes and pluses of everyone in the "
                "ranking are fixed. To change them, an admin first voids the draw with a "
                "public reason; then the committee deliberates again and a new draw is held.",
                draw=fixed.draw_id,
            )
        )


def load_round(session: Session, procedure: Procedure, only: Application | None = None) -> Round:
    """The scoring of `procedure`; with `only`, just what concerns that one applicant.
    For the whole procedure the applications, sheets and outcomes are read-only rows, and
    each table is read in one query scoped to the invited applicants by a subquery (no
    list of thousands of ids to bind)."""
    rows = session.execute(
        select(ProcedureMember, User)
        .join(User, col(User.id) == col(ProcedureMember.user_id))
        .where(
            ProcedureMember.procedure_id == procedure.id,
            col(ProcedureMember.role).in_(sorted(SCORING_ROLES)),
        )
        .order_by(col(ProcedureMember.id))
    ).all()
    members = {member.id: member for member, _user in rows if member.id is not None}
    users = {user.id: user for _member, user in rows if user.id is not None}
    read = (
        sa_select(*_APPLICATION_COLUMNS, col(User.name))
        if only is None
        else sa_select(Application, col(User.name)).where(col(Application.id) == only.id)
    )
    found = session.execute(
        read.outerjoin(User, col(User.id) == col(Application.applicant_id))
        .where(*_invited(procedure))
        .order_by(col(Application.reference))
    ).all()
    applications: list[ApplicationFacts] = (
        [ApplicationRow(*row[:-1]) for row in found] if only is None else [row[0] for row in found]
    )
    result = Round(procedure, rubric_of(procedure), applications, members, users)
    result.applicant_names = {
        a.id: row[-1] or "" for a, row in zip(applications, found, strict=True) if a.id is not None
    }
    if not applications:
        return result
    one = applications[0].id if only is not None else None
    invited = sa_select(col(Application.id)).where(*_invited(procedure))
    seated = session.execute(
        select(PanelMember.member_id, PanelMember.panel_id)
        .join(Panel, col(Panel.id) == col(PanelMember.panel_id))
        .where(Panel.procedure_id == procedure.id)
    ).all()
    result.has_panels = bool(seated)
    if seated:
        result.panel_of_member = {int(m): int(p) for m, p in seated}
        booked = select(Booking.application_id, InterviewSlot.panel_id).join(
            InterviewSlot, col(InterviewSlot.id) == col(Booking.slot_id)
        )
        booked = booked.where(
            col(Booking.application_id) == one
            if one is not None
            else Booking.procedure_id == procedure.id
        )
        result.panel_of_application = {int(a): int(p) for a, p in session.execute(booked).all()}

    def scoped(*columns: Any) -> list[Any]:
        """`columns` of a table whose second column (the first with one) is the
        application's id, for the round's applicants."""
        on = columns[1] if len(columns) > 1 else columns[0]
        filter_ = on == one if one is not None else on.in_(invited)
        return list(session.execute(sa_select(*columns).where(filter_)).all())

    for _id, application_id, member_id, relation in scoped(
        col(Declaration.id),
        col(Declaration.application_id),
        col(Declaration.member_id),
        col(Declaration.relation),
    ):
        result.conflicts.setdefault(application_id, {})[member_id] = (relation, "applicant")
    for _id, application_id, member_id, relation in scoped(
        col(MemberConflict.id),
        col(MemberConflict.application_id),
        col(MemberConflict.member_id),
        col(MemberConflict.relation),
    ):
        result.conflicts.setdefault(application_id, {})[member_id] = (relation, "member")
    for _id, application_id, member_id in scoped(
        col(ReserveAssignment.id),
        col(ReserveAssignment.application_id),
        col(ReserveAssignment.member_id),
    ):
        result.reserves.setdefault(application_id, set()).add(member_id)
    if one is not None:
        # One applicant: the ORM objects, which the conflict and outcome forms change.
        for sheet in session.execute(
            select(ScoreSheet).where(col(ScoreSheet.application_id) == one)
        ).scalars():
            result.sheets[(sheet.application_id, sheet.member_id)] = sheet
        for outcome in session.execute(
            select(JointOutcome).where(col(JointOutcome.application_id) == one)
        ).scalars():
            result.outcomes[outcome.application_id] = outcome
        return result
    for row in scoped(*_SHEET_COLUMNS):
        result.sheets[(row[1], row[2])] = SheetRow(*row)
    for row in scoped(*_OUTCOME_COLUMNS):
        result.outcomes[row[1]] = OutcomeRow(*row)
    return result


# One applicant's round in four queries (the pages of one applicant: the score sheet, the
# deliberation, the conflict form), built to equal load_round(only=...): the application
# with its applicant's account, joint outcome, booked panel and whether the procedure has
# panels; the scoring members with their accounts and panels; the conflicts and reserve
# assignments; the sheets.
_ONE_APPLICATION = (
    sa_select(
        Application,
        User,
        JointOutcome,
        select(InterviewSlot.panel_id)
        .join(Booking, col(Booking.slot_id) == col(InterviewSlot.id))
        .where(col(Booking.application_id) == col(Application.id))
        .scalar_subquery()
        .label("booked_panel"),
        select(col(PanelMember.id))
        .join(Panel, col(Panel.id) == col(PanelMember.panel_id))
        .where(col(Panel.procedure_id) == bindparam("procedure_id"))
        .exists()
        .label("has_panels"),
    )
    .outerjoin(User, col(User.id) == col(Application.applicant_id))
    .outerjoin(JointOutcome, col(JointOutcome.application_id) == col(Application.id))
    .where(
        col(Application.procedure_id) == bindparam("procedure_id"),
        col(Application.reference) == bindparam("reference"),
        col(Application.status) == ApplicationStatus.SUBMITTED,
        col(Application.letter_round_outcome) == INVITED,
    )
)
_SCORING_MEMBERS = (
    sa_select(
        ProcedureMember,
        User,
        select(PanelMember.panel_id)
        .where(col(PanelMember.member_id) == col(ProcedureMember.id))
        .scalar_subquery()
        .label("panel"),
    )
    .join(User, col(User.id) == col(ProcedureMember.user_id))
    .where(
        col(ProcedureMember.procedure_id) == bindparam("procedure_id"),
        col(ProcedureMember.role).in_(sorted(SCORING_ROLES)),
    )
    .order_by(col(ProcedureMember.id))
    # The round names its members (Round.name); the rest of an account loads if asked for.
    .options(load_only(User.id, User.name))  # type: ignore[arg-type]
)
# Sorted by kind, so a member's own declaration overrides the applicant's, as in load_round.
_TIES: CompoundSelect = union_all(
    sa_select(
        col(Declaration.member_id).label("member_id"),
        col(Declaration.relation).label("relation"),
        literal("applicant").label("kind"),
    ).where(col(Declaration.application_id) == bindparam("application_id")),
    sa_select(col(MemberConflict.member_id), col(MemberConflict.relation), literal("member")).where(
        col(MemberConflict.application_id) == bindparam("application_id")
    ),
    sa_select(col(ReserveAssignment.member_id), literal(""), literal("reserve")).where(
        col(ReserveAssignment.application_id) == bindparam("application_id")
    ),
).order_by("kind")
_SHEETS_OF = select(ScoreSheet).where(col(ScoreSheet.application_id) == bindparam("application_id"))


def load_applicant_round(
    session: Session, procedure: Procedure, reference: str
) -> tuple[Application, User | None, Round] | None:
    """The invited application `reference`, its applicant's account and its round, the
    same as load_round(only=application); None when no such applicant is invited."""
    found = session.execute(
        _ONE_APPLICATION, {"procedure_id": procedure.id, "reference": reference}
    ).first()
    if found is None:
        return None
    application, applicant, outcome, booked_panel, has_panels = found
    members: dict[int, ProcedureMember] = {}
    users: dict[int, User] = {}
    panel_of_member: dict[int, int] = {}
    for member, user, panel in session.execute(_SCORING_MEMBERS, {"procedure_id": procedure.id}):
        assert member.id is not None and user.id is not None
        members[member.id], users[user.id] = member, user
        if panel is not None:
            panel_of_member[member.id] = int(panel)
    result = Round(procedure, rubric_of(procedure), [application], members, users)
    if application.id is not None:
        result.applicant_names = {application.id: applicant.name if applicant else ""}
    result.has_panels = bool(has_panels)
    if has_panels:
        result.panel_of_member = panel_of_member
        if booked_panel is not None:
            result.panel_of_application = {application.id: int(booked_panel)}
    keys = {"application_id": application.id}
    for member_id, relation, kind in session.execute(_TIES, keys):
        if kind == "reserve":
            result.reserves.setdefault(application.id, set()).add(member_id)
        else:
            result.conflicts.setdefault(application.id, {})[member_id] = (relation, kind)
    for sheet in session.execute(_SHEETS_OF, keys).scalars():
        result.sheets[(sheet.application_id, sheet.member_id)] = sheet
    if outcome is not None:
        result.outcomes[application.id] = outcome
    return application, applicant, result


# Facts for the life cycle and the admin's overview -------------------------------------------


@dataclass(frozen=True)
class RoundFacts:
    short_of_quorum: tuple[str, ...]  # application references
    sheets_missing: tuple[str, ...]
    outcomes_missing: tuple[str, ...]


def round_facts(session: Session, procedure: Procedure) -> RoundFacts:
    if procedure.rubric_content is None:
        return RoundFacts((), (), ())
    return round_facts_of(load_round(session, procedure))


def _invited(procedure: Procedure) -> Any:
    return (
        col(Application.procedure_id) == procedure.id,
        col(Application.status) == ApplicationStatus.SUBMITTED,
        col(Application.letter_round_outcome) == INVITED,
    )


def read_reasons(
    session: Session, round_: Round, applications: Sequence[ApplicationFacts] | None = None
) -> None:
    """Read the reasons of the sheets of `applications` (all of the round's when None)
    into the round, where load_round left them out: a page shows the reasons of one page
    of applicants, and they are most of the bytes of a round's sheets."""
    unread = {
        sheet.id: sheet
        for sheet in round_.sheets.values()
        if isinstance(sheet, SheetRow) and sheet.reasons_json is None
    }
    if not unread:
        return
    ids = None if applications is None else [a.id for a in applications]
    if ids == []:
        return
    query = sa_select(col(ScoreSheet.id), cast(col(ScoreSheet.reasons), Text)).where(
        col(ScoreSheet.procedure_id) == round_.procedure.id
    )
    if ids is not None:
        query = query.where(col(ScoreSheet.application_id).in_(ids))
    for sheet_id, reasons in session.execute(query).all():
        if (sheet := unread.get(sheet_id)) is not None:
            sheet.reasons_json = reasons


def invited_applications(session: Session, procedure: Procedure) -> list[Application]:
    """The invited applications as ORM objects, in the round's order: for code that changes
    them one by one (the demo's committee), where the round holds read-only rows."""
    return list(
        session.execute(
            select(Application).where(*_invited(procedure)).order_by(col(Application.reference))
        ).scalars()
    )


def invited_outcomes(procedure: Procedure) -> Any:
    """The query of every invited applicant's reference with its joint outcome's levels,
    verdict and pluses, by reference: what the ranking reads, without the round. The levels
    and pluses come as JSON text (parse them with `parsed`)."""
    return (
        sa_select(
            col(Application.reference),
            cast(col(JointOutcome.levels), Text),
            col(JointOutcome.suitable),
            cast(col(JointOutcome.pluses), Text),
        )
        .join(JointOutcome, col(JointOutcome.application_id) == col(Application.id))
        .where(*_invited(procedure))
        .order_by(col(Application.reference))
    )


def outcomes_missing(session: Session, procedure: Procedure) -> tuple[str, ...]:
    """The references of the invited applicants without a joint outcome (round_facts'
    outcomes_missing, in one query)."""
    if procedure.rubric_content is None:
        return ()
    return tuple(
        session.execute(
            sa_select(col(Application.reference))
            .outerjoin(JointOutcome, col(JointOutcome.application_id) == col(Application.id))
            .where(*_invited(procedure), col(JointOutcome.id).is_(None))
            .order_by(col(Application.reference))
        ).scalars()
    )


def round_facts_of(round_: Round) -> RoundFacts:
    # With panels, an applicant not yet booked has no scorers until they book (they still
    # may, while the interviews run): that is no quorum problem yet; their missing sheets
    # keep the deliberation from starting all the same.
    unbooked = {
        a.id
        for a in round_.applications
        if round_.has_panels and a.id not in round_.panel_of_application
    }
    return RoundFacts(
        tuple(
            a.reference
            for a in round_.applications
            if not round_.has_quorum(a) and a.id not in unbooked
        ),
        tuple(a.reference for a in round_.applications if not round_.all_in(a)),
        tuple(a.reference for a in round_.applications if a.id not in round_.outcomes),
    )


def scoring_status(round_: Round, application: Application) -> str:
    """Where the applicant's scoring stands, as the admin's overview filters it."""
    if application.id in round_.outcomes:
        return "outcome"
    if not round_.has_quorum(application):
        return "no_quorum"
    return "all_in" if round_.all_in(application) else "scoring"


def scoring_statuses() -> list[tuple[str, str]]:
    """scoring_status's values with their labels, in the order of the work."""
    return [
        ("no_quorum", _("Quorum not met")),
        ("scoring", _("Sheets still open")),
        ("all_in", _("All sheets in")),
        ("outcome", _("Outcome recorded")),
    ]


def member_progress(round_: Round, member: ProcedureMember) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for application in round_.applications_of(member):
        counts[round_.progress(application, member)] += 1
    return dict(counts)


def standing(
    round_: Round, application: Application, member: ProcedureMember | None
) -> permissions.Standing:
    if member is None:
        return permissions.Standing()
    sheet = round_.sheet(application, member)
    return permissions.Standing(
        scorer=round_.is_scorer(application, member),
        conflicted=round_.conflicted(application, member),
        own_sheet_submitted=sheet is not None and sheet.status == SheetStatus.SUBMITTED,
        all_in=round_.all_in(application),
        records_outcome=round_.records_outcome(application, member),
    )


def view_of(
    session: Session, principal: permissions.Principal, procedure: Procedure, round_: Round | None
) -> permissions.RoundView:
    """What the procedure-wide pages and exports show this asker (see permissions)."""
    member = member_of(session, procedure, principal.user_id)
    if member is None:
        return permissions.EVERYTHING
    open_sheets = (
        [
            a.id
            for a in round_.applications_of(member)
            if a.id is not None and round_.progress(a, member) != SheetStatus.SUBMITTED
        ]
        if round_ is not None
        else []
    )
    return permissions.round_view(
        principal, procedure, conflicted_with(session, member), open_sheets
    )


def hidden_references(
    session: Session, procedure: Procedure, view: permissions.RoundView
) -> frozenset[str]:
    """The references of the applications `view` leaves out."""
    if not view.hidden:
        return frozenset()
    return frozenset(
        session.execute(
            select(Application.reference).where(
                Application.procedure_id == procedure.id, col(Application.id).in_(view.hidden)
            )
        ).scalars()
    )


def standing_towards(
    session: Session, procedure: Procedure, application: Application, user_id: int | None
) -> permissions.Standing:
    """The standing of a user towards any application of the procedure: a conflict counts
    from the declaration on; scoring only once the applicant is invited."""
    member = member_of(session, procedure, user_id)
    if member is None:
        return permissions.Standing()
    conflicted = permissions.Standing(conflicted=application.id in conflicted_with(session, member))
    if procedure.rubric_content is None:
        return conflicted
    round_ = load_round(session, procedure, only=application)
    if not round_.applications:
        return conflicted
    return standing(round_, application, member)
