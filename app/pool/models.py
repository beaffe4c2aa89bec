"""The national pool of assessors: trainers, staff doctors, trainees, nurses and others who
register once (or are added by a WV admin) and from whom an organisation composes a
procedure's committee."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlmodel import Field, SQLModel

from app.db import utcnow


class PoolEntry(SQLModel, table=True):
    """One person's pool record. It is theirs to read, correct, export and remove; it holds
    nothing an applicant may not see but the contact details of the account."""

    __tablename__ = "pool_entry"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", unique=True, index=True, ondelete="CASCADE")
    function: str = Field(max_length=40, index=True)
    specialty: str = Field(max_length=100, index=True)
    institution: str = Field(max_length=200)
    region: str = Field(max_length=60, index=True)
    # The training record: a course in STARR interviewing and one in bias awareness, each
    # with the day it was completed (empty: not done).
    starr_course: str = Field(default="", max_length=200)
    starr_on: date | None = None
    bias_course: str = Field(default="", max_length=200)
    bias_on: date | None = None
    # Who made the record: the person themselves, or the WV admin who added them.
    added_by: str = Field(default="self", max_length=40)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    @property
    def trained(self) -> bool:
        """Trained for selection in the guideline's sense: both courses on record."""
        return self.starr_on is not None and self.bias_on is not None

    def exported(self) -> dict[str, Any]:
        """The whole record, as the person's data export holds it."""
        return {
            "function": self.function,
            "specialty": self.specialty,
            "institution": self.institution,
            "region": self.region,
            "starr_course": self.starr_course,
            "starr_on": self.starr_on.isoformat() if self.starr_on else None,
            "bias_course": self.bias_course,
            "bias_on": self.bias_on.isoformat() if self.bias_on else None,
            "added_by": self.added_by,
            "created_at": self.created_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
        }
