"""The committee's use cases: conflicts of interest, reserve members, the individual score
sheet (autosaved drafts, stale-device detection, a final submit), and the joint outcome.

Who scores an applicant: every scoring member (member or chair) of the procedure who is not
a reserve and has no conflict with them, plus the reserve members the admin assigned to
them. A conflict counts the same whether the applicant declared it when applying or the
member declared it later.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app import forms, permissions
from app.accounts.models import User
from app.applications.letter_round import INVITED
from app.applications.models import Application, ApplicationStatus, Declaration, Relation
from app.audit.service import actor_id, record
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import current_language
from app.i18n import gettext as _
from app.lottery.models import Draw, DrawStatus
from app.oversight.models import SignOff
from app.procedures.models import Phase, Procedure, ProcedureMember, ProcedureRole
from app.procedures.rubric import Rubric
from app.scoring import stats
from app.scoring.models import (
    JointOutcome,
    MemberConflict,
    ReserveAssignment,
    ScoreSheet,
    SheetStatus,
)

SCORING_ROLES = (ProcedureRole.MEMBER.value, ProcedureRole.CHAIR.value)
MIN_REASON = 20
MAX_REASON = 4000
MAX_MOTIVATION = 5000
MAX_NOTE = 1000


class StaleSheet(Conflict):
    """A save from a device that has not seen the newest version of the sheet."""

    def __init__(self, message: str, sheet: ScoreSheet) -> None:
        super().__init__(message)
        self.sheet = sheet


@dataclass
class Round:
    """Everything about the scoring of one procedure (or one applicant of it), read once."""

    procedure: Procedure
    rubric: Rubric
    applications: list[Application]
    members: dict[int, ProcedureMember]  # the scoring members (member, chair), by id
    users: dict[int, User]  # by user id
    # application id -> member id -> (relation, declared by "applicant" or "member")
    conflicts: dict[int, dict[int, tuple[str, str]]] = field(default_factory=dict)
    reserves: dict[int, set[int]] = field(default_factory=dict)
    sheets: dict[tuple[int, int], ScoreSheet] = field(default_factory=dict)
    outcomes: dict[int, JointOutcome] = field(default_factory=dict)

    def conflicted(self, application: Application, member: ProcedureMember) -> bool:
        assert application.id is not None and member.id is not None
        return member.id in self.conflicts.get(application.id, {})

    def scorers(self, application: Application) -> list[ProcedureMember]:
        assert application.id is not None
        assigned = self.reserves.get(application.id, set())
        return [
            member
            for member in self.members.values()
            if (not member.reserve or member.id in assigned)
            and not self.conflicted(application, member)
        ]

    def is_scorer(self, application: Application, member: ProcedureMember | None) -> bool:
        return member is not None and any(m.id == member.id for m in self.scorers(application))

    def has_quorum(self, application: Application) -> bool:
        return len(self.scorers(application)) >= self.procedure.quorum

    def sheet(self, application: Application, member: ProcedureMember) -> ScoreSheet | None:
        assert application.id is not None and member.id is not None
        return self.sheets.get((application.id, member.id))

    def submitted(self, application: Application) -> list[ScoreSheet]:
        """The submitted sheets of the applicant's current scorers, in member order."""
        sheets = [self.sheet(application, member) for member in self.scorers(application)]
        return [s for s in sheets if s is not None and s.status == SheetStatus.SUBMITTED]

    def all_in(self, application: Application) -> bool:
        return self.has_quorum(application) and len(self.submitted(application)) == len(
            self.scorers(application)
        )

    def progress(self, application: Application, member: ProcedureMember) -> str:
        sheet = self.sheet(application, member)
        if sheet is None or sheet.status == SheetStatus.VOID:
            return "not_started"
        return sheet.status

    def records_outcome(self, application: Application, member: ProcedureMember | None) -> bool:
        """The chair records the joint outcome; when the chair does not score this applicant
        (a conflict), any of the applicant's scorers does."""
        if member is None or not self.is_scorer(application, member):
            return False
        if member.role == ProcedureRole.CHAIR:
            return True
        return not any(m.role == ProcedureRole.CHAIR for m in self.scorers(application))

    def applications_of(self, member: ProcedureMember) -> list[Application]:
        return [a for a in self.applications if self.is_scorer(a, member)]

    def name(self, member: ProcedureMember) -> str:
        user = self.users.get(member.user_id)
        return user.name if user else ""


_RUBRICS: dict[str, Rubric] = {}


def round_closed(session: Session, procedure: Procedure) -> bool:
    """The observer signed the round off: outcomes and draws no longer change."""
    return (
        session.execute(select(col(SignOff.id)).where(SignOff.procedure_id == procedure.id)).first()
        is not None
    )


def fixing_draw(session: Session, procedure: Procedure) -> Draw | None:
    """The announced (or drawn) draw that fixes the ranking: while it stands, nobody's
    outcome or pluses change; it has to be voided, with a reason, first."""
    return session.execute(
        select(Draw)
        .where(
            Draw.procedure_id == procedure.id,
            col(Draw.status).in_([DrawStatus.ANNOUNCED, DrawStatus.DRAWN]),
        )
        .limit(1)
    ).scalar_one_or_none()


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


