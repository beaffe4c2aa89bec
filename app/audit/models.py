"""The stored audit chain: one row per entry, the head of each chain for serialising, and
the signed checkpoints of the chains."""

from __future__ import annotations

from sqlalchemy import Column, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


class AuditEntry(SQLModel, table=True):
    __tablename__ = "audit_entry"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_entry_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=80, index=True)
    seq: int
    # 1: the whole entry is hashed. 2: the public form is hashed and commits to the body
    # ({actor, data}) through `commitment` = SHA-256(salt || canonical body).
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    at: str = Field(max_length=32)
    actor: str = Field(max_length=80)
    action: str = Field(max_length=80)
    subject: str = Field(max_length=200)
    # The canonical JSON text, kept verbatim so an export reproduces the hashed bytes.
    data: str = Field(sa_column=Column(Text, nullable=False))
    prev: str = Field(max_length=64)
    hash: str = Field(max_length=64)
    # Version 2 only: the 32 random bytes (hex) that hide the body, and the commitment.
    salt: str | None = Field(default=None, max_length=64)
    commitment: str | None = Field(default=None, max_length=64)


class AuditHead(SQLModel, table=True):
    """The newest seq and hash of each chain; appends lock this row to stay in line. The
    version is the chain's first entry's: a chain keeps the version it began with."""

    __tablename__ = "audit_head"

    chain: str = Field(primary_key=True, max_length=80)
    seq: int = 0
    hash: str = Field(max_length=64)
    version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})


class AuditCheckpoint(SQLModel, table=True):
    """A signed statement of a chain's head at a moment (one per chain and seq)."""

    __tablename__ = "audit_checkpoint"
    __table_args__ = (UniqueConstraint("chain", "seq", name="uq_audit_checkpoint_chain_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    chain: str = Field(max_length=80, index=True)
    seq: int
    head: str = Field(max_length=64)
    at: str = Field(max_length=32)
    key: str = Field(max_length=64)
    signature: str = Field(max_length=128)
