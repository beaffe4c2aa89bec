"""Conflicts of interest declared by members, ties declared before the interviews, and
reserve members."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session, col, select

from app.applications.models import Application
from app.applications.vocabulary import Relation
from app.audit.service import actor_id, record
from app.db import utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import gettext as _
from app.procedures.models import ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring.models import MemberConflict, ReserveAssignment, ScoreSheet
from app.scoring.round import ApplicationFacts, Round
from app.scoring.sheets import MAX_NOTE
from app.scoring.vocabulary import SheetStatus

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
    add_conflict(session, round_, application, member, relation, note)
    session.commit()


def add_conflict(
    session: Session,
    round_: Round,
    application: ApplicationFacts,
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
    known = round_.sheet(application, member)
    voided = known is not None and known.status != SheetStatus.VOID
    if known is not None and voided:
        # A whole round holds read-only rows: the sheet itself is looked up to void it.
        sheet = known if isinstance(known, ScoreSheet) else session.get(ScoreSheet, known.id)
        assert sheet is not None
        sheet.status = SheetStatus.VOID
        sheet.updated_at = utcnow()
        round_.sheets[(application.id, member.id)] = sheet
    round_.conflicts.setdefault(application.id, {})[member.id] = (relation, "member")
    round_.changed(application)
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


def declarable(round_: Round, member: ProcedureMember) -> list[ApplicationFacts]:
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
        add_conflict(session, round_, candidates[reference], member, named[reference], "", moment)
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
    round_.changed(application)
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