def rubric_of(procedure: Procedure) -> Rubric:
    """The pinned rubric; its content never changes under its hash, so it is parsed once."""
    if procedure.rubric_hash is None:
        raise Conflict(_("This procedure has no interview matrix yet."))
    rubric = _RUBRICS.get(procedure.rubric_hash)
    if rubric is None:
        assert procedure.rubric_content is not None
        rubric = _RUBRICS[procedure.rubric_hash] = Rubric.model_validate(procedure.rubric_content)
    return rubric


def member_of(
    session: Session, procedure: Procedure, user_id: int | None
) -> ProcedureMember | None:
    if user_id is None:
        return None
    return session.execute(
        select(ProcedureMember).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.user_id == user_id
        )
    ).scalar_one_or_none()


def load_round(session: Session, procedure: Procedure, only: Application | None = None) -> Round:
    """The scoring of `procedure`; with `only`, just what concerns that one applicant."""
    query = select(Application).where(
        Application.procedure_id == procedure.id,
        Application.status == ApplicationStatus.SUBMITTED,
        Application.letter_round_outcome == INVITED,
    )
    if only is not None:
        query = query.where(Application.id == only.id)
    applications = list(session.execute(query.order_by(col(Application.reference))).scalars())
    rows = session.execute(
        select(ProcedureMember, User)
        .join(User, col(User.id) == col(ProcedureMember.user_id))
        .where(
            ProcedureMember.procedure_id == procedure.id,
            col(ProcedureMember.role).in_(SCORING_ROLES),
        )
        .order_by(col(ProcedureMember.id))
    ).all()
    members = {member.id: member for member, _user in rows if member.id is not None}
    users = {user.id: user for _member, user in rows if user.id is not None}
    result = Round(procedure, rubric_of(procedure), applications, members, users)
    ids = [a.id for a in applications]
    if not ids:
        return result

    def scoped(model: Any) -> list[Any]:
        column = col(model.application_id)
        filter_ = column == ids[0] if only is not None else column.in_(ids)
        return list(session.execute(select(model).where(filter_)).scalars())

    for declaration in session.execute(
        select(Declaration).where(col(Declaration.application_id).in_(ids))
    ).scalars():
        result.conflicts.setdefault(declaration.application_id, {})[declaration.member_id] = (
            declaration.relation,
            "applicant",
        )
    for conflict in scoped(MemberConflict):
        result.conflicts.setdefault(conflict.application_id, {})[conflict.member_id] = (
            conflict.relation,
            "member",
        )
    for assignment in scoped(ReserveAssignment):
        result.reserves.setdefault(assignment.application_id, set()).add(assignment.member_id)
    for sheet in scoped(ScoreSheet):
        result.sheets[(sheet.application_id, sheet.member_id)] = sheet
    for outcome in scoped(JointOutcome):
        result.outcomes[outcome.application_id] = outcome
    return result


def invited_application(session: Session, procedure: Procedure, reference: str) -> Application:
    """An applicant invited to this procedure's interviews; anything else does not exist."""
    application = session.execute(
        select(Application).where(
            Application.reference == reference,
            Application.procedure_id == procedure.id,
            Application.status == ApplicationStatus.SUBMITTED,
            Application.letter_round_outcome == INVITED,
        )
    ).scalar_one_or_none()
    if application is None:
        raise NotFound(_("This page does not exist."))
    return application


# Conflicts of interest and reserve members -------------------------------------------------


def declare_conflict(
    session: Session,
    *,
    round_: Round,
    application: Application,
    member: ProcedureMember,
    relation: str,
    note: str,
) -> None:
    """The member knows this applicant: they leave the applicant's scoring for good."""
    procedure = round_.procedure
    if procedure.phase not in (Phase.LETTER_ROUND, Phase.INTERVIEWS, Phase.DELIBERATION):
        raise Conflict(_("Conflicts of interest are declared until the deliberation ends."))
    if relation not in {r.value for r in Relation}:
        raise InvalidInput(_("Choose how you know this applicant."), field="relation")
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise InvalidInput(
            _("The explanation is at most %(count)s characters.", count=MAX_NOTE), field="note"
        )
    if round_.conflicted(application, member):
        raise Conflict(_("You have already declared a conflict of interest with this applicant."))
    _add_conflict(session, round_, application, member, relation, note)
    session.commit()


def _add_conflict(
    session: Session,
    round_: Round,
    application: Application,
    member: ProcedureMember,
    relation: str,
    note: str,
    moment: datetime | None = None,
) -> None:
    """Record the member's conflict, void a sheet they started, and chain the effect on
    the quorum; the caller commits."""
    procedure = round_.procedure
    assert application.id is not None and member.id is not None and procedure.id is not None
    session.add(
        MemberConflict(
            procedure_id=procedure.id,
            application_id=application.id,
            member_id=member.id,
            relation=relation,
            note=note,
            declared_at=moment or utcnow(),
        )
    )
    sheet = round_.sheet(application, member)
    voided = sheet is not None and sheet.status != SheetStatus.VOID
    if sheet is not None and voided:
        sheet.status = SheetStatus.VOID
        sheet.updated_at = utcnow()
    round_.conflicts.setdefault(application.id, {})[member.id] = (relation, "member")
    scorers = len(round_.scorers(application))
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id),
        action="conflict.declared",
        subject=f"application:{application.reference}",
        data={
            "member": f"user:{member.user_id}",
            "relation": relation,
            "declared_by": "member",
            "sheet_voided": voided,
            "scorers": scorers,
            "quorum": procedure.quorum,
            "quorum_met": scorers >= procedure.quorum,
        },
    )


