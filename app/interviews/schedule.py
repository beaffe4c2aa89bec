"""The interview days' schedule: slots per panel in half-day blocks, the invited applicants'
own bookings (first come, first served; rebooking until the published deadline), and the
admin's placing, moving and cancelling. A slot whose panel holds someone with a conflict
with the applicant (declared by either side) is never offered to them.

One slot holds one applicant and one applicant holds one slot: the database's unique keys
decide a race between two applicants for the last slot, and the loser is told it is gone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from icalendar import Calendar, Event
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.service import user_by_id
from app.applications.letter_round import INVITED
from app.applications.models import Application, Declaration
from app.applications.vocabulary import ApplicationStatus
from app.audit.chain import format_time
from app.audit.service import actor_id, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.forms import AMSTERDAM
from app.i18n import gettext as _
from app.interviews.models import Booking, InterviewSlot, Panel, PanelMember
from app.interviews.panels import SETUP_PHASES, panels, seats
from app.pool.models import PoolEntry
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring.models import MemberConflict
from app.web import local_time

# The half-day blocks of an interview day, in Dutch wall-clock time.
HALF_DAYS = (time(9, 0), time(13, 30))
BREAK = timedelta(minutes=15)
BOOKING_PHASES = (Phase.LETTER_ROUND, Phase.INTERVIEWS)
# Without a published booking deadline, a slot is booked at the latest this long before it.
LEAD = timedelta(hours=24)


@dataclass(frozen=True)
class Offer:
    """A free slot an applicant may book."""

    slot: InterviewSlot
    panel: Panel

    @property
    def day(self) -> date:
        """The interview day in Dutch time, by which the page groups the offers."""
        return self.slot.starts_at.astimezone(AMSTERDAM).date()


@dataclass(frozen=True)
class MyInterview:
    """What the applicant's page shows: their booking, their panel, and the choice left."""

    booking: Booking | None
    slot: InterviewSlot | None
    panel: Panel | None
    members: list[tuple[str, str]]  # the panel's names and functions
    offers: list[Offer]
    may_book: bool
    deadline: datetime | None


def slots(session: Session, procedure: Procedure) -> list[InterviewSlot]:
    return list(
        session.execute(
            select(InterviewSlot)
            .where(InterviewSlot.procedure_id == procedure.id)
            .order_by(col(InterviewSlot.starts_at), col(InterviewSlot.panel_id))
        ).scalars()
    )


def bookings(session: Session, procedure: Procedure) -> dict[int, Booking]:
    """Slot id -> its booking."""
    rows = session.execute(select(Booking).where(Booking.procedure_id == procedure.id)).scalars()
    return {b.slot_id: b for b in rows}


def panel_of_applications(session: Session, procedure: Procedure) -> dict[int, int]:
    """Application id -> the panel of the slot they booked."""
    rows = session.execute(
        select(Booking.application_id, InterviewSlot.panel_id)
        .join(InterviewSlot, col(InterviewSlot.id) == col(Booking.slot_id))
        .where(Booking.procedure_id == procedure.id)
    ).all()
    return {int(application): int(panel) for application, panel in rows}


def _half_day(moment: datetime) -> tuple[date, int]:
    """The interview day and its half (0 the morning, 1 the afternoon) a slot begins in."""
    local = moment.astimezone(AMSTERDAM)
    return local.date(), int(local.time() >= HALF_DAYS[1])


