"""The observer's remarks (append-only) and the sign-off of a round's report."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.db import utcnow


class Remark(SQLModel, table=True):
    """An observer's remark, about the procedure or one applicant (their sheets, their
    deliberation). Never changed: a correction is a new remark that refers to the old one."""

    __table_args__ = (UniqueConstraint("procedure_id", "number"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    # The remark's number within its procedure (#1, #2, ...), as the observer refers to it.
    number: int
    # None: about the procedure as a whole
    application_id: int | None = Field(
        default=None, foreign_key="application.id", index=True, ondelete="CASCADE"
    )
    # what about the applicant: "sheets", "deliberation" or "" (the applicant in general)
    about: str = Field(default="", max_length=20)
    text: str = Field(sa_column=Column(Text, nullable=False))
    corrects: int | None = Field(default=None, foreign_key="remark.id")
    author_member_id: int = Field(foreign_key="procedure_member.id")
    created_at: datetime = Field(default_factory=utcnow)


class SignOff(SQLModel, table=True):
    """The observer signs the round's report off; after that the round is closed."""

    __tablename__ = "sign_off"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", unique=True, index=True)
    member_id: int = Field(foreign_key="procedure_member.id")
    # SHA-256 of the report's content as signed (the CSV of scores and the chain head)
    report_sha256: str = Field(max_length=64)
    chain_head: str = Field(max_length=64)
    signed_at: datetime = Field(default_factory=utcnow)


class ReportPdf(SQLModel, table=True):
    """The round report as PDF, rendered by a job (app/oversight/report_pdf.py) and kept for
    the chain head it was asked at, the reader's view (who is left out, whose sheets are
    sealed) and language: asked again at the same head, it is served at once."""

    __tablename__ = "report_pdf"

    id: int | None = Field(default=None, primary_key=True)
    # sha256 of procedure, chain head, view and language (see report_pdf.key_of)
    key: str = Field(max_length=64, unique=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True, ondelete="CASCADE")
    head_seq: int
    # rendering → ready, or failed (asked again: rendered again)
    state: str = Field(default="rendering", max_length=10)
    data: bytes | None = Field(default=None, sa_column=Column(LargeBinary, nullable=True))
    error: str | None = Field(default=None, max_length=500)
    requested_at: datetime = Field(default_factory=utcnow)
    ready_at: datetime | None = None