DECLARATION_PHASES = (Phase.LETTER_ROUND, Phase.INTERVIEWS, Phase.DELIBERATION)


def declarable(round_: Round, member: ProcedureMember) -> list[Application]:
    """The invited applicants a member names in their declaration of ties: all of them but
    those who already declared knowing the member (for whom the member no longer exists
    as a scorer). A reserve member declares for everyone, as they may be assigned anyone."""
    return [a for a in round_.applications if not round_.conflicted(a, member)]


def declare_ties(
    session: Session,
    *,
    round_: Round,
    member: ProcedureMember,
    has_ties: str,
    known: Mapping[str, str],
    letter_round_unpublished: int = 0,
) -> None:
    """A committee member declares, once per procedure, whom of the invited applicants they
    know: nobody, or the named applicants (each then a conflict of interest, as if declared
    one by one). The interviews do not start before every member has declared."""
    procedure = round_.procedure
    if procedure.phase not in DECLARATION_PHASES or letter_round_unpublished:
        raise Conflict(
            _(
                "Ties are declared once the letter-round result is published (then you see "
                "whom you would score) and until the deliberation ends."
            )
        )
    if member.ties_declared_at is not None:
        raise Conflict(
            _(
                "You have already declared your ties for this procedure. Did you find out "
                "later that you know an applicant? Declare a conflict of interest with them."
            )
        )
    if has_ties not in ("yes", "no"):
        raise InvalidInput(_("Choose whether you know any of these applicants."), field="has_ties")
    candidates = {a.reference: a for a in declarable(round_, member)}
    named = {reference: relation for reference, relation in known.items() if relation}
    unknown = sorted(set(named) - set(candidates))
    if unknown:
        raise InvalidInput(
            _("%(reference)s is not an applicant you can name here.", reference=unknown[0][:40]),
            field="has_ties",
        )
    relations = {r.value for r in Relation}
    for reference, relation in named.items():
        if relation not in relations:
            raise InvalidInput(
                _("Choose how you know %(reference)s.", reference=reference),
                field=f"tie-{reference}",
            )
    if has_ties == "no" and named:
        raise InvalidInput(
            _(
                "You chose that you know none of the applicants, but named %(references)s. "
                "Choose one or the other.",
                references=", ".join(sorted(named)),
            ),
            field="has_ties",
        )
    if has_ties == "yes" and not named:
        raise InvalidInput(
            _("Say for each applicant you know how you know them."), field="has_ties"
        )
    moment = utcnow()
    for reference in sorted(named):
        _add_conflict(session, round_, candidates[reference], member, named[reference], "", moment)
    member.ties = ""
    member.ties_declared_at = moment
    session.add(member)
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id),
        action="ties.declared",
        subject=f"user:{member.user_id}",
        data={"role": member.role, "has_ties": bool(named), "applicants": sorted(named)},
    )
    session.commit()


def named_in_declaration(session: Session, member: ProcedureMember) -> int:
    """How many applicants the member named in their declaration of ties (conflicts found
    later are declared one by one and do not count here)."""
    if member.ties_declared_at is None:
        return 0
    return len(
        session.execute(
            select(col(MemberConflict.id)).where(
                MemberConflict.member_id == member.id,
                col(MemberConflict.declared_at) <= member.ties_declared_at,
            )
        ).all()
    )


def reserve_candidates(round_: Round, application: Application) -> list[ProcedureMember]:
    """Reserve members who could be assigned: not yet scoring the applicant, not conflicted."""
    assert application.id is not None
    assigned = round_.reserves.get(application.id, set())
    return [
        member
        for member in round_.members.values()
        if member.reserve
        and member.id not in assigned
        and not round_.conflicted(application, member)
    ]


def assign_reserve(
    session: Session, *, actor: str, round_: Round, application: Application, member_id: int
) -> None:
    procedure = round_.procedure
    if procedure.phase not in (Phase.LETTER_ROUND, Phase.INTERVIEWS):
        raise Conflict(_("Reserve members are assigned before the deliberation starts."))
    member = round_.members.get(member_id)
    if member is None or not member.reserve:
        raise InvalidInput(_("Choose a reserve member of this committee."), field="member")
    if round_.conflicted(application, member):
        raise Conflict(_("This reserve member has a conflict of interest with this applicant."))
    assert application.id is not None and procedure.id is not None
    if member_id in round_.reserves.get(application.id, set()):
        raise Conflict(_("This reserve member already scores this applicant."))
    session.add(
        ReserveAssignment(
            procedure_id=procedure.id, application_id=application.id, member_id=member_id
        )
    )
    round_.reserves.setdefault(application.id, set()).add(member_id)
    scorers = len(round_.scorers(application))
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="reserve.assigned",
        subject=f"application:{application.reference}",
        data={
            "member": f"user:{member.user_id}",
            "scorers": scorers,
            "quorum": procedure.quorum,
            "quorum_met": scorers >= procedure.quorum,
        },
    )
    session.commit()