def generate(session: Session, *, actor: str, procedure: Procedure) -> int:
    """Slots for every panel on every interview day: per half-day the published number of
    interviews of the published length, a quarter of an hour apart. Keeps the slots there
    are (booked ones among them, made under other settings), and adds none that would
    overlap one of the panel's or take its half-day past the published maximum; returns
    how many were added."""
    if procedure.phase not in SETUP_PHASES:
        raise Conflict(_("The schedule is fixed once the interviews start."), field="schedule")
    every = panels(session, procedure)
    if not every:
        raise Conflict(_("Divide the committee into panels first."), field="schedule")
    if not procedure.interview_days:
        raise Conflict(_("Publish the interview days first, in the timeline."), field="schedule")
    if not 10 <= procedure.slot_minutes <= 240 or not 1 <= procedure.per_half_day <= 8:
        raise InvalidInput(_("A slot lasts 10 to 240 minutes; a panel holds 1 to 8 per half-day."))
    length = timedelta(minutes=procedure.slot_minutes)
    held: dict[int, list[tuple[datetime, datetime]]] = {}  # panel -> its slots' times
    counts: dict[tuple[int, date, int], int] = {}  # (panel, day, half) -> its slots
    for slot in slots(session, procedure):
        held.setdefault(slot.panel_id, []).append(
            (slot.starts_at, slot.starts_at + timedelta(minutes=slot.minutes))
        )
        key = (slot.panel_id, *_half_day(slot.starts_at))
        counts[key] = counts.get(key, 0) + 1
    added = 0
    assert procedure.id is not None
    for day in procedure.interview_days:
        for half, begins in enumerate(HALF_DAYS):
            local = datetime.combine(date.fromisoformat(day), begins, AMSTERDAM)
            for k in range(procedure.per_half_day):
                start = (local + k * (length + BREAK)).astimezone(UTC)
                for panel in every:
                    assert panel.id is not None
                    key = (panel.id, local.date(), half)
                    times = held.setdefault(panel.id, [])
                    if counts.get(key, 0) >= procedure.per_half_day or any(
                        begun < start + length and start < ends for begun, ends in times
                    ):
                        continue
                    times.append((start, start + length))
                    counts[key] = counts.get(key, 0) + 1
                    session.add(
                        InterviewSlot(
                            procedure_id=procedure.id, panel_id=panel.id, starts_at=start,
                            minutes=procedure.slot_minutes,
                        )
                    )  # fmt: skip
                    added += 1
    record(
        session, chain=procedure.reference, actor=actor, action="schedule.generated",
        subject=f"procedure:{procedure.reference}",
        data={"added": added, "minutes": procedure.slot_minutes,
              "per_half_day": procedure.per_half_day},
    )  # fmt: skip
    session.commit()
    return added


def conflicted_panels(session: Session, procedure: Procedure, application: Application) -> set[int]:
    """The panels with a member who has a conflict with the applicant, declared by either,
    or suggested: the member's pool record names the institution where the applicant works."""
    members = {
        int(row)
        for row in session.execute(
            select(Declaration.member_id).where(Declaration.application_id == application.id)
        ).scalars()
    } | {
        int(row)
        for row in session.execute(
            select(MemberConflict.member_id).where(MemberConflict.application_id == application.id)
        ).scalars()
    }
    members |= {s.member_id for s in suggested_conflicts(session, procedure, [application])}
    if not members:
        return set()
    rows = session.execute(
        select(PanelMember.panel_id).where(col(PanelMember.member_id).in_(sorted(members)))
    ).scalars()
    return {int(row) for row in rows}


@dataclass(frozen=True)
class Suggested:
    """A conflict the platform suggests: the applicant works where a panel member works."""

    application_id: int
    member_id: int
    institution: str


def _institution_key(name: str) -> str:
    return " ".join(name.split()).casefold()


def suggested_conflicts(
    session: Session, procedure: Procedure, applications: list[Application]
) -> list[Suggested]:
    """Applicant and panel member at the same institution (by the applicant's form and the
    member's pool record), for these applications."""
    by_place: dict[str, list[Application]] = {}
    for application in applications:
        if application.institution.strip():
            by_place.setdefault(_institution_key(application.institution), []).append(application)
    if not by_place:
        return []
    rows = session.execute(
        select(PanelMember.member_id, PoolEntry.institution)
        .join(ProcedureMember, col(ProcedureMember.id) == col(PanelMember.member_id))
        .join(PoolEntry, col(PoolEntry.user_id) == col(ProcedureMember.user_id))
        .where(ProcedureMember.procedure_id == procedure.id)
    ).all()
    found = []
    for member_id, institution in rows:
        for application in by_place.get(_institution_key(institution), []):
            assert application.id is not None
            found.append(Suggested(application.id, int(member_id), institution))
    return found


