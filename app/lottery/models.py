"""Draws: the lottery between equally suitable candidates (shared/spec/lottery.md)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.lottery.vocabulary import DrawPurpose, DrawStatus


class Draw(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    # e.g. ANE-UTR-2027-1/draw-1; unique within the platform
    draw_id: str = Field(max_length=80, unique=True)
    status: str = Field(default=DrawStatus.PREPARING, max_length=20)
    purpose: str = Field(default=DrawPurpose.TIE, max_length=20)
    candidates: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    places: int
    beacon_name: str | None = Field(default=None, max_length=200)
    beacon_value: str | None = Field(default=None, max_length=500)
    # A named beacon's value counts once two people have entered the same value: the first
    # entry waits here (its SHA-256 and who entered it) for the second.
    beacon_pending_sha256: str | None = Field(default=None, max_length=64)
    beacon_pending_by: str | None = Field(default=None, max_length=40)
    # The platform's own contribution; shown only in the published record after the draw.
    platform_secret: str = Field(max_length=64)
    seed: str | None = Field(default=None, max_length=64)
    order: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    winners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    reserve: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    void_reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    created_at: datetime = Field(default_factory=utcnow)
    announced_at: datetime | None = None
    drawn_at: datetime | None = None
    voided_at: datetime | None = None


class DrawContributor(SQLModel, table=True):
    """A party that contributes a secret: the observer, the chair, and the platform."""

    __tablename__ = "draw_contributor"
    __table_args__ = (UniqueConstraint("draw_id", "position"),)

    id: int | None = Field(default=None, primary_key=True)
    draw_id: int = Field(foreign_key="draw.id", index=True, ondelete="CASCADE")
    position: int
    name: str = Field(max_length=40)
    member_id: int | None = Field(default=None, foreign_key="procedure_member.id")
    commitment: str | None = Field(default=None, max_length=64)
    committed_at: datetime | None = None
    secret: str | None = Field(default=None, max_length=200)
    revealed_at: datetime | None = None


class DeclinedPlace(SQLModel, table=True):
    """A placed candidate declined their place: the next on the reserve list moves up."""

    __tablename__ = "declined_place"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    application_id: int = Field(
        foreign_key="application.id", unique=True, index=True, ondelete="CASCADE"
    )
    declined_at: datetime = Field(default_factory=utcnow)
