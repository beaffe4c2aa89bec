"""Organisations (the WVs), their admins, procedures and the people with a role in one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Text, UniqueConstraint, false
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.procedures.vocabulary import Phase


class Organisation(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    slug: str = Field(max_length=40, unique=True)
    name: str = Field(max_length=200)
    short_name: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow)


class OrganisationAdmin(SQLModel, table=True):
    __tablename__ = "organisation_admin"
    __table_args__ = (UniqueConstraint("organisation_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")


class Procedure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The public reference, e.g. ANE-UTR-2027-1; also the name of its audit chain.
    reference: str = Field(max_length=40, unique=True, index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    specialty: str = Field(max_length=100)
    region: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # The English versions of the published texts; empty: shown in Dutch, with a note.
    description_en: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    places: int = 1
    phase: str = Field(default=Phase.DRAFT, max_length=20, index=True)
    # Timeline, stored in UTC and shown in Europe/Amsterdam time.
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    letter_round_result_at: datetime | None = None
    # ISO dates (YYYY-MM-DD) of the interview days, in order.
    interview_days: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    final_result_at: datetime | None = None
    method: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    method_en: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    # Unconflicted scorers needed per applicant.
    quorum: int = 3
    ranking_rule: str = Field(default="", max_length=40)
    retention_weeks: int | None = 4
    # The pinned interview rubric: a copy of its content, so editing the file changes nothing.
    rubric_id: str | None = Field(default=None, max_length=60)
    rubric_version: int | None = None
    rubric_hash: str | None = Field(default=None, max_length=64)
    rubric_content: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    published_at: datetime | None = None
    # Anonymous counts kept when applications are erased after the retention period.
    erased_counts: dict[str, int] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False)
    )
    # The guideline check's warnings at publication, published with the procedure.
    published_warnings: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False)
    )
    # Placement over several institutions (shared/spec/placement.md): the suitable state
    # their preferences before this moment; an offer is answered within `answer_hours`; the
    # placement ends at the latest after round `last_round`.
    preference_deadline: datetime | None = None
    answer_hours: int = 48
    last_round: int = 3
    # When the preferences were fixed and chained (at the deadline, before the priority).
    preferences_fixed_at: datetime | None = None
    # When the admin closed the placement: the last round's assignment is final.
    placement_closed_at: datetime | None = None
    # Interview days (app/interviews): the length of one interview, how many a panel holds
    # per half-day at most, and until when the invited applicants book or rebook a slot.
    slot_minutes: int = 45
    per_half_day: int = 3
    booking_deadline: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class Institution(SQLModel, table=True):
    """A training place of a procedure's cluster, with how many places it offers: the places
    of the procedure are the sum of its institutions' capacities."""

    __tablename__ = "institution"
    __table_args__ = (UniqueConstraint("procedure_id", "code"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    city: str = Field(default="", max_length=100)
    capacity: int = 1
    position: int = 0


class Requirement(SQLModel, table=True):
    """A letter-round criterion or minimum requirement, with what is asked and why."""

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    position: int = 0
    text: str = Field(sa_column=Column(Text, nullable=False))
    rationale: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    text_en: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    rationale_en: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Plus(SQLModel, table=True):
    """A published plus: it counts only between equally suitable candidates, never as a gate."""

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    description_en: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class Correction(SQLModel, table=True):
    """A dated, justified public change-log entry of a procedure."""

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    created_at: datetime = Field(default_factory=utcnow)
    subject: str = Field(max_length=40)
    text: str = Field(sa_column=Column(Text, nullable=False))
    justification: str = Field(sa_column=Column(Text, nullable=False))


class ProcedureMember(SQLModel, table=True):
    """A committee member, the chair, or the observer of one procedure."""

    __tablename__ = "procedure_member"
    __table_args__ = (UniqueConstraint("procedure_id", "user_id"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    user_id: int = Field(foreign_key="user_account.id", index=True)
    role: str = Field(max_length=20)
    function: str = Field(default="", max_length=40)
    training_done: bool = False
    invited_at: datetime = Field(default_factory=utcnow)
    accepted_at: datetime | None = None
    # The person's own declaration of personal ties (the observer's is checked before
    # the interviews); empty text with a date means "no ties".
    ties: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    ties_declared_at: datetime | None = None
    # A reserve member scores only the applicants the admin assigns them (when quorum fails).
    reserve: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