def _deadline(procedure: Procedure, slot: InterviewSlot) -> datetime:
    return procedure.booking_deadline or (slot.starts_at - LEAD)


def _invited(application: Application) -> bool:
    return (
        application.status == ApplicationStatus.SUBMITTED
        and application.letter_round_outcome == INVITED
    )


def mine(
    session: Session, procedure: Procedure, application: Application, now: datetime | None = None
) -> MyInterview | None:
    """The applicant's interview, once they are invited to a procedure with panels."""
    if not _invited(application) or procedure.phase not in (*BOOKING_PHASES, Phase.DELIBERATION):
        return None
    every = seats(session, procedure)
    if not every:
        return None
    moment = now or utcnow()
    by_id = {seat.panel.id: seat for seat in every}
    booking = session.execute(
        select(Booking).where(Booking.application_id == application.id)
    ).scalar_one_or_none()
    slot = session.get(InterviewSlot, booking.slot_id) if booking else None
    seat = by_id.get(slot.panel_id) if slot else None
    members: list[tuple[str, str]] = []
    if seat is not None:
        for member in seat.members:
            user = user_by_id(session, member.user_id)
            members.append((user.name if user else "", member.function))
    blocked = conflicted_panels(session, procedure, application)
    taken = bookings(session, procedure)
    offers = [
        Offer(s, by_id[s.panel_id].panel)
        for s in slots(session, procedure)
        if s.id not in taken
        and s.panel_id not in blocked
        and s.panel_id in by_id
        and moment < _deadline(procedure, s)
    ]
    open_ = procedure.phase in BOOKING_PHASES and (
        slot is None or moment < _deadline(procedure, slot)
    )
    return MyInterview(booking, slot, seat.panel if seat else None, members, offers, open_,
                       procedure.booking_deadline)  # fmt: skip


def book(
    session: Session,
    settings: Settings,
    *,
    procedure: Procedure,
    application: Application,
    slot_id: int,
    by_admin: str | None = None,
    now: datetime | None = None,
) -> Booking:
    """Book (or rebook) the applicant's interview in `slot_id`. The applicant: only a slot
    offered to them, before the deadline. An admin (`by_admin`, their actor id) may place or
    move anyone into any free slot of a panel without a conflict, while the schedule runs."""
    moment = now or utcnow()
    if not _invited(application):
        raise Conflict(_("Only an applicant invited to an interview books a slot."))
    if procedure.phase not in BOOKING_PHASES:
        raise Conflict(_("Interviews are booked after the letter round, until the interviews end."))
    slot = session.get(InterviewSlot, slot_id)
    if slot is None or slot.procedure_id != procedure.id:
        raise NotFound(_("This slot does not exist (any more): choose another."))
    if slot.panel_id in conflicted_panels(session, procedure, application):
        raise Conflict(
            _("A member of this slot's panel has a conflict of interest with the applicant: "
              "choose a slot of another panel."),
        )  # fmt: skip
    current = session.execute(
        select(Booking).where(Booking.application_id == application.id)
    ).scalar_one_or_none()
    if by_admin is None:
        if moment >= _deadline(procedure, slot):
            raise Conflict(
                _(
                    "Booking this slot closed on %(when)s.",
                    when=local_time(_deadline(procedure, slot)),
                )
            )
        if current is not None:
            held = session.get(InterviewSlot, current.slot_id)
            if held is not None and moment >= _deadline(procedure, held):
                raise Conflict(
                    _("Your interview can no longer be moved: rebooking closed on %(when)s.",
                      when=local_time(_deadline(procedure, held)))
                )  # fmt: skip
    if current is not None and current.slot_id == slot.id:
        return current
    was = current.slot_id if current else None
    try:
        if current is None:
            assert procedure.id is not None and application.id is not None
            current = Booking(procedure_id=procedure.id, slot_id=slot.id or 0,
                              application_id=application.id, booked_at=moment,
                              by="admin" if by_admin else "applicant")  # fmt: skip
            session.add(current)
        else:
            current.slot_id, current.booked_at = slot.id or 0, moment
            current.by = "admin" if by_admin else "applicant"
            current.reminded_at = None  # a new time, a new reminder the day before it
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(
            _("Someone else has just booked this slot: choose another."), field="slot"
        ) from None
    panel = session.get(Panel, slot.panel_id)
    record(
        session, chain=procedure.reference,
        actor=by_admin or actor_id(application.applicant_id),
        action="booking.moved" if was else "booking.made",
        subject=f"application:{application.reference}",
        data={"starts_at": format_time(slot.starts_at), "minutes": slot.minutes,
              "panel": panel.name if panel else None},
    )  # fmt: skip
    tell(session, settings, procedure, application, slot, panel)
    session.commit()
    return current


