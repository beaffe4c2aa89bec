"""Scoring: members' conflicts of interest, reserve assignments, score sheets, and the
committee's joint outcome per applicant."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.scoring.vocabulary import SheetStatus


class MemberConflict(SQLModel, table=True):
    """A member declares that they know an applicant, and how. Never withdrawn: a conflict
    declared by mistake costs one scorer, a conflict hidden costs the procedure its fairness."""

    __tablename__ = "member_conflict"
    __table_args__ = (UniqueConstraint("application_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="procedure_member.id", index=True, ondelete="CASCADE")
    relation: str = Field(max_length=20)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    declared_at: datetime = Field(default_factory=utcnow)


class ReserveAssignment(SQLModel, table=True):
    """The admin asks a reserve member to score one applicant whose quorum failed."""

    __tablename__ = "reserve_assignment"
    __table_args__ = (UniqueConstraint("application_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="procedure_member.id", index=True, ondelete="CASCADE")
    assigned_at: datetime = Field(default_factory=utcnow)


class ScoreSheet(SQLModel, table=True):
    """One member's individual score sheet for one applicant, on the procedure's pinned rubric.

    `version` grows with every save; a save that names an older version than the stored one
    came from a stale device and is refused, so no edit is ever overwritten unseen.
    """

    __tablename__ = "score_sheet"
    __table_args__ = (UniqueConstraint("application_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="procedure_member.id", index=True)
    status: str = Field(default=SheetStatus.DRAFT, max_length=20)
    # criterion id -> level on the rubric's scale
    levels: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # criterion id -> the member's STARR reason
    reasons: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None


class JointOutcome(SQLModel, table=True):
    """What the committee decided together for one applicant, recorded by the chair."""

    __tablename__ = "joint_outcome"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    application_id: int = Field(
        foreign_key="application.id", unique=True, index=True, ondelete="CASCADE"
    )
    # criterion id -> the level the committee agreed on
    levels: dict[str, int] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    suitable: bool
    # The published pluses (Plus ids) the committee found to apply; they count only between
    # equally suitable candidates, in the ranking.
    pluses: list[int] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    # criterion id -> why the committee gave that level; the applicant reads it beside the
    # level (guideline 3.2), and a level outside the members' range must say why.
    reasons: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    # Written for the applicant, who reads it with their result.
    motivation: str = Field(sa_column=Column(Text, nullable=False))
    recorded_by: int = Field(foreign_key="procedure_member.id")
    recorded_at: datetime = Field(default_factory=utcnow)
