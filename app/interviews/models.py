"""Interview days: the committee divided into panels, the slots each panel holds on the
interview days, and the applicants' bookings. An applicant is interviewed and scored by the
panel of the slot they booked."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Panel(SQLModel, table=True):
    """A part of a procedure's committee that interviews the applicants booked with it."""

    __tablename__ = "panel"
    __table_args__ = (UniqueConstraint("procedure_id", "name"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=80)
    position: int = 0
    # A running-late notice: on `late_on`, the panel's interviews not yet begun start this
    # many minutes later than scheduled (0: on time).
    late_minutes: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    late_on: date | None = None


class PanelMember(SQLModel, table=True):
    """A scoring member on a panel: each member sits on at most one panel of a procedure."""

    __tablename__ = "panel_member"

    id: int | None = Field(default=None, primary_key=True)
    panel_id: int = Field(foreign_key="panel.id", index=True, ondelete="CASCADE")
    member_id: int = Field(
        foreign_key="procedure_member.id", unique=True, index=True, ondelete="CASCADE"
    )


class InterviewSlot(SQLModel, table=True):
    """One interview: a panel, a start and a length."""

    __tablename__ = "interview_slot"
    __table_args__ = (UniqueConstraint("panel_id", "starts_at"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    panel_id: int = Field(foreign_key="panel.id", index=True, ondelete="CASCADE")
    starts_at: datetime
    minutes: int


class Booking(SQLModel, table=True):
    """An applicant's interview: one slot holds one applicant, and an applicant one slot."""

    __tablename__ = "booking"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    slot_id: int = Field(
        foreign_key="interview_slot.id", unique=True, index=True, ondelete="CASCADE"
    )
    application_id: int = Field(
        foreign_key="application.id", unique=True, index=True, ondelete="CASCADE"
    )
    booked_at: datetime = Field(default_factory=utcnow)
    # "applicant" when they booked it themselves, "admin" when an admin placed or moved it.
    by: str = Field(default="applicant", max_length=20)
    # When the reminder the day before went out (none yet; a move sends a new one).
    reminded_at: datetime | None = None
