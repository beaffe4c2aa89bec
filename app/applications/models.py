"""Applications: one per applicant per procedure, with documents and acquaintance declarations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Column, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from app.applications.vocabulary import ApplicationStatus
from app.db import utcnow


class Application(SQLModel, table=True):
    __table_args__ = (UniqueConstraint("procedure_id", "applicant_id"),)

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    applicant_id: int = Field(foreign_key="user_account.id", index=True)
    # The public reference, e.g. ANE-UTR-2027-1-0007.
    reference: str = Field(max_length=60, unique=True)
    status: str = Field(default=ApplicationStatus.DRAFT, max_length=20)
    # Only what the procedure needs: how to reach the applicant and their BIG registration.
    phone: str = Field(default="", max_length=40)
    big_number: str = Field(default="", max_length=20)
    # Where the applicant works now (optional): a panel with a member from the same
    # institution is not offered to them (app/interviews/schedule.py).
    institution: str = Field(default="", max_length=200, sa_column_kwargs={"server_default": ""})
    # Letter-round answers, by requirement id.
    answers: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    retention_consent: bool = False
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    submitted_at: datetime | None = None
    withdrawn_at: datetime | None = None
    # Set when the letter-round result is published: invited or not_invited.
    letter_round_outcome: str | None = Field(default=None, max_length=20)


class Document(SQLModel, table=True):
    """A PDF of an application; the bytes live in the document store under `storage_key`."""

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=20)
    filename: str = Field(max_length=200)
    storage_key: str = Field(max_length=80, unique=True)
    size: int
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow)


class DocumentBlob(SQLModel, table=True):
    """The bytes of a document in the database store (app/applications/stores.py): 64 KiB
    per row, in order of `seq`, under the document's `storage_key`. No foreign key: the
    chunks are written before the Document row, in the same transaction."""

    __tablename__ = "document_blob"

    key: str = Field(max_length=80, primary_key=True)
    seq: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    data: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class Declaration(SQLModel, table=True):
    """The applicant declares that they know a committee member or the observer, and how."""

    __table_args__ = (UniqueConstraint("application_id", "member_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    member_id: int = Field(foreign_key="procedure_member.id", index=True, ondelete="CASCADE")
    relation: str = Field(max_length=20)
    note: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))


class LetterDecision(SQLModel, table=True):
    """Per application and minimum requirement: met or not, with the reason when not."""

    __tablename__ = "letter_decision"
    __table_args__ = (UniqueConstraint("application_id", "requirement_id"),)

    id: int | None = Field(default=None, primary_key=True)
    application_id: int = Field(foreign_key="application.id", index=True, ondelete="CASCADE")
    requirement_id: int = Field(foreign_key="requirement.id", index=True, ondelete="CASCADE")
    met: bool
    reason: str = Field(default="", sa_column=Column(Text, nullable=False, default=""))
    decided_at: datetime = Field(default_factory=utcnow)


class DiversityResponse(SQLModel, table=True):
    """The voluntary questionnaire, kept apart from the application: never shown per person
    to committee members or observers, reported to admins only in aggregate."""

    __tablename__ = "diversity_response"

    id: int | None = Field(default=None, primary_key=True)
    procedure_id: int = Field(foreign_key="procedure.id", index=True)
    application_id: int = Field(
        foreign_key="application.id", unique=True, index=True, ondelete="CASCADE"
    )
    gender: str = Field(default="", max_length=20)
    migration_background: str = Field(default="", max_length=20)
    first_generation: str = Field(default="", max_length=20)
