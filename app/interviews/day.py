"""The interview day itself: the reminder every booked applicant gets the day before, and a
panel's running-late notice, which moves its later interviews of the day in the panel's view.

The reminders are sent by the clock (app.main.follow_the_clock_once); with several workers
each booking's reminder still goes out once, because it is claimed with a conditional
update before it is sent."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import update
from sqlmodel import Session, col, select

from app import forms
from app.applications.models import Application
from app.audit.chain import format_time
from app.audit.service import record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput
from app.forms import AMSTERDAM
from app.i18n import gettext as _
from app.interviews import schedule
from app.interviews.models import Booking, InterviewSlot, Panel, PanelMember
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase

# The reminder goes out on the day before the interview, from this hour (Dutch time), or
# at once when the booking is made later than that.
REMINDER_HOUR = time(9, 0)
MAX_LATE = 180  # minutes
LATE_PHASES = (Phase.INTERVIEWS,)


def reminder_moment(slot: InterviewSlot) -> datetime:
    day_before = slot.starts_at.astimezone(AMSTERDAM).date() - timedelta(days=1)
    return datetime.combine(day_before, REMINDER_HOUR, AMSTERDAM).astimezone(UTC)


def due_reminders(session: Session, now: datetime | None = None) -> list[int]:
    """The bookings whose reminder is due: not sent yet, the day before has come, and the
    interview has not begun."""
    moment = now or utcnow()
    rows = session.execute(
        select(Booking.id, InterviewSlot)
        .join(InterviewSlot, col(InterviewSlot.id) == col(Booking.slot_id))
        .where(
            col(Booking.reminded_at).is_(None),
            col(InterviewSlot.starts_at) > moment,
            # Two days ahead at most: the exact moment is checked below, per slot.
            col(InterviewSlot.starts_at) <= moment + timedelta(days=2),
        )
    ).all()
    return [int(booking_id) for booking_id, slot in rows if reminder_moment(slot) <= moment]


def send_reminder(
    session: Session, settings: Settings, booking_id: int, now: datetime | None = None
) -> bool:
    """Claim the booking's reminder and send it; False when another worker (or an earlier
    run) sent it already, or the booking is gone."""
    moment = now or utcnow()
    claimed = session.execute(
        update(Booking)
        .where(col(Booking.id) == booking_id, col(Booking.reminded_at).is_(None))
        .values(reminded_at=moment)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        return False
    booking = session.get(Booking, booking_id)
    assert booking is not None
    slot = session.get(InterviewSlot, booking.slot_id)
    application = session.get(Application, booking.application_id)
    procedure = session.get(Procedure, booking.procedure_id)
    assert slot is not None and application is not None and procedure is not None
    panel = session.get(Panel, slot.panel_id)
    schedule.tell(session, settings, procedure, application, slot, panel, reminder=True)
    record(
        session, chain=procedure.reference, actor="system", action="booking.reminded",
        subject=f"application:{application.reference}",
        data={"starts_at": format_time(slot.starts_at)},
    )  # fmt: skip
    session.commit()
    return True


@dataclass(frozen=True)
class Late:
    """A panel's notice for today: how many minutes late its interviews not yet begun run."""

    minutes: int
    day: date | None

    def applies_to(self, slot: InterviewSlot, now: datetime) -> bool:
        starts = slot.starts_at
        return (
            bool(self.minutes)
            and starts.astimezone(AMSTERDAM).date() == self.day
            and (starts + timedelta(minutes=self.minutes) > now)
        )

    def expected(self, slot: InterviewSlot, now: datetime) -> datetime | None:
        """When the interview is now expected to start, if the notice moves it."""
        if not self.applies_to(slot, now):
            return None
        return slot.starts_at + timedelta(minutes=self.minutes)


def late_of(panel: Panel | None, today: date) -> Late:
    if panel is None or panel.late_on != today:
        return Late(0, None)
    return Late(panel.late_minutes, panel.late_on)


def panel_of(session: Session, procedure: Procedure, member: ProcedureMember) -> Panel | None:
    """The panel the member sits on in this procedure, if any."""
    return session.execute(
        select(Panel)
        .join(PanelMember, col(PanelMember.panel_id) == col(Panel.id))
        .where(Panel.procedure_id == procedure.id, PanelMember.member_id == member.id)
    ).scalar_one_or_none()


def report_late(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    panel: Panel,
    raw_minutes: str,
    now: datetime | None = None,
) -> int:
    """A panel member says the panel runs late today (0: on time again); returns the
    minutes."""
    moment = now or utcnow()
    if procedure.phase not in LATE_PHASES:
        raise Conflict(_("A delay can be reported while the interviews run."), field="minutes")
    today = moment.astimezone(AMSTERDAM).date()
    begins = datetime.combine(today, time.min, AMSTERDAM).astimezone(UTC)
    slots_today = session.execute(
        select(InterviewSlot.id)
        .where(
            InterviewSlot.panel_id == panel.id,
            col(InterviewSlot.starts_at) >= begins,
            col(InterviewSlot.starts_at) < begins + timedelta(days=1),
        )
        .limit(1)
    ).first()
    if not slots_today:
        raise Conflict(_("Your panel has no interviews today."), field="minutes")
    minutes = forms.integer(
        raw_minutes, "minutes", _("the delay in minutes"), minimum=0, maximum=MAX_LATE
    )
    if minutes % 5:
        raise InvalidInput(_("Give the delay in steps of 5 minutes."), field="minutes")
    panel.late_minutes, panel.late_on = minutes, today
    session.add(panel)
    record(
        session, chain=procedure.reference, actor=actor, action="panel.running_late",
        subject=f"panel:{panel.id}", data={"minutes": minutes, "day": today.isoformat()},
    )  # fmt: skip
    session.commit()
    return minutes
