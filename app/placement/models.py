"""The preferences of the suitable candidates: which institutions they accept, most wanted
first. Only the candidate reads their own list until the placement's record publishes it
(by application reference) after the first round."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from app.db import utcnow


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
