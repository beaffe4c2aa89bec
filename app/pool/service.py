"""The national pool of assessors: a person's own record (kept, corrected, exported and
removed by them), records added by a WV admin, the admins' search, and composing a
procedure's committee from it.

The pool holds what a committee member's public entry says of them (function, specialty,
institution, region, training) and, as contact details, the account's e-mail address."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, or_
from sqlmodel import Session, col, select

from app import forms
from app.accounts.models import User
from app.audit.service import PLATFORM_CHAIN, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.pool.models import PoolEntry
from app.procedures import committee
from app.procedures.labels import function_label
from app.procedures.models import Procedure
from app.procedures.organisations import Invitation, invite_user, send_invitation
from app.procedures.queries import FUNCTIONS
from app.procedures.vocabulary import ProcedureRole

# The medical specialties a pool member can belong to (the KNMG's register, in Dutch, as
# the procedures name them).
SPECIALTIES = (
    "Anesthesiologie",
    "Cardiologie",
    "Cardiothoracale chirurgie",
    "Dermatologie en venereologie",
    "Heelkunde",
    "Huisartsgeneeskunde",
    "Interne geneeskunde",
    "Keel-, neus- en oorheelkunde",
    "Kindergeneeskunde",
    "Klinische chemie",
    "Klinische genetica",
    "Klinische geriatrie",
    "Longziekten en tuberculose",
    "Maag-, darm- en leverziekten",
    "Medische microbiologie",
    "Mondziekten, kaak- en aangezichtschirurgie",
    "Neurochirurgie",
    "Neurologie",
    "Nucleaire geneeskunde",
    "Obstetrie en gynaecologie",
    "Oogheelkunde",
    "Orthopedie",
    "Pathologie",
    "Plastische chirurgie",
    "Psychiatrie",
    "Radiologie",
    "Radiotherapie",
    "Reumatologie",
    "Revalidatiegeneeskunde",
    "Spoedeisende geneeskunde",
    "Urologie",
)
# The education and training regions (OOR) of the university medical centres.
REGIONS = (
    "Noord-Nederland",
    "Oost-Nederland",
    "Utrecht",
    "Amsterdam",
    "Leiden",
    "Zuidwest-Nederland",
    "Zuidoost-Nederland",
)
# How many search results a page shows at most; the count says how many there were.
SEARCH_LIMIT = 100


@dataclass(frozen=True)
class Record:
    """What a pool record says, as typed into its form."""

    function: str
    specialty: str
    institution: str
    region: str
    starr_course: str = ""
    starr_on: str = ""
    bias_course: str = ""
    bias_on: str = ""


@dataclass(frozen=True)
class Query:
    function: str = ""
    specialty: str = ""
    region: str = ""
    trained: bool = False
    text: str = ""


@dataclass(frozen=True)
class Found:
    entry: PoolEntry
    user: User


def entry_of(session: Session, user_id: int | None) -> PoolEntry | None:
    if user_id is None:
        return None
    return session.execute(
        select(PoolEntry).where(PoolEntry.user_id == user_id)
    ).scalar_one_or_none()


def _course(course: str, day: str, field: str, today: date) -> tuple[str, date | None]:
    course = " ".join(course.split())
    if len(course) > 200:
        raise InvalidInput(_("A course name has at most 200 characters."), field=f"{field}_course")
    found = forms.dates([day], f"{field}_on")
    on = found[0] if found else None
    if on is not None and on > today:
        raise InvalidInput(
            _("The day a course was completed cannot lie in the future."), field=f"{field}_on"
        )
    if on is not None and not course:
        raise InvalidInput(_("Name the course you completed on that day."), field=f"{field}_course")
    if course and on is None:
        raise InvalidInput(_("Enter the day you completed this course."), field=f"{field}_on")
    return course, on


def _checked(record: Record) -> dict[str, Any]:
    if record.function not in FUNCTIONS:
        raise InvalidInput(_("Choose a function."), field="function")
    if record.specialty not in SPECIALTIES:
        raise InvalidInput(_("Choose a specialty from the list."), field="specialty")
    if record.region not in REGIONS:
        raise InvalidInput(_("Choose a region from the list."), field="region")
    institution = " ".join(record.institution.split())
    if not institution or len(institution) > 200:
        raise InvalidInput(
            _("Enter the institution where you work (at most 200 characters)."),
            field="institution",
        )
    today = utcnow().date()
    starr_course, starr_on = _course(record.starr_course, record.starr_on, "starr", today)
    bias_course, bias_on = _course(record.bias_course, record.bias_on, "bias", today)
    return {
        "function": record.function,
        "specialty": record.specialty,
        "institution": institution,
        "region": record.region,
        "starr_course": starr_course,
        "starr_on": starr_on,
        "bias_course": bias_course,
        "bias_on": bias_on,
    }


def _chained(entry: PoolEntry) -> dict[str, Any]:
    """What the chain keeps of a record (its body is private, see the audit spec)."""
    return {
        "function": entry.function,
        "specialty": entry.specialty,
        "institution": entry.institution,
        "region": entry.region,
        "starr_on": entry.starr_on.isoformat() if entry.starr_on else None,
        "bias_on": entry.bias_on.isoformat() if entry.bias_on else None,
    }


def save_own(session: Session, *, actor: str, user: User, form: Record) -> PoolEntry:
    """Join the pool, or correct one's own record."""
    values = _checked(form)
    assert user.id is not None
    entry = entry_of(session, user.id)
    action = "pool.corrected"
    if entry is None:
        entry = PoolEntry(user_id=user.id, **values)
        action = "pool.joined"
    else:
        for key, value in values.items():
            setattr(entry, key, value)
        entry.updated_at = utcnow()
    session.add(entry)
    session.flush()
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor,
        action=action,
        subject=f"user:{user.id}",
        data=_chained(entry),
    )
    session.commit()
    return entry