# The score sheet -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SheetInput:
    """What a save sends: per criterion a level (empty: none yet) and a reason. A criterion
    that is not sent stays as it was."""

    levels: Mapping[str, str]
    reasons: Mapping[str, str]
    version: str


def _parse(rubric: Rubric, given: SheetInput) -> tuple[dict[str, int | None], dict[str, str]]:
    language = current_language()
    for criterion_id in [*given.levels, *given.reasons]:
        if rubric.criterion(criterion_id) is None:
            raise InvalidInput(
                _(
                    "'%(criterion)s' is not a criterion of this procedure's matrix.",
                    criterion=criterion_id[:40],
                ),
                field=f"level-{criterion_id[:40]}",
            )
    levels: dict[str, int | None] = {}
    for criterion_id, raw in given.levels.items():
        criterion = rubric.criterion(criterion_id)
        assert criterion is not None
        raw = raw.strip()
        if not raw:
            levels[criterion_id] = None
            continue
        level = forms.parse_whole_number(raw, minimum=1, maximum=rubric.max_level)
        if level is None:
            raise InvalidInput(
                _(
                    "The score for %(criterion)s must be a whole number from 1 to %(max)s.",
                    criterion=criterion.name.get(language),
                    max=rubric.max_level,
                ),
                field=f"level-{criterion_id}",
            )
        levels[criterion_id] = level
    reasons: dict[str, str] = {}
    for criterion_id, text in given.reasons.items():
        criterion = rubric.criterion(criterion_id)
        assert criterion is not None
        text = text.strip()
        if len(text) > MAX_REASON:
            raise InvalidInput(
                _(
                    "The reason for %(criterion)s is at most %(count)s characters.",
                    criterion=criterion.name.get(language),
                    count=MAX_REASON,
                ),
                field=f"reason-{criterion_id}",
            )
        reasons[criterion_id] = text
    return levels, reasons


def _version(raw: str) -> int:
    version = forms.parse_whole_number(raw)
    if version is None:
        raise InvalidInput(_("The sheet's version is missing; reload the page."), field="version")
    return version


def _conflict_exists(application_id: Any, member_id: Any) -> Any:
    """Whether the member has a conflict with the applicant: their own declaration or the
    applicant's. The ids are values, bound parameters or (correlated) columns."""
    declared = select(col(Declaration.id)).where(
        col(Declaration.application_id) == application_id,
        col(Declaration.member_id) == member_id,
    )
    own = select(col(MemberConflict.id)).where(
        col(MemberConflict.application_id) == application_id,
        col(MemberConflict.member_id) == member_id,
    )
    return or_(declared.exists(), own.exists())


# Prebuilt, for the autosave. The sheet's table, not the ORM class: a save reads one row and
# writes it back, so it skips the ORM's loading and unit of work.
_SHEETS = ScoreSheet.__table__  # type: ignore[attr-defined]
_PROCEDURES = Procedure.__table__  # type: ignore[attr-defined]
_PHASE_AND_CONFLICT = sa_select(
    col(Procedure.phase),
    _conflict_exists(bindparam("application_id"), bindparam("member_id")),
).where(col(Procedure.id) == bindparam("procedure_id"))
# The member's sheet, locked for the transaction, with the procedure's phase and whether a
# conflict was declared in the meantime: what decides a save, in one query once the sheet
# exists (PostgreSQL locks only the sheet's row).
_OWN_SHEET = (
    sa_select(
        *_SHEETS.c,
        sa_select(_PROCEDURES.c.phase)
        .where(_PROCEDURES.c.id == _SHEETS.c.procedure_id)
        .scalar_subquery()
        .label("procedure_phase"),
        _conflict_exists(_SHEETS.c.application_id, _SHEETS.c.member_id).label("conflicted"),
    )
    .where(
        _SHEETS.c.application_id == bindparam("application_id"),
        _SHEETS.c.member_id == bindparam("member_id"),
    )
    .with_for_update(of=_SHEETS)
)
_INSERT_SHEET = insert(_SHEETS)
_UPDATE_SHEET = (
    update(_SHEETS)
    .where(_SHEETS.c.id == bindparam("sheet_id"))
    .values(
        status=bindparam("new_status"),
        levels=bindparam("new_levels"),
        reasons=bindparam("new_reasons"),
        version=bindparam("new_version"),
        updated_at=bindparam("new_updated_at"),
        submitted_at=bindparam("new_submitted_at"),
    )
)


