"""The preferences of the suitable candidates, the placement's published rounds and the
offers they make. Only the candidate reads their own list until the placement's record
publishes it (by application reference) with the first round."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow
from app.placement.vocabulary import OfferStatus


class PreferenceList(SQLModel, table=True):
    __tablename__ = "preference_list"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    application_id: int = Field(
        foreign_key="application.id", unique=True, index=True, ondelete="CASCADE"
    )
    # Institution codes, most wanted first; an institution left off is one not wanted.
    codes: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    updated_at: datetime = Field(default_factory=utcnow)


class PlacementRound(SQLModel, table=True):
    """A published round: its `selection-placement/v1` record, as chained."""

    __tablename__ = "placement_round"
    __table_args__ = (UniqueConstraint("procedure_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    number: int
    record: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    published_at: datetime = Field(default_factory=utcnow)
    # The offers of this round are answered before this moment.
    answers_due: datetime


class PlacementOffer(SQLModel, table=True):
    """The place a round assigns to a candidate, and the candidate's answer."""

    __tablename__ = "placement_offer"
    __table_args__ = (UniqueConstraint("round_id", "application_id"),)

    id: int | None = Field(default=None, primary_key=True)
    round_id: int = Field(foreign_key="placement_round.id", index=True, ondelete="CASCADE")
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    code: str = Field(max_length=20)
    status: str = Field(default=OfferStatus.OPEN, max_length=20)
    answered_at: datetime | None = None
