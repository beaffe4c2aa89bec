"""The stored chain: appends in the change's transaction, serialised, tamper-evident."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

from app.audit import service as audit
from app.audit.chain import GENESIS
from app.db import Database
from tests.app.conftest import Factory

CHAIN = "TST-CHAIN-1"


def append(session: Session, count: int, chain: str = CHAIN) -> None:
    for number in range(count):
        audit.record(
            session,
            chain=chain,
            actor="user:1",
            action="remark.added",
            subject=f"remark:{number}",
            data={"number": number, "text": "Opmerking ✓"},
        )
        session.commit()


@pytest.fixture
def without_append_only_guard(session: Session) -> Iterator[None]:
    """The database itself refuses edits; a tamper test has to remove that guard first.

    SQLite tests run on a copy of their own; PostgreSQL tests share one database, so the
    guard is put back afterwards.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres:
        session.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER audit_entry_append_only"))
    else:
        session.execute(text("DROP TRIGGER audit_entry_no_update"))
        session.execute(text("DROP TRIGGER audit_entry_no_delete"))
    session.commit()
    yield
    session.rollback()
    if postgres:
        session.execute(text("ALTER TABLE audit_entry ENABLE TRIGGER audit_entry_append_only"))
        session.commit()


def test_entries_link_up_and_the_head_follows(session: Session) -> None:
    append(session, 3)
    entries = list(audit.entries(session, CHAIN))
    assert [entry["seq"] for entry in entries] == [1, 2, 3]
    assert entries[0]["prev"] == GENESIS
    assert entries[1]["prev"] == entries[0]["hash"]
    head = audit.head(session, CHAIN)
    assert head is not None and head.seq == 3 and head.hash == entries[-1]["hash"]
    assert audit.verify_stored(session, CHAIN).ok


def test_an_entry_rolls_back_with_its_change(session: Session) -> None:
    append(session, 1)
    audit.record(session, chain=CHAIN, actor="system", action="x.y", subject="s")
    session.rollback()
    assert [e["seq"] for e in audit.entries(session, CHAIN)] == [1]
    append(session, 1)
    assert audit.verify_stored(session, CHAIN).ok


def test_the_database_refuses_to_update_or_delete_an_entry(session: Session) -> None:
    append(session, 2)
    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE audit_entry SET actor = 'user:9' WHERE seq = 1"))
    session.rollback()
    with pytest.raises(DBAPIError):
        session.execute(text("DELETE FROM audit_entry WHERE seq = 1"))
    session.rollback()
    assert audit.verify_stored(session, CHAIN).ok


@pytest.mark.parametrize("tampering", ["edit", "delete", "reorder"])
def test_tampering_in_the_database_is_named_by_the_verifier(
    session: Session, tampering: str, request: pytest.FixtureRequest
) -> None:
    append(session, 6)
    request.getfixturevalue("without_append_only_guard")
    if tampering == "edit":
        session.execute(
            text("UPDATE audit_entry SET data = :data WHERE seq = 4"), {"data": '{"number":99}'}
        )
        expected_seq = 4
    elif tampering == "delete":
        session.execute(text("DELETE FROM audit_entry WHERE seq = 4"))
        expected_seq = 5  # the entry after the gap is the first that fails
    else:
        session.execute(text("UPDATE audit_entry SET seq = 100 WHERE seq = 3"))
        session.execute(text("UPDATE audit_entry SET seq = 3 WHERE seq = 4"))
        session.execute(text("UPDATE audit_entry SET seq = 4 WHERE seq = 100"))
        expected_seq = 3
    session.commit()
    verdict = audit.verify_stored(session, CHAIN)
    assert not verdict.ok
    assert verdict.failed_seq == expected_seq, verdict.describe()


def test_chains_are_independent(session: Session) -> None:
    append(session, 2, chain="A-1")
    append(session, 3, chain="B-1")
    assert [e["seq"] for e in audit.entries(session, "A-1")] == [1, 2]
    assert audit.verify_stored(session, "B-1").entries == 3


def test_100_concurrent_actions_leave_one_unbroken_chain(
    database: Database, factory: Factory
) -> None:
    procedure = factory.bare_procedure()
    start = threading.Barrier(20)
    errors: list[BaseException] = []

    def worker(number: int) -> None:
        try:
            start.wait()
            for round_ in range(5):
                with database.session(write=True) as session:
                    audit.record(
                        session,
                        chain=procedure.reference,
                        actor=f"user:{number}",
                        action="remark.added",
                        subject=f"remark:{number}-{round_}",
                    )
                    session.commit()
        except BaseException as error:  # reported below, not lost in the thread
            errors.append(error)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with database.session() as session:
        entries = list(audit.entries(session, procedure.reference))
        assert [e["seq"] for e in entries] == list(range(1, len(entries) + 1))
        assert sum(e["action"] == "remark.added" for e in entries) == 100
        verdict = audit.verify_stored(session, procedure.reference)
        assert verdict.ok, verdict.describe()