def _own_open_sheet(
    session: Session,
    procedure: Procedure,
    application: Application,
    member: ProcedureMember,
    version: int,
) -> ScoreSheet | None:
    """The member's sheet (a copy of the row, locked for this transaction), if it may still
    change at `version`; None before the first save.

    Everything that decides is read again inside the write transaction (the phase, a
    conflict declared in the meantime, the stored version), so two devices saving at the
    same moment cannot both pass the version check."""
    assert application.id is not None and member.id is not None
    keys = {"application_id": application.id, "member_id": member.id}
    row = session.execute(_OWN_SHEET, keys).first()
    sheet: ScoreSheet | None = None
    if row is None:
        phase, conflicted = session.execute(
            _PHASE_AND_CONFLICT, {"procedure_id": procedure.id, **keys}
        ).one()
    else:
        values = row._mapping
        phase, conflicted = values["procedure_phase"], values["conflicted"]
        sheet = ScoreSheet(**{column.name: values[column.name] for column in _SHEETS.c})
    if phase != Phase.INTERVIEWS:
        raise Conflict(_("Score sheets can be filled in only while the interviews run."))
    if conflicted:
        raise NotFound(_("This page does not exist."))
    if sheet is not None and sheet.status == SheetStatus.SUBMITTED:
        raise Conflict(_("You have submitted this sheet; a submitted sheet is final."))
    current = sheet.version if sheet is not None else 0
    if version != current:
        assert sheet is not None  # a version other than 0 only exists for a stored sheet
        raise _stale(sheet, version)
    return sheet


def _stale(stored: ScoreSheet, version: int) -> StaleSheet:
    return StaleSheet(
        _(
            "This sheet was changed on another device or tab (version %(theirs)s; this "
            "page had version %(ours)s). The newer version is shown; your change that "
            "was not saved is listed, so you can enter it again.",
            theirs=stored.version,
            ours=version,
        ),
        stored,
    )


def _store(session: Session, sheet: ScoreSheet) -> None:
    """Write the sheet's new state and commit (the caller has appended to the chain).

    Two devices creating the same member's first sheet at once: one wins, the other is told
    its page is stale (on PostgreSQL the unique key says so; SQLite queues them)."""
    try:
        if sheet.id is None:
            values = {column.name: getattr(sheet, column.name) for column in _SHEETS.c}
            del values["id"]
            inserted = cast(CursorResult[Any], session.execute(_INSERT_SHEET, values))
            key = inserted.inserted_primary_key
            assert key is not None
            sheet.id = key[0]
        else:
            session.execute(
                _UPDATE_SHEET,
                {
                    "sheet_id": sheet.id,
                    "new_status": sheet.status,
                    "new_levels": sheet.levels,
                    "new_reasons": sheet.reasons,
                    "new_version": sheet.version,
                    "new_updated_at": sheet.updated_at,
                    "new_submitted_at": sheet.submitted_at,
                },
            )
        session.commit()
    except IntegrityError:
        session.rollback()
        stored = session.execute(
            select(ScoreSheet).where(
                ScoreSheet.application_id == sheet.application_id,
                ScoreSheet.member_id == sheet.member_id,
            )
        ).scalar_one_or_none()
        if stored is None:
            raise
        raise _stale(stored, 0) from None


def check_owner(member: ProcedureMember | None, member_id: int) -> ProcedureMember:
    """A member saves only their own sheet: the sheet's member id must be theirs."""
    if member is None or member.id != member_id:
        raise Forbidden(
            _("This score sheet belongs to another committee member; you can only fill in yours.")
        )
    return member


def save_sheet(
    session: Session,
    *,
    procedure: Procedure,
    rubric: Rubric,
    application: Application,
    member: ProcedureMember,
    given: SheetInput,
    now: datetime | None = None,
) -> ScoreSheet:
    """Save a draft: any subset of the criteria. Returns the stored sheet (its new version).

    The caller has checked that the member scores this applicant; this takes the write
    lock only for what it changes."""
    version = _version(given.version)
    levels, reasons = _parse(rubric, given)
    sheet = _own_open_sheet(session, procedure, application, member, version)
    assert application.id is not None and member.id is not None and procedure.id is not None
    if sheet is None:
        sheet = ScoreSheet(
            procedure_id=procedure.id, application_id=application.id, member_id=member.id
        )
    new_levels = dict(sheet.levels)
    for criterion_id, level in levels.items():
        if level is None:
            new_levels.pop(criterion_id, None)
        else:
            new_levels[criterion_id] = level
    new_reasons = {**sheet.reasons, **reasons}
    new_reasons = {key: text for key, text in new_reasons.items() if text}
    changed = sorted(
        key
        for key in {*new_levels, *sheet.levels, *new_reasons, *sheet.reasons}
        if new_levels.get(key) != sheet.levels.get(key)
        or new_reasons.get(key) != sheet.reasons.get(key)
    )
    if not changed and sheet.id is not None:
        session.rollback()
        return sheet
    sheet.levels, sheet.reasons = new_levels, new_reasons
    sheet.version += 1
    sheet.updated_at = now or utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id),
        action="sheet.saved",
        subject=f"application:{application.reference}",
        data={"version": sheet.version, "changed": changed},
    )
    _store(session, sheet)
    return sheet


def missing_before_submit(rubric: Rubric, sheet: ScoreSheet | None) -> list[str]:
    """What still has to be filled in, one message per criterion."""
    language = current_language()
    problems = []
    for criterion in rubric.criteria:
        name = criterion.name.get(language)
        level = sheet.levels.get(criterion.id) if sheet else None
        reason = sheet.reasons.get(criterion.id, "") if sheet else ""
        if level is None:
            problems.append(_("Choose a score for %(criterion)s.", criterion=name))
        if len(reason) < MIN_REASON:
            problems.append(
                _(
                    "Write a reason of at least %(count)s characters for %(criterion)s: what "
                    "did the applicant tell or show (situation, task, action, result, "
                    "reflection)?",
                    count=MIN_REASON,
                    criterion=name,
                )
            )
    return problems


