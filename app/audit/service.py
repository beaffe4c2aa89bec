"""Appending to, exporting, verifying and checkpointing the chains stored in the database.

`record` is called by every service function that changes state, inside the same
transaction as the change, so a change and its entry commit or roll back together. A chain
begun now is version 2 (public form plus salted body); a chain begun before keeps version 1.
`checkpoint` signs a chain's head with the platform's key (`app/audit/keys.py`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from sqlalchemy import Table, bindparam, insert, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, func, select

from app.audit import chain as chainlib
from app.audit import checkpoint as checkpoints
from app.audit import keys as signing_keys
from app.audit.models import AuditCheckpoint, AuditEntry, AuditHead
from app.db import utcnow
from app.i18n import gettext as _

PLATFORM_CHAIN = "platform"
# The version of every chain begun from now on.
NEW_CHAIN_VERSION = chainlib.VERSION_2


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
    select(_HEADS.c.seq, _HEADS.c.hash, _HEADS.c.version)
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
    fields: dict[str, Any] = {
        "chain": chain,
        "seq": head.seq + 1,
        "at": chainlib.format_time(utcnow()),
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": data or {},
        "prev": head.hash,
    }
    salt = commitment = None
    if head.version == chainlib.VERSION_2:
        entry = chainlib.make_entry_v2(**fields)
        salt, commitment = entry["salt"], entry["commitment"]
    else:
        entry = chainlib.make_entry(**fields)
    values = {
        "chain": chain,
        "seq": entry["seq"],
        "version": head.version,
        "at": entry["at"],
        "actor": actor,
        "action": action,
        "subject": subject,
        "data": chainlib.canonical_json(fields["data"]),
        "prev": entry["prev"],
        "hash": entry["hash"],
        "salt": salt,
        "commitment": commitment,
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
        values = {
            "chain": chain,
            "seq": 0,
            "hash": chainlib.GENESIS,
            "version": NEW_CHAIN_VERSION,
        }
        if session.get_bind().dialect.name == "postgresql":
            session.execute(pg_insert(AuditHead).values(values).on_conflict_do_nothing())
        else:
            session.execute(sqlite_insert(AuditHead).values(values).on_conflict_do_nothing())
        head = session.execute(_HEAD, {"head_chain": chain}).one()
    return AuditHead(chain=chain, seq=head.seq, hash=head.hash, version=head.version)


def _rows(session: Session, chain: str, subject: str | None = None) -> Iterator[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.chain == chain)
    if subject is not None:
        query = query.where(AuditEntry.subject == subject)
    yield from session.execute(query.order_by(col(AuditEntry.seq))).scalars()


def _full_form(row: AuditEntry) -> dict[str, Any]:
    """The entry as the spec writes it: version 1 whole, version 2 as its full form."""
    data = json.loads(row.data)
    if row.version == chainlib.VERSION_2:
        return {
            "v": chainlib.VERSION_2,
            "chain": row.chain,
            "seq": row.seq,
            "at": row.at,
            "action": row.action,
            "subject": row.subject,
            "commitment": row.commitment,
            "prev": row.prev,
            "hash": row.hash,
            "body": {"actor": row.actor, "data": data},
            "salt": row.salt,
        }
    return {
        "chain": row.chain,
        "seq": row.seq,
        "at": row.at,
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "data": data,
        "prev": row.prev,
        "hash": row.hash,
    }


def entries(session: Session, chain: str) -> Iterator[dict[str, Any]]:
    """The entries as the app reads them: actor and data at the top whatever the version
    (the forms the spec writes come from `full_forms` and the exports)."""
    for row in _rows(session, chain):
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


def full_forms(
    session: Session, chain: str, subject: str | None = None
) -> Iterator[dict[str, Any]]:
    """The full forms (with body and salt) of a chain's entries, or of those about `subject`
    (an applicant's data export: `subject="application:REF"`)."""
    for row in _rows(session, chain, subject):
        yield _full_form(row)


def export_lines(session: Session, chain: str) -> Iterator[str]:
    """The full export (admins and the observer): full forms as JSON Lines."""
    for entry in full_forms(session, chain):
        yield chainlib.export_line(entry) + "\n"


def chain_version(session: Session, chain: str) -> int | None:
    """The version the chain began with, or None when it has no entry yet."""
    head = session.get(AuditHead, chain)
    return head.version if head is not None and head.seq else None


def public_export_lines(session: Session, chain: str) -> Iterator[str]:
    """The public export (anyone): public forms as JSON Lines. A version-1 chain has no
    public form (its entries hash actor and data): ask `chain_version` first."""
    for row in _rows(session, chain):
        if row.version != chainlib.VERSION_2:
            raise ValueError(f"chain {chain} is version {row.version}: it has no public form")
        yield chainlib.public_export_line(_full_form(row)) + "\n"


def head(session: Session, chain: str) -> AuditHead | None:
    return session.get(AuditHead, chain)


def verify_stored(session: Session, chain: str) -> chainlib.Verdict:
    """The full export verified, so every commitment is checked against its stored body."""
    return chainlib.verify_lines(export_lines(session, chain))


# Checkpoints --------------------------------------------------------------------------------


def _checkpoint_dict(row: AuditCheckpoint) -> dict[str, Any]:
    return {
        "version": checkpoints.VERSION,
        "chain": row.chain,
        "seq": row.seq,
        "head": row.head,
        "at": row.at,
        "key": row.key,
        "signature": row.signature,
    }


def checkpoint(
    session: Session, chain: str, *, keyring: signing_keys.Keyring | None = None
) -> dict[str, Any] | None:
    """Sign the chain's current head with the platform's key and store the checkpoint, in
    the caller's transaction (the caller commits). Idempotent: while the head is the same,
    the stored checkpoint is returned and nothing is written. None for a chain without
    entries.

    Call it after the change it should cover has been recorded (a phase change, a draw
    announced or drawn, the sign-off), before committing: the checkpoint then commits or
    rolls back with the change.
    """
    current = session.execute(_HEAD, {"head_chain": chain}).first()  # locks like an append
    if current is None or current.seq == 0:
        return None
    existing = session.execute(
        select(AuditCheckpoint).where(
            AuditCheckpoint.chain == chain, AuditCheckpoint.seq == current.seq
        )
    ).scalar_one_or_none()
    if existing is not None:
        return _checkpoint_dict(existing)
    signer = (keyring or signing_keys.active()).signer()
    signed = signer.sign(
        chain=chain, seq=current.seq, head=current.hash, at=chainlib.format_time(utcnow())
    )
    session.add(
        AuditCheckpoint(
            chain=chain, seq=signed["seq"], head=signed["head"], at=signed["at"],
            key=signed["key"], signature=signed["signature"],
        )
    )  # fmt: skip
    session.flush()
    return signed


def latest_checkpoint(session: Session, chain: str) -> dict[str, Any] | None:
    """The newest stored checkpoint of the chain, or None."""
    row = session.execute(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.chain == chain)
        .order_by(col(AuditCheckpoint.seq).desc())
        .limit(1)
    ).scalar_one_or_none()
    return _checkpoint_dict(row) if row is not None else None


