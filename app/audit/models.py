"""The stored audit chain: one row per entry, plus the head of each chain for serialising."""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_entry_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=80, index=True)
    seq: int
    at: str = Field(max_length=32)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=80)
    subject: str = Field(max_length=200)
    # The canonical JSON text, kept verbatim so an export reproduces the hashed bytes.
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64)


class AuditHead(SQLModel, table=True):
    """The newest seq and hash of each chain; appends lock this row to stay in line."""

    __tablename__ = "audit_head"

    chain: str = Field(primary_key=True, max_length=80)
    seq: int = 0
    hash: str = Field(max_length=64)