def leave(session: Session, *, actor: str, user: User) -> None:
    """Remove one's own record. Committees composed from it keep the person as invited."""
    entry = entry_of(session, user.id)
    if entry is None:
        raise NotFound(_("You are not in the pool."))
    session.delete(entry)
    record(
        session, chain=PLATFORM_CHAIN, actor=actor, action="pool.left", subject=f"user:{user.id}"
    )
    session.commit()


def add_person(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    email: str,
    name: str,
    form: Record,
) -> Invitation:
    """A WV admin adds someone to the pool; they are told, and may correct or remove it."""
    values = _checked(form)
    if not email.strip():
        raise InvalidInput(_("Enter the e-mail address of the person you add."), field="email")
    invitation = invite_user(session, email, name)
    user = invitation.user
    assert user.id is not None
    if entry_of(session, user.id) is not None:
        raise Conflict(_("%(name)s is in the pool already.", name=user.name), field="email")
    entry = PoolEntry(user_id=user.id, added_by=actor, **values)
    session.add(entry)
    session.flush()
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor,
        action="pool.added",
        subject=f"user:{user.id}",
        data=_chained(entry),
    )
    send_invitation(
        session,
        settings,
        invitation,
        what=_(
            "%(function)s in the national pool of assessors (you can read, correct or remove "
            "your record at %(link)s)",
            function=function_label(entry.function),
            link=f"{settings.base_url}/pool",
        ),
    )
    session.commit()
    return invitation


def search(session: Session, query: Query) -> tuple[list[Found], int]:
    """The records that match, by name, and how many matched in all."""
    statement = select(PoolEntry, User).join(User, col(User.id) == col(PoolEntry.user_id))
    if query.function:
        statement = statement.where(PoolEntry.function == query.function)
    if query.specialty:
        statement = statement.where(PoolEntry.specialty == query.specialty)
    if query.region:
        statement = statement.where(PoolEntry.region == query.region)
    if query.trained:
        statement = statement.where(
            col(PoolEntry.starr_on).is_not(None), col(PoolEntry.bias_on).is_not(None)
        )
    text = " ".join(query.text.split())[:200]
    if text:
        pattern = f"%{text.lower()}%"
        statement = statement.where(
            or_(
                func.lower(col(User.name)).like(pattern),
                func.lower(col(PoolEntry.institution)).like(pattern),
            )
        )
    total = session.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    rows = session.execute(
        statement.order_by(col(User.name), col(PoolEntry.id)).limit(SEARCH_LIMIT)
    ).all()
    return [Found(entry, user) for entry, user in rows], int(total)


def compose(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    entry_id: int,
    role: str,
    reserve: bool = False,
    justification: str = "",
) -> Invitation:
    """Invite a pool member onto the procedure's committee with their pool record's function
    and training; the committee's own rules (one chair, never an applicant) apply."""
    if role not in (ProcedureRole.MEMBER, ProcedureRole.CHAIR):
        raise InvalidInput(_("Choose member or chair."), field="role")
    found = session.execute(
        select(PoolEntry, User)
        .join(User, col(User.id) == col(PoolEntry.user_id))
        .where(PoolEntry.id == entry_id)
    ).first()
    if found is None:
        raise NotFound(_("This person is not in the pool (any more)."))
    entry, user = found
    return committee.invite_to_procedure(
        session,
        settings,
        actor=actor,
        procedure=procedure,
        email=user.email,
        name=user.name,
        role=role,
        function=entry.function,
        training_done=entry.trained,
        reserve=reserve,
        justification=justification,
    )