def tell(
    session: Session,
    settings: Settings,
    procedure: Procedure,
    application: Application,
    slot: InterviewSlot,
    panel: Panel | None,
    *,
    reminder: bool = False,
) -> None:
    """Mail the applicant their interview: when it is booked or moved, and (`reminder`) the
    day before."""
    user = user_by_id(session, application.applicant_id)
    if user is None:
        return
    values = {
        "name": user.name,
        "procedure": procedure.title,
        "when": local_time(slot.starts_at),
        "minutes": slot.minutes,
        "panel": panel.name if panel else "",
        "url": f"{settings.base_url}/applications/{application.reference}#interview",
    }
    if reminder:
        subject = _("Tomorrow: your interview for %(procedure)s", procedure=procedure.title)
        body = _(
            "Dear %(name)s,\n\nA reminder: your interview for %(procedure)s is "
            "tomorrow, %(when)s (%(minutes)s minutes), panel: %(panel)s. Your page "
            "shows who sits on the panel and has a calendar file: %(url)s",
            **values,
        )
    else:
        subject = _("Your interview: %(procedure)s", procedure=procedure.title)
        body = _(
            "Dear %(name)s,\n\nYour interview for %(procedure)s is on %(when)s "
            "(%(minutes)s minutes), panel: %(panel)s. Your page shows who sits on the "
            "panel and has a calendar file: %(url)s",
            **values,
        )
    mail.deliver(
        session, settings, mail.Letter(to=user.email, subject=subject, body=body,
                                       about=application.id),
    )  # fmt: skip


def cancel(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    application: Application,
) -> None:
    """The admin cancels a booking: the slot is free again, and the applicant is told."""
    if procedure.phase not in BOOKING_PHASES:
        raise Conflict(_("Interviews are booked after the letter round, until the interviews end."))
    current = session.execute(
        select(Booking).where(Booking.application_id == application.id)
    ).scalar_one_or_none()
    if current is None:
        raise Conflict(_("This applicant has no interview booked."))
    slot = session.get(InterviewSlot, current.slot_id)
    session.delete(current)
    record(
        session, chain=procedure.reference, actor=actor, action="booking.cancelled",
        subject=f"application:{application.reference}",
        data={"starts_at": format_time(slot.starts_at) if slot else None},
    )  # fmt: skip
    user = user_by_id(session, application.applicant_id)
    if user is not None:
        mail.deliver(session, settings, mail.Letter(
            to=user.email,
            subject=_("Your interview: %(procedure)s", procedure=procedure.title),
            body=_("Dear %(name)s,\n\nYour interview for %(procedure)s has been cancelled by "
                   "the organisation. Book another slot at %(url)s",
                   name=user.name, procedure=procedure.title,
                   url=f"{settings.base_url}/applications/{application.reference}#interview"),
            about=application.id,
        ))  # fmt: skip
    session.commit()


