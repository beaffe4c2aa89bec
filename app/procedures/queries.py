"""Looking up organisations, procedures and their parts: the reads every phase shares."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

from sqlalchemy import ColumnElement, and_, case, func
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.applications.models import Application, Declaration
from app.config import ROOT
from app.db import utcnow
from app.errors import Conflict, NotFound
from app.i18n import gettext as _
from app.lottery.models import Draw
from app.lottery.vocabulary import DrawStatus
from app.procedures import lifecycle, rubric
from app.procedures.models import (
    Correction,
    Institution,
    Organisation,
    OrganisationAdmin,
    Plus,
    Procedure,
    ProcedureMember,
    Requirement,
)
from app.procedures.rubric import Rubric
from app.procedures.vocabulary import Phase, RankingRule
from app.scoring.models import (
    MemberConflict,
    ScoreSheet,
)

REFERENCE_PATTERN = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FUNCTIONS = ("opleider", "staff", "aios", "nurse", "other")
RUBRICS_DIR = ROOT / "rubrics"
RANKING_RULES = tuple(rule.value for rule in RankingRule)


def get_procedure(session: Session, reference: str) -> Procedure:
    procedure = session.execute(
        select(Procedure).where(Procedure.reference == reference)
    ).scalar_one_or_none()
    if procedure is None:
        raise NotFound(_("This page does not exist."))
    return procedure


def procedure_by_id(session: Session, procedure_id: int | None) -> Procedure | None:
    return session.get(Procedure, procedure_id) if procedure_id is not None else None


def memberships(session: Session, user_id: int | None) -> dict[int, ProcedureMember]:
    """Every role the user holds, by procedure id."""
    rows = session.execute(select(ProcedureMember).where(ProcedureMember.user_id == user_id))
    return {member.procedure_id: member for member in rows.scalars()}


def get_organisation(session: Session, slug: str) -> Organisation:
    organisation = session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise NotFound(_("This page does not exist."))
    return organisation


def has_role(session: Session, procedure: Procedure, role: str) -> bool:
    return (
        session.execute(
            select(col(ProcedureMember.id)).where(
                ProcedureMember.procedure_id == procedure.id, ProcedureMember.role == role
            )
        ).first()
        is not None
    )


def organisation_admin_ids(session: Session, procedure: Procedure) -> list[int]:
    return list(
        session.execute(
            select(col(OrganisationAdmin.user_id)).where(
                OrganisationAdmin.organisation_id == procedure.organisation_id
            )
        ).scalars()
    )


def members(session: Session, procedure: Procedure) -> list[tuple[ProcedureMember, User]]:
    rows = session.execute(
        select(ProcedureMember, User)
        .join(User, col(User.id) == col(ProcedureMember.user_id))
        .where(ProcedureMember.procedure_id == procedure.id)
        .order_by(col(ProcedureMember.role), col(User.name))
    ).all()
    return [(member, user) for member, user in rows]


# The editor -------------------------------------------------------------------------------


def is_frozen(session: Session, procedure: Procedure) -> bool:
    """Once the first application exists, criteria, rubric, weights, pluses and method are
    fixed; only a dated, justified public correction can be added."""
    return (
        session.execute(
            select(col(Application.id)).where(Application.procedure_id == procedure.id).limit(1)
        ).first()
        is not None
    )


# After publication: every change a reader relies on is a public correction ------------------


def is_published(procedure: Procedure) -> bool:
    return procedure.phase != Phase.DRAFT


def requirements(session: Session, procedure: Procedure) -> list[Requirement]:
    return list(
        session.execute(
            select(Requirement)
            .where(Requirement.procedure_id == procedure.id)
            .order_by(col(Requirement.kind).desc(), col(Requirement.position), col(Requirement.id))
        ).scalars()
    )


def institutions(session: Session, procedure: Procedure) -> list[Institution]:
    return list(
        session.execute(
            select(Institution)
            .where(Institution.procedure_id == procedure.id)
            .order_by(col(Institution.position), col(Institution.id))
        ).scalars()
    )


def organisation_of(session: Session, procedure: Procedure) -> Organisation | None:
    return session.get(Organisation, procedure.organisation_id)


def is_cluster(session: Session, procedure: Procedure) -> bool:
    """Two institutions or more: the suitable candidates state preferences and a placement
    assigns them (app/placement), instead of a cut at the last place."""
    count = session.execute(
        select(func.count())
        .select_from(Institution)
        .where(Institution.procedure_id == procedure.id)
    ).scalar_one()
    return int(count) >= 2


def pluses(session: Session, procedure: Procedure) -> list[Plus]:
    return list(
        session.execute(
            select(Plus).where(Plus.procedure_id == procedure.id).order_by(col(Plus.id))
        ).scalars()
    )


def corrections(session: Session, procedure: Procedure) -> list[Correction]:
    return list(
        session.execute(
            select(Correction)
            .where(Correction.procedure_id == procedure.id)
            .order_by(col(Correction.created_at))
        ).scalars()
    )


def available_rubrics(directory: Path = RUBRICS_DIR) -> list[rubric.Rubric]:
    return [rubric.load(path) for path in rubric.available(directory).values()]


def pinned_rubric(procedure: Procedure) -> rubric.Rubric | None:
    """The pinned rubric, or None before one is pinned."""
    return rubric_of(procedure) if procedure.rubric_hash is not None else None


def find_member(session: Session, procedure: Procedure, member_id: int) -> ProcedureMember:
    member = session.get(ProcedureMember, member_id)
    if member is None or member.procedure_id != procedure.id:
        raise NotFound(_("This person has no role in this procedure (any more)."))
    return member


# The clock: opening and closing at the published times --------------------------------------


def phase_now(procedure: Procedure, now: datetime | None = None) -> Phase:
    """The phase as every page shows it: the published times count even before the
    scheduled job has taken the step."""
    return lifecycle.phase_at(procedure, now or utcnow())


def takes_applications(procedure: Procedure, now: datetime | None = None) -> bool:
    return lifecycle.takes_applications(procedure, now or utcnow())


def phase_now_column(now: datetime) -> ColumnElement[str]:
    """`lifecycle.phase_at` as SQL, for the catalogue's filter and order."""
    closed = and_(
        col(Procedure.closes_at).is_not(None),
        col(Procedure.closes_at) <= now,
    )
    opened = and_(col(Procedure.opens_at).is_not(None), col(Procedure.opens_at) <= now)
    return case(
        (and_(col(Procedure.phase) == Phase.OPEN, closed), Phase.CLOSED.value),
        (and_(col(Procedure.phase) == Phase.PUBLISHED, opened, closed), Phase.CLOSED.value),
        (and_(col(Procedure.phase) == Phase.PUBLISHED, opened), Phase.OPEN.value),
        else_=col(Procedure.phase),
    )


_RUBRICS: dict[str, Rubric] = {}


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


def has_sheets(session: Session, member: ProcedureMember) -> bool:
    return (
        session.execute(select(col(ScoreSheet.id)).where(ScoreSheet.member_id == member.id)).first()
        is not None
    )


def conflicted_with(session: Session, member: ProcedureMember | None) -> frozenset[int]:
    """Every application of the procedure this membership has a conflict with, by the
    applicant's declaration or the person's own, whether or not the applicant was invited."""
    if member is None:
        return frozenset()
    declared = select(col(Declaration.application_id)).where(Declaration.member_id == member.id)
    own = select(col(MemberConflict.application_id)).where(MemberConflict.member_id == member.id)
    return frozenset(session.execute(declared.union(own)).scalars())


def lock_procedure(session: Session, procedure: Procedure) -> None:
    """Lock the procedure's row and load its stored phase again (FOR UPDATE is a no-op on
    SQLite, where the write transaction already excludes every other writer)."""
    session.execute(
        select(Procedure)
        .where(Procedure.id == procedure.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
