"""Organisations (the WVs), their admins, procedures and the people with a role in one."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


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


class Phase(StrEnum):
    """The life cycle of a procedure, in order."""

    DRAFT = "draft"
    PUBLISHED = "published"
    OPEN = "open"
    CLOSED = "closed"
    LETTER_ROUND = "letter_round"
    INTERVIEWS = "interviews"
    DELIBERATION = "deliberation"
    RESULTS = "results"
    ARCHIVED = "archived"


class Procedure(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    # The public reference, e.g. ANE-UTR-2027-1; also the name of its audit chain.
    reference: str = Field(max_length=40, unique=True, index=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True)
    title: str = Field(max_length=200)
    specialty: str = Field(max_length=100)
    region: str = Field(max_length=200)
    description: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    places: int = 1
    phase: str = Field(default=Phase.DRAFT, max_length=20, index=True)
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class ProcedureRole(StrEnum):
    MEMBER = "member"
    CHAIR = "chair"
    OBSERVER = "observer"


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
