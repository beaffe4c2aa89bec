"""The individual score sheet: autosaved drafts, stale-device detection and the final submit.
The save is the hot path: it runs prebuilt SQL, not the ORM."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult, bindparam, insert, or_, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from app import forms, permissions
from app.applications.letter_round import INVITED
from app.applications.models import Application, Declaration
from app.applications.vocabulary import ApplicationStatus
from app.audit.service import actor_id, record
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import current_language
from app.i18n import gettext as _
from app.permissions import SCORING_ROLES
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.rubric import Rubric
from app.procedures.vocabulary import Phase
from app.scoring.models import MemberConflict, ReserveAssignment, ScoreSheet
from app.scoring.vocabulary import SheetStatus

if TYPE_CHECKING:
    from app.scoring.round import SheetFacts

MIN_REASON = 20
MAX_REASON = 4000
MAX_MOTIVATION = 5000
MAX_NOTE = 1000


class StaleSheet(Conflict):
    """A save from a device that has not seen the newest version of the sheet."""

    def __init__(self, message: str, sheet: ScoreSheet) -> None:
        super().__init__(message)
        self.sheet = sheet


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


def missing_before_submit(rubric: Rubric, sheet: SheetFacts | None) -> list[str]:
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
            "reasons_sha256": reasons_digest(sheet.reasons),
        },
    )
    _store(session, sheet)
    return sheet


def reasons_digest(texts: Mapping[str, str]) -> str:
    joined = "\n".join(f"{key}\t{texts[key]}" for key in sorted(texts))
    return hashlib.sha256(joined.encode("utf-8")).hexdigest()


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