def submit_sheet(
    session: Session,
    *,
    procedure: Procedure,
    rubric: Rubric,
    application: Application,
    member: ProcedureMember,
    version: str,
    confirmed: bool,
    now: datetime | None = None,
) -> ScoreSheet:
    sheet = _own_open_sheet(session, procedure, application, member, _version(version))
    problems = missing_before_submit(rubric, sheet)
    if problems:
        raise InvalidInput(" ".join(problems))
    if not confirmed:
        raise InvalidInput(
            _("Confirm that you want to submit: a submitted sheet is final."), field="confirm"
        )
    assert sheet is not None
    moment = now or utcnow()
    sheet.status = SheetStatus.SUBMITTED
    sheet.submitted_at = moment
    sheet.updated_at = moment
    sheet.version += 1
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id),
        action="sheet.submitted",
        subject=f"application:{application.reference}",
        data={
            "levels": dict(sorted(sheet.levels.items())),
            # The reasons are personal data that erasure must reach: the chain keeps their hash.
            "reasons_sha256": _digest(sheet.reasons),
        },
    )
    _store(session, sheet)
    return sheet


def _digest(texts: Mapping[str, str]) -> str:
    joined = "\n".join(f"{key}\t{texts[key]}" for key in sorted(texts))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


# Deliberation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class CriterionView:
    id: str
    name: str
    summary: stats.Summary | None
    counts: list[int]


def deliberation_figures(round_: Round, application: Application) -> list[CriterionView]:
    language = current_language()
    sheets = round_.submitted(application)
    result = []
    for criterion in round_.rubric.criteria:
        levels = [s.levels[criterion.id] for s in sheets if criterion.id in s.levels]
        result.append(
            CriterionView(
                criterion.id,
                criterion.name.get(language),
                stats.summarise(levels),
                stats.distribution(levels, round_.rubric.max_level),
            )
        )
    return result


@dataclass(frozen=True)
class RoundCriterion:
    id: str
    name: str
    counts: list[int]
    agreement: stats.Agreement


def round_figures(round_: Round, hidden: frozenset[int] = frozenset()) -> list[RoundCriterion]:
    """Per criterion, over every applicant whose sheets are all in (except `hidden`: the
    applicants the viewer has a conflict with): the distribution and Krippendorff's alpha."""
    language = current_language()
    complete = [a for a in round_.applications if a.id not in hidden and round_.all_in(a)]
    result = []
    for criterion in round_.rubric.criteria:
        ratings: dict[str, dict[str, int]] = {}
        levels: list[int] = []
        for application in complete:
            by_member = {
                str(sheet.member_id): sheet.levels[criterion.id]
                for sheet in round_.submitted(application)
                if criterion.id in sheet.levels
            }
            ratings[str(application.id)] = by_member
            levels += by_member.values()
        result.append(
            RoundCriterion(
                criterion.id,
                criterion.name.get(language),
                stats.distribution(levels, round_.rubric.max_level),
                stats.agreement(ratings, round_.rubric.max_level),
            )
        )
    return result


def departures(
    round_: Round, application: Application, levels: Mapping[str, int]
) -> dict[str, tuple[int, int]]:
    """The criteria whose joint level lies outside the range of the members' levels, with
    that range: the joint outcome then contradicts every sheet and must say why."""
    result = {}
    for figure in deliberation_figures(round_, application):
        level = levels.get(figure.id)
        if figure.summary is None or level is None:
            continue
        if not figure.summary.low <= level <= figure.summary.high:
            result[figure.id] = (figure.summary.low, figure.summary.high)
    return result


def joint_reasons(
    round_: Round,
    application: Application,
    levels: Mapping[str, int],
    given: Mapping[str, str],
) -> dict[str, str]:
    """The committee's reason per criterion, which the applicant reads beside the level.
    Where the joint level lies outside the members' range the refusal says so first, so
    the chair knows the reason must explain why the committee departed from the sheets."""
    language = current_language()
    unknown = sorted(set(given) - {c.id for c in round_.rubric.criteria})
    if unknown:
        raise InvalidInput(
            _(
                "'%(criterion)s' is not a criterion of this procedure's matrix.",
                criterion=unknown[0][:40],
            )
        )
    outside = departures(round_, application, levels)
    reasons: dict[str, str] = {}
    for criterion in round_.rubric.criteria:
        name = criterion.name.get(language)
        reason = given.get(criterion.id, "").strip()
        if len(reason) > MAX_REASON:
            raise InvalidInput(
                _(
                    "The reason for %(criterion)s is at most %(count)s characters.",
                    criterion=name,
                    count=MAX_REASON,
                ),
                field=f"reason-{criterion.id}",
            )
        if len(reason) < MIN_REASON and criterion.id in outside:
            low, high = outside[criterion.id]
            raise InvalidInput(
                _(
                    "%(criterion)s: the joint level %(level)s lies outside the members' "
                    "levels (%(low)s to %(high)s). Write in the reason for %(criterion)s why "
                    "the committee decided otherwise (at least %(count)s characters).",
                    criterion=name,
                    level=levels[criterion.id],
                    low=low,
                    high=high,
                    count=MIN_REASON,
                ),
                field=f"reason-{criterion.id}",
            )
        reasons[criterion.id] = reason
    for criterion in round_.rubric.criteria:
        if len(reasons[criterion.id]) < MIN_REASON:
            raise InvalidInput(
                _(
                    "Write the committee's reason for %(criterion)s (at least %(count)s "
                    "characters); the applicant reads it beside the score.",
                    criterion=criterion.name.get(language),
                    count=MIN_REASON,
                ),
                field=f"reason-{criterion.id}",
            )
    return reasons