def all_checkpoints(session: Session, chain: str) -> list[dict[str, Any]]:
    """Every stored checkpoint of the chain, oldest first (what anyone may download)."""
    rows = session.execute(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.chain == chain)
        .order_by(col(AuditCheckpoint.seq))
    ).scalars()
    return [_checkpoint_dict(row) for row in rows]


def chains_to_checkpoint(session: Session) -> list[str]:
    """The chains that grew since their newest checkpoint (or have none yet), in name order:
    the daily job signs each of them, so every growing chain has a checkpoint a day."""
    newest = (
        select(AuditCheckpoint.chain, func.max(AuditCheckpoint.seq).label("seq"))
        .group_by(col(AuditCheckpoint.chain))
        .subquery()
    )
    rows = session.execute(
        select(AuditHead.chain)
        .outerjoin(newest, newest.c.chain == AuditHead.chain)
        .where(col(AuditHead.seq) > func.coalesce(newest.c.seq, 0))
        .order_by(col(AuditHead.chain))
    ).scalars()
    return list(rows)


def checkpoint_note(session: Session, base_url: str, chain: str, *, sign: bool = False) -> str:
    """The paragraph that ends every e-mail to an applicant and every receipt: the newest
    signed checkpoint of the procedure's chain, and where anyone can check that the chain
    still contains it. With `sign`, the head is signed now first (in the caller's
    transaction), so the checkpoint covers the change the message reports."""
    signed = checkpoint(session, chain) if sign else latest_checkpoint(session, chain)
    if signed is None:
        return ""
    return (
        "\n\n"
        + _(
            "Keep this checkpoint: the platform's signature on the procedure's public record as "
            "it stood. Anyone can check at %(verify)s that the record published at %(public)s "
            "still contains it, without trusting the platform.",
            verify=f"{base_url}/audit/verify",
            public=f"{base_url}/procedures/{chain}/audit.public.jsonl",
        )
        + "\n\n"
        + checkpoints.to_json(signed)
    )
