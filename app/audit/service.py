"""Appending to, exporting and verifying the chains stored in the database.

`record` is called by every service function that changes state, inside the same
transaction as the change, so a change and its entry commit or roll back together.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from app.audit import chain as chainlib
from app.audit.models import AuditEntry, AuditHead
from app.db import utcnow

PLATFORM_CHAIN = "platform"


def actor_id(user_id: int | None) -> str:
    """A stable pseudonym: the chain outlives erased personal data, so no names or e-mails."""
    return f"user:{user_id}" if user_id is not None else "system"


# Prebuilt statements on the tables, not the ORM classes: an append is on every change's
# path, so it skips the ORM's statement handling and unit of work.
_ENTRIES: Table = AuditEntry.__table__  # type: ignore[attr-defined]
_HEADS: Table = AuditHead.__table__  # type: ignore[attr-defined]
_APPEND = insert(_ENTRIES)
_MOVE_HEAD = (
    update(_HEADS)
    .where(_HEADS.c.chain == bindparam("head_chain"))
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)
_HEAD = (
    select(_HEADS.c.seq, _HEADS.c.hash)
    .where(_HEADS.c.chain == bindparam("head_chain"))
    .with_for_update()
)


def record(
    session: Session,
    *,
    chain: str,
    actor: str,
    action: str,
    subject: str,
    data: Mapping[str, Any] | None = None,
) -> AuditEntry:
    """Append one entry to `chain`; the caller commits."""
    head = _lock_head(session, chain)
    entry = chainlib.make_entry(
        chain=chain,
        seq=head.seq + 1,
        at=chainlib.format_time(utcnow()),
        actor=actor,
        action=action,
        subject=subject,
        data=data or {},
        prev=head.hash,
    )
    values = {
        "chain": chain,
        "seq": entry["seq"],
        "at": entry["at"],
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": chainlib.canonical_json(entry["data"]),
        "prev": entry["prev"],
        "hash": entry["hash"],
    }
    session.execute(_APPEND, values)
    session.execute(_MOVE_HEAD, {"head_chain": chain, "new_seq": entry["seq"],
                                 "new_hash": entry["hash"]})  # fmt: skip
    return AuditEntry(**values)


def _lock_head(session: Session, chain: str) -> AuditHead:
    """Create the head row if needed, then hold it until commit.

    PostgreSQL: SELECT ... FOR UPDATE makes concurrent appenders wait in line. SQLite: the
    write transaction already began IMMEDIATE, which serialises all writers.
    """
    head = session.execute(_HEAD, {"head_chain": chain}).first()
    if head is None:  # the chain's first entry: make the head, whoever comes first
        values = {"chain": chain, "seq": 0, "hash": chainlib.GENESIS}
        if session.get_bind().dialect.name == "postgresql":
            session.execute(pg_insert(AuditHead).values(values).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(AuditHead).values(values).on_conflict_do_nothing())
        head = session.execute(_HEAD, {"head_chain": chain}).one()
    return AuditHead(chain=chain, seq=head.seq, hash=head.hash)


def entries(session: Session, chain: str) -> Iterator[dict[str, Any]]:
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.chain == chain).order_by(col(AuditEntry.seq))
    ).scalars()
    for row in rows:
        yield {
            "chain": row.chain,
            "seq": row.seq,
            "at": row.at,
            "actor": row.actor,
            "action": row.action,
            "subject": row.subject,
            "data": json.loads(row.data),
            "prev": row.prev,
            "hash": row.hash,
        }


def export_lines(session: Session, chain: str) -> Iterator[str]:
    for entry in entries(session, chain):
        yield chainlib.export_line(entry) + "\n"


def head(session: Session, chain: str) -> AuditHead | None:
    return session.get(AuditHead, chain)


def verify_stored(session: Session, chain: str) -> chainlib.Verdict:
    return chainlib.verify_lines(export_lines(session, chain))