def suitable_under_rule(rubric: Rubric, levels: Mapping[str, int]) -> bool:
    return all(levels[c.id] >= rubric.suitability.minimum_level for c in rubric.criteria)


def record_outcome(
    session: Session,
    *,
    round_: Round,
    application: Application,
    member: ProcedureMember,
    levels: Mapping[str, str],
    suitable: str,
    motivation: str,
    pluses: list[str] | None = None,
    published_pluses: list[int] | None = None,
    reasons: Mapping[str, str] | None = None,
) -> JointOutcome:
    """The chair records what the committee agreed: a level per criterion with its reason,
    suitable or not (as the published suitability rule says), and a motivation the
    applicant will read. A level outside the members' range must say why (joint_reasons)."""
    procedure, rubric = round_.procedure, round_.rubric
    language = current_language()
    if procedure.phase not in (Phase.INTERVIEWS, Phase.DELIBERATION):
        raise Conflict(_("The joint outcome is recorded during the interviews and deliberation."))
    if round_closed(session, procedure):
        raise Conflict(_("The observer has signed this round off; it is closed."))
    refuse_if_draw_fixes(session, procedure)
    if not round_.all_in(application):
        raise Conflict(
            _(
                "Not every sheet is in: %(done)s of %(total)s submitted.",
                done=len(round_.submitted(application)),
                total=len(round_.scorers(application)),
            )
        )
    unknown = sorted(set(levels) - {c.id for c in rubric.criteria})
    if unknown:
        raise InvalidInput(
            _(
                "'%(criterion)s' is not a criterion of this procedure's matrix.",
                criterion=unknown[0][:40],
            )
        )
    agreed: dict[str, int] = {}
    for criterion in rubric.criteria:
        level = forms.parse_whole_number(
            levels.get(criterion.id, ""), minimum=1, maximum=rubric.max_level
        )
        if level is None:
            raise InvalidInput(
                _(
                    "Choose the committee's score for %(criterion)s (1 to %(max)s).",
                    criterion=criterion.name.get(language),
                    max=rubric.max_level,
                ),
                field=f"level-{criterion.id}",
            )
        agreed[criterion.id] = level
    why = joint_reasons(round_, application, agreed, reasons or {})
    if suitable not in ("yes", "no"):
        raise InvalidInput(_("Choose suitable or not suitable."), field="suitable")
    by_rule = suitable_under_rule(rubric, agreed)
    if (suitable == "yes") != by_rule:
        raise InvalidInput(
            _(
                "The published rule says: %(rule)s With these scores the applicant is %(verdict)s.",
                rule=rubric.suitability.description.get(language),
                verdict=_("suitable") if by_rule else _("not suitable"),
            ),
            field="suitable",
        )
    motivation = motivation.strip()
    if len(motivation) < MIN_REASON:
        raise InvalidInput(
            _(
                "Write a motivation of at least %(count)s characters; the applicant reads it.",
                count=MIN_REASON,
            ),
            field="motivation",
        )
    if len(motivation) > MAX_MOTIVATION:
        raise InvalidInput(
            _("The motivation is at most %(count)s characters.", count=MAX_MOTIVATION),
            field="motivation",
        )
    allowed = set(published_pluses or [])
    parsed = [forms.parse_whole_number(p, minimum=1) for p in (pluses or [])]
    chosen = sorted({p for p in parsed if p is not None})
    if len(chosen) != len(set(pluses or [])) or not set(chosen) <= allowed:
        raise InvalidInput(_("Choose only pluses this procedure published."), field="pluses")
    assert application.id is not None and member.id is not None and procedure.id is not None
    outcome = round_.outcomes.get(application.id)
    revised = outcome is not None
    if outcome is None:
        outcome = JointOutcome(
            procedure_id=procedure.id,
            application_id=application.id,
            suitable=by_rule,
            motivation=motivation,
            recorded_by=member.id,
        )
        session.add(outcome)
        round_.outcomes[application.id] = outcome
    outcome.levels, outcome.suitable, outcome.motivation = agreed, by_rule, motivation
    outcome.pluses = chosen
    outcome.reasons = why
    outcome.recorded_by, outcome.recorded_at = member.id, utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id),
        action="outcome.revised" if revised else "outcome.recorded",
        subject=f"application:{application.reference}",
        data={
            "levels": dict(sorted(agreed.items())),
            "suitable": by_rule,
            "pluses": chosen,
            "motivation_sha256": hashlib.sha256(motivation.encode("utf-8")).hexdigest(),
            # Like the sheets' reasons: personal data that erasure must reach, so a hash.
            "reasons_sha256": _digest(why),
            "outside_range": sorted(departures(round_, application, agreed)),
        },
    )
    # Asked again holding the chain's head: a draw announced meanwhile still wins.
    refuse_if_draw_fixes(session, procedure)
    session.commit()
    return outcome