def ical(procedure: Procedure, slot: InterviewSlot, panel: Panel | None, url: str) -> bytes:
    """The interview as one calendar event."""
    calendar = Calendar()
    calendar.add("prodid", "-//Selectieplatform//NL")
    calendar.add("version", "2.0")
    event = Event()
    event.add("uid", f"{procedure.reference}-interview-{slot.id}@selectieplatform")
    event.add("dtstamp", datetime.now(UTC))
    event.add("summary", _("Interview: %(procedure)s", procedure=procedure.title))
    event.add("description", f"{panel.name if panel else ''}\n{url}")
    event.add("url", url)
    event.add("dtstart", slot.starts_at)
    event.add("dtend", slot.starts_at + timedelta(minutes=slot.minutes))
    calendar.add_component(event)
    return calendar.to_ical()


def set_schedule(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    slot_minutes: int,
    per_half_day: int,
    booking_deadline: datetime | None,
) -> None:
    """The schedule's published settings: the length of a slot, the interviews per panel per
    half-day, and the booking deadline (before the first interview day)."""
    if procedure.phase not in SETUP_PHASES:
        raise Conflict(_("The schedule is fixed once the interviews start."), field="schedule")
    if not 10 <= slot_minutes <= 240:
        raise InvalidInput(_("A slot lasts 10 to 240 minutes."), field="slot_minutes")
    if not 1 <= per_half_day <= 8:
        raise InvalidInput(_("A panel holds 1 to 8 interviews per half-day."), field="per_half_day")
    if booking_deadline is not None and procedure.interview_days:
        first = datetime.combine(
            date.fromisoformat(min(procedure.interview_days)), HALF_DAYS[0], AMSTERDAM
        )
        if booking_deadline >= first:
            raise InvalidInput(
                _("The booking deadline must fall before the first interview day."),
                field="booking_deadline",
            )
    changed = (slot_minutes, per_half_day) != (procedure.slot_minutes, procedure.per_half_day)
    procedure.slot_minutes, procedure.per_half_day = slot_minutes, per_half_day
    procedure.booking_deadline = booking_deadline
    # The free slots of the old length or number would stay bookable beyond the new
    # maximum: they go with the change (the booked ones stay), to be made again.
    taken = bookings(session, procedure)
    free = [s for s in slots(session, procedure) if s.id not in taken] if changed else []
    for slot in free:
        session.delete(slot)
    record(
        session, chain=procedure.reference, actor=actor, action="schedule.set",
        subject=f"procedure:{procedure.reference}",
        data={"slot_minutes": slot_minutes, "per_half_day": per_half_day,
              "booking_deadline": format_time(booking_deadline) if booking_deadline else None,
              "free_slots_removed": len(free)},
    )  # fmt: skip
    session.commit()


def remove_free_slots(session: Session, *, actor: str, procedure: Procedure) -> int:
    """Take away every slot nobody booked (to generate them again with other settings)."""
    if procedure.phase not in SETUP_PHASES:
        raise Conflict(_("The schedule is fixed once the interviews start."), field="schedule")
    taken = bookings(session, procedure)
    free = [s for s in slots(session, procedure) if s.id not in taken]
    if not free:
        raise Conflict(_("There are no free slots to remove."), field="schedule")
    for slot in free:
        session.delete(slot)
    record(
        session, chain=procedure.reference, actor=actor, action="schedule.cleared",
        subject=f"procedure:{procedure.reference}", data={"removed": len(free)},
    )  # fmt: skip
    session.commit()
    return len(free)


def times_of(
    session: Session, procedure: Procedure, member: ProcedureMember
) -> dict[int, InterviewSlot]:
    """Application id -> the slot it booked with the member's panel (none without panels)."""
    rows = session.execute(
        select(Booking.application_id, InterviewSlot)
        .join(InterviewSlot, col(InterviewSlot.id) == col(Booking.slot_id))
        .join(PanelMember, col(PanelMember.panel_id) == col(InterviewSlot.panel_id))
        .where(Booking.procedure_id == procedure.id, PanelMember.member_id == member.id)
    ).all()
    return {int(application): slot for application, slot in rows}


def today_in_amsterdam(now: datetime | None = None) -> date:
    return (now or utcnow()).astimezone(AMSTERDAM).date()
