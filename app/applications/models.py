"""Applications: one per applicant per procedure (the form itself is in this domain too)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Application(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("procedure_id", "applicant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    applicant_id: int = Field(foreign_key="user_account.id", index=True)
    # The public reference, e.g. ANE-UTR-2027-1-0007.
    reference: str = Field(max_length=60, unique=True)
    status: str = Field(default="draft", max_length=20)
    created_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