# Facts for the life cycle and the admin's overview -------------------------------------------


@dataclass(frozen=True)
class RoundFacts:
    short_of_quorum: tuple[str, ...]  # application references
    sheets_missing: tuple[str, ...]
    outcomes_missing: tuple[str, ...]


def round_facts(session: Session, procedure: Procedure) -> RoundFacts:
    if procedure.rubric_content is None:
        return RoundFacts((), (), ())
    round_ = load_round(session, procedure)
    return RoundFacts(
        tuple(a.reference for a in round_.applications if not round_.has_quorum(a)),
        tuple(a.reference for a in round_.applications if not round_.all_in(a)),
        tuple(a.reference for a in round_.applications if a.id not in round_.outcomes),
    )


def has_sheets(session: Session, member: ProcedureMember) -> bool:
    return (
        session.execute(select(col(ScoreSheet.id)).where(ScoreSheet.member_id == member.id)).first()
        is not None
    )


def member_progress(round_: Round, member: ProcedureMember) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for application in round_.applications_of(member):
        counts[round_.progress(application, member)] += 1
    return dict(counts)


# Prebuilt (an autosave runs it every few seconds per member): the procedure, the invited
# application and the asker's membership, with whether that member has a conflict with the
# applicant and whether they are assigned to them as a reserve.
_SHEET_TARGET = (
    sa_select(  # SQLModel's select types at most four columns
        Procedure,
        Application,
        ProcedureMember,
        _conflict_exists(col(Application.id), col(ProcedureMember.id)).label("conflicted"),
        select(col(ReserveAssignment.id))
        .where(
            col(ReserveAssignment.application_id) == col(Application.id),
            col(ReserveAssignment.member_id) == col(ProcedureMember.id),
        )
        .exists()
        .label("assigned"),
    )
    # The pinned rubric's content is large and parsed once per process (rubric_of).
    .options(defer(Procedure.rubric_content), defer(Application.answers))  # type: ignore[arg-type]
    .outerjoin(
        Application,
        (col(Application.procedure_id) == col(Procedure.id))
        & (col(Application.reference) == bindparam("application_reference"))
        & (col(Application.status) == ApplicationStatus.SUBMITTED)
        & (col(Application.letter_round_outcome) == INVITED),
    )
    .outerjoin(
        ProcedureMember,
        (col(ProcedureMember.procedure_id) == col(Procedure.id))
        & (col(ProcedureMember.user_id) == bindparam("user_id")),
    )
    .where(col(Procedure.reference) == bindparam("reference"))
)


@dataclass(frozen=True)
class SheetTarget:
    procedure: Procedure
    application: Application | None
    member: ProcedureMember | None
    # Enough to decide whether the member may change their own sheet.
    standing: permissions.Standing


def sheet_target(
    session: Session, reference: str, application_reference: str, user_id: int | None
) -> SheetTarget:
    """In one query: the procedure, the invited application, the asker's membership and
    their standing towards the applicant (do they score them, do they have a conflict)."""
    row = session.execute(
        _SHEET_TARGET,
        {"reference": reference, "application_reference": application_reference,
         "user_id": user_id},
    ).first()  # fmt: skip
    if row is None:
        raise NotFound(_("This page does not exist."))
    procedure, application, member, conflicted, assigned = row
    standing = permissions.Standing()
    if application is not None and member is not None and member.role in SCORING_ROLES:
        scorer = (assigned or not member.reserve) and not conflicted
        standing = permissions.Standing(scorer=scorer, conflicted=bool(conflicted))
    return SheetTarget(procedure, application, member, standing)


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


def conflicted_with(session: Session, member: ProcedureMember | None) -> frozenset[int]:
    """Every application of the procedure this membership has a conflict with, by the
    applicant's declaration or the person's own, whether or not the applicant was invited."""
    if member is None:
        return frozenset()
    declared = select(col(Declaration.application_id)).where(Declaration.member_id == member.id)
    own = select(col(MemberConflict.application_id)).where(MemberConflict.member_id == member.id)
    return frozenset(session.execute(declared.union(own)).scalars())


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


def sheet_status_label(status: str) -> str:
    labels = {
        "not_started": _("Not started"),
        SheetStatus.DRAFT: _("Draft"),
        SheetStatus.SUBMITTED: _("Submitted"),
        SheetStatus.VOID: _("Void (conflict of interest)"),
    }
    return labels.get(status, status)


def agreement_label(verdict: str) -> str:
    labels = {
        "good": _("Reliable"),
        "tentative": _("Tentative"),
        "poor": _("Low: discuss how the anchors are read"),
        "unknown": _("Not enough data yet"),
    }
    return labels.get(verdict, verdict)
