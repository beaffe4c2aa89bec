"""Chains in version 2, checkpoints and the public routes, on a real procedure's chain; and
the attack version 2 is for: a database rewrite that the chain alone cannot reveal."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, text
from sqlmodel import Session, col, select

from app.audit import chain as chainlib
from app.audit import checkpoint as checkpoints
from app.audit import service as audit
from app.audit.models import AuditEntry, AuditHead
from app.config import Settings
from app.procedures.models import Phase, Procedure
from tests.app.conftest import Browser, Factory
from tests.app.test_demo_and_cli import run_cli
from tests.app.test_oversight import says

APPEND_ONLY = ("audit_entry", "audit_checkpoint")


@pytest.fixture
def procedure(factory: Factory, session: Session) -> Procedure:
    made = factory.procedure(phase=Phase.DELIBERATION, applicants=2)
    session.rollback()
    return made


def keys_of(browser: Browser) -> list[checkpoints.PublishedKey]:
    response = browser.get("/audit/keys.json")
    assert response.status_code == 200
    return checkpoints.parse_keys(response.text)


def public_export(browser: Browser, procedure: Procedure) -> str:
    response = browser.get(f"/procedures/{procedure.reference}/audit.public.jsonl")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/jsonl")
    return response.text


def test_a_new_procedure_s_chain_is_version_2_with_a_salted_body_per_entry(
    procedure: Procedure, session: Session
) -> None:
    assert audit.chain_version(session, procedure.reference) == chainlib.VERSION_2
    lines = list(audit.export_lines(session, procedure.reference))
    full = [json.loads(line) for line in lines]
    assert len(full) > 10
    assert all(list(e) == [*chainlib.PUBLIC_FIELDS, "body", "salt"] for e in full)
    assert len({e["salt"] for e in full}) == len(full)  # a fresh salt for every entry
    verdict = audit.verify_stored(session, procedure.reference)
    assert verdict.ok and verdict.full_entries == len(full), verdict.describe()
    # The app still reads actor and data as before.
    flat = list(audit.entries(session, procedure.reference))
    assert [e["actor"] for e in flat] == [e["body"]["actor"] for e in full]
    assert [e["data"] for e in flat] == [e["body"]["data"] for e in full]


def test_a_chain_begun_in_version_1_goes_on_in_version_1(
    session: Session, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As after the upgrade: chains that existed keep the version they began with."""
    monkeypatch.setattr(audit, "NEW_CHAIN_VERSION", 1)
    old = factory.bare_procedure()
    monkeypatch.setattr(audit, "NEW_CHAIN_VERSION", chainlib.VERSION_2)
    audit.record(session, chain=old.reference, actor="system", action="x.y", subject="s")
    session.commit()
    assert audit.chain_version(session, old.reference) == 1
    lines = list(audit.export_lines(session, old.reference))
    assert all("v" not in json.loads(line) for line in lines)
    verdict = audit.verify_stored(session, old.reference)
    assert verdict.ok and verdict.v1_entries == len(lines) >= 2
    with pytest.raises(ValueError, match="no public form"):
        list(audit.public_export_lines(session, old.reference))
    # ... and still takes checkpoints, which verify against its full export.
    signed = audit.checkpoint(session, old.reference)
    session.commit()
    assert signed is not None
    keys = audit.signing_keys.active().published()
    assert checkpoints.verify(lines, signed, keys).ok


def test_checkpoints_are_signed_stored_and_idempotent(
    procedure: Procedure, session: Session, browser: Browser
) -> None:
    reference = procedure.reference
    before = audit.all_checkpoints(session, reference)
    assert before  # every phase change on the way here was signed
    audit.record(session, chain=reference, actor="system", action="x.y", subject="s")
    first = audit.checkpoint(session, reference)
    session.commit()
    assert first is not None
    head = audit.head(session, reference)
    assert head is not None and (first["seq"], first["head"]) == (head.seq, head.hash)
    assert audit.checkpoint(session, reference) == first  # the head did not change
    session.commit()
    assert audit.all_checkpoints(session, reference) == [*before, first]
    audit.record(session, chain=reference, actor="system", action="x.y", subject="s")
    second = audit.checkpoint(session, reference)
    session.commit()
    assert second is not None and second["seq"] == first["seq"] + 1
    assert audit.latest_checkpoint(session, reference) == second
    assert audit.checkpoint(session, "NO-SUCH-CHAIN") is None

    # Published to anyone: the checkpoints, the keys, and they verify the public export.
    listed = browser.get(f"/procedures/{reference}/checkpoints.json").json()
    assert listed == {"chain": reference, "checkpoints": [*before, first, second]}
    keys = keys_of(browser)
    assert keys[-1].key == first["key"] and keys[-1].until is None
    export = public_export(browser, procedure)
    for signed in (first, second):
        report = checkpoints.verify(export.splitlines(keepends=True), signed, keys)
        assert report.ok, report.describe()


def test_a_rolled_back_change_takes_its_checkpoint_with_it(
    procedure: Procedure, session: Session
) -> None:
    before = audit.latest_checkpoint(session, procedure.reference)
    audit.record(session, chain=procedure.reference, actor="system", action="x.y", subject="s")
    assert audit.checkpoint(session, procedure.reference) != before
    session.rollback()
    assert audit.latest_checkpoint(session, procedure.reference) == before


def test_anyone_reads_the_public_export_without_actor_data_or_salt(
    procedure: Procedure, session: Session, new_browser: Any
) -> None:
    anyone = new_browser()
    export = public_export(anyone, procedure)
    public = [json.loads(line) for line in export.splitlines()]
    assert all(list(entry) == list(chainlib.PUBLIC_FIELDS) for entry in public)
    full = [json.loads(line) for line in audit.export_lines(session, procedure.reference)]
    assert public == [chainlib.public_form(entry) for entry in full]
    for entry in full:  # nothing of any body, nor any salt, is in the public file
        assert entry["salt"] not in export
        assert json.dumps(entry["body"]["data"], ensure_ascii=False) not in export or (
            entry["body"]["data"] == {}
        )
    assert '"body"' not in export and '"actor"' not in export and '"data"' not in export
    verdict = chainlib.verify_lines(export.splitlines(keepends=True))
    assert verdict.ok and verdict.public_entries == len(public)


def test_no_public_chain_for_drafts_unknown_references_or_version_1_chains(
    factory: Factory, session: Session, new_browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    anyone = new_browser()
    draft = factory.procedure(phase=Phase.DRAFT)
    for path in ("audit.public.jsonl", "checkpoints.json"):
        assert anyone.get(f"/procedures/{draft.reference}/{path}").status_code == 404
        assert anyone.get(f"/procedures/NOPE-1/{path}").status_code == 404
    monkeypatch.setattr(audit, "NEW_CHAIN_VERSION", 1)
    old = factory.procedure(phase=Phase.OPEN)
    response = anyone.get(f"/procedures/{old.reference}/audit.public.jsonl")
    assert response.status_code == 404 and says(response, "before chains had a public form")
    assert anyone.get(f"/procedures/{old.reference}/checkpoints.json").status_code == 200


@pytest.fixture
def without_append_only_guard(session: Session) -> Iterator[None]:
    """What the attacker with database access does first (and the test undoes after, on
    PostgreSQL, whose database the tests share)."""
    postgres = session.get_bind().dialect.name == "postgresql"
    session.rollback()
    for table in APPEND_ONLY:
        if postgres:
            trigger = f"{table}_append_only"
            session.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER {trigger}"))
        else:
            for verb in ("update", "delete"):
                session.execute(text(f"DROP TRIGGER {table}_no_{verb}"))
    session.commit()
    yield
    session.rollback()
    if postgres:
        for table in APPEND_ONLY:
            session.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_append_only"))
        session.commit()


def rewrite_without(session: Session, chain: str, dropped_seq: int) -> None:
    """Delete one entry and rehash every later one with the platform's own chain code, in
    the database, as issue 17's attacker did; the head follows. Bodies and salts are kept."""
    session.execute(
        text("DELETE FROM audit_entry WHERE chain = :chain AND seq = :seq"),
        {"chain": chain, "seq": dropped_seq},
    )
    previous = session.execute(
        select(AuditEntry).where(AuditEntry.chain == chain, AuditEntry.seq == dropped_seq - 1)
    ).scalar_one()
    prev = previous.hash
    later = session.execute(
        select(AuditEntry)
        .where(AuditEntry.chain == chain, col(AuditEntry.seq) > dropped_seq)
        .order_by(col(AuditEntry.seq))
    ).scalars()
    rows = [
        (row.id, row.seq, row.at, row.actor, row.action, row.subject, row.data, row.salt)
        for row in later
    ]
    for row_id, seq, at, actor, action, subject, data, salt in rows:
        rebuilt = chainlib.make_entry_v2(
            chain=chain,
            seq=seq - 1,
            at=at,
            actor=actor,
            action=action,
            subject=subject,
            data=json.loads(data),
            prev=prev,
            salt=salt,
        )
        session.execute(
            text("UPDATE audit_entry SET seq = :seq, prev = :prev, hash = :hash WHERE id = :id"),
            {"seq": seq - 1, "prev": prev, "hash": rebuilt["hash"], "id": row_id},
        )
        prev = rebuilt["hash"]
    last_seq = session.execute(
        select(func.max(AuditEntry.seq)).where(AuditEntry.chain == chain)
    ).scalar_one()
    session.execute(
        text("UPDATE audit_head SET seq = :seq, hash = :hash WHERE chain = :chain"),
        {"seq": last_seq, "hash": prev, "chain": chain},
    )
    # And the stored checkpoints go too: only the copies handed out remain.
    session.execute(text("DELETE FROM audit_checkpoint WHERE chain = :chain"), {"chain": chain})
    session.commit()


def test_a_database_rewrite_passes_the_chain_check_but_the_old_checkpoint_proves_it(
    procedure: Procedure,
    session: Session,
    new_browser: Any,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    tmp_path: Path,
) -> None:
    reference = procedure.reference
    anyone = new_browser()
    # An applicant's receipt carries the checkpoint of that day; they keep it, and the keys.
    receipt = audit.checkpoint(session, reference)
    session.commit()
    assert receipt is not None
    kept_keys = anyone.get("/audit/keys.json").text
    before = public_export(anyone, procedure)
    assert checkpoints.verify(
        before.splitlines(keepends=True), receipt, checkpoints.parse_keys(kept_keys)
    ).ok

    # The attack: an application's submission vanishes, the rest is rehashed to fit.
    submitted = (
        session.execute(
            select(AuditEntry.seq)
            .where(AuditEntry.chain == reference, AuditEntry.action == "application.submitted")
            .order_by(col(AuditEntry.seq))
        )
        .scalars()
        .first()
    )
    assert submitted is not None and submitted < receipt["seq"]
    request.getfixturevalue("without_append_only_guard")
    rewrite_without(session, reference, submitted)
    session.expire_all()

    # Without the checkpoint nobody can tell: every check passes, as in issue 17.
    assert audit.verify_stored(session, reference).ok
    after = public_export(anyone, procedure)
    assert after != before
    assert chainlib.verify_lines(after.splitlines(keepends=True)).ok
    assert anyone.get(f"/procedures/{reference}/checkpoints.json").json()["checkpoints"] == []
    # With the receipt's checkpoint the rewrite is plain: the signed entry is not there.
    keys = checkpoints.parse_keys(kept_keys)
    report = checkpoints.verify(after.splitlines(keepends=True), receipt, keys)
    assert [step.ok for step in report.steps] == [True, True, False]
    assert report.failure is not None and report.failure.name == checkpoints.CONTAINS
    full = list(audit.export_lines(session, reference))
    assert not checkpoints.verify(full, receipt, keys).ok

    # The same in the browser: the public export and the pasted checkpoint.
    page = anyone.post(
        "/audit/verify",
        {"checkpoint": checkpoints.to_json(receipt)},
        files={"file": ("chain.jsonl", after.encode())},
    )
    assert page.status_code == 200
    assert says(page, "The chain does not check out against the checkpoint of")
    assert says(page, "The checkpoint's entry in the chain")
    assert says(page, "The chain is intact.")  # in itself, yes

    # And on the command line, with the keys the applicant kept.
    export_file, checkpoint_file, keys_file = (
        tmp_path / name for name in ("chain.jsonl", "cp.json", "keys.json")
    )
    export_file.write_text(after)
    checkpoint_file.write_text(checkpoints.to_json(receipt))
    keys_file.write_text(kept_keys)
    code, out, _ = run_cli(monkeypatch, settings, "verify-audit", str(export_file))
    assert code == 0 and out.startswith("OK")
    code, out, _ = run_cli(
        monkeypatch,
        settings,
        "verify-audit",
        str(export_file),
        "--checkpoint",
        str(checkpoint_file),
        "--keys",
        str(keys_file),
    )
    assert code == 1 and "FAILED: the checkpoint's entry in the chain" in out


def test_the_verify_page_with_a_checkpoint(
    procedure: Procedure, session: Session, new_browser: Any
) -> None:
    anyone = new_browser()
    signed = audit.checkpoint(session, procedure.reference)
    session.commit()
    assert signed is not None
    export = public_export(anyone, procedure).encode()
    ok = anyone.post(
        "/audit/verify",
        {"checkpoint": json.dumps(signed)},
        files={"file": ("chain.jsonl", export)},
    )
    assert ok.status_code == 200 and says(ok, "This chain still contains the chain of")
    assert says(ok, "entries in public form")
    # From a file instead of pasted, with the keys given too; and in Dutch.
    anyone.get("/lang/nl")
    keys = anyone.get("/audit/keys.json").content
    dutch = anyone.post(
        "/audit/verify",
        files={
            "file": ("chain.jsonl", export),
            "checkpoint_file": ("cp.json", checkpoints.to_json(signed).encode()),
            "keys_file": ("keys.json", keys),
        },
    )
    assert dutch.status_code == 200 and says(dutch, "Deze keten bevat nog steeds de keten van")
    anyone.get("/lang/en")
    # A forged head: the signature is named as what fails.
    forged = signed | {"head": "0" * 64}
    bad = anyone.post(
        "/audit/verify",
        {"checkpoint": json.dumps(forged)},
        files={"file": ("chain.jsonl", export)},
    )
    assert bad.status_code == 200 and says(bad, "The first check that fails: the checkpoint")
    assert says(bad, "The signature does not match the checkpoint")
    # Not a checkpoint, or keys that are not keys: 422 with the reason, never a 500.
    for form, files in (
        ({"checkpoint": "{not json"}, {}),
        ({"checkpoint": json.dumps(signed | {"at": "2027-13-45T99:00:00.000000Z"})}, {}),
        ({"checkpoint": json.dumps(signed)}, {"keys_file": ("keys.json", b"[]")}),
    ):
        refused = anyone.post(
            "/audit/verify", form, files={"file": ("chain.jsonl", export), **files}
        )
        assert refused.status_code == 422, refused.text
        assert says(refused, "checkpoint") or says(refused, "keys")


def test_the_full_export_for_the_observer_holds_full_forms(
    procedure: Procedure, factory: Factory, new_browser: Any
) -> None:
    observer = new_browser()
    observer.login(factory.committee(procedure)["observer"].email)
    response = observer.get(f"/procedures/{procedure.reference}/audit.jsonl")
    assert response.status_code == 200
    lines = response.text.splitlines()
    assert all({"body", "salt"} <= set(json.loads(line)) for line in lines)
    assert chainlib.verify_lines(lines).full_entries == len(lines)


def test_cli_public_export_checkpoint_and_key_rotation(
    procedure: Procedure,
    session: Session,
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
    tmp_path: Path,
) -> None:
    code, public, _ = run_cli(
        monkeypatch, settings, "export-audit", "--public", procedure.reference
    )
    assert code == 0 and '"body"' not in public
    signed = audit.checkpoint(session, procedure.reference)
    session.commit()
    assert signed is not None
    export_file, checkpoint_file = tmp_path / "chain.jsonl", tmp_path / "cp.json"
    export_file.write_text(public)
    checkpoint_file.write_text(checkpoints.to_json(signed))
    # Without --keys, this installation's published keys.
    code, out, _ = run_cli(
        monkeypatch,
        settings,
        "verify-audit",
        str(export_file),
        "--checkpoint",
        str(checkpoint_file),
    )
    assert code == 0 and "still contains the chain of" in out, out

    code, out, _ = run_cli(monkeypatch, settings, "rotate-signing-key")
    assert code == 0 and "New signing key" in out
    published = audit.signing_keys.active().published()
    assert len(published) == 2 and published[0].key == signed["key"]
    assert published[0].until is not None
    # The old checkpoint still verifies; a new one is signed with the new key.
    code, out, _ = run_cli(
        monkeypatch,
        settings,
        "verify-audit",
        str(export_file),
        "--checkpoint",
        str(checkpoint_file),
    )
    assert code == 0, out
    audit.record(session, chain=procedure.reference, actor="system", action="x.y", subject="s")
    newer = audit.checkpoint(session, procedure.reference)
    session.commit()
    assert newer is not None and newer["key"] == published[1].key

    checkpoint_file.write_text("{}")
    code, _, err = run_cli(
        monkeypatch,
        settings,
        "verify-audit",
        str(export_file),
        "--checkpoint",
        str(checkpoint_file),
    )
    assert code == 2 and "the checkpoint lacks fields" in err
    monkeypatch.setenv("SIGNING_KEY_SEED", "00" * 32)
    code, _, err = run_cli(monkeypatch, settings, "rotate-signing-key")
    assert code == 2 and "SIGNING_KEY_SEED gives the signing key" in err


def test_heads_know_their_version(procedure: Procedure, session: Session) -> None:
    head = session.get(AuditHead, procedure.reference)
    assert head is not None and head.version == chainlib.VERSION_2
    rows = session.execute(
        select(AuditEntry).where(AuditEntry.chain == procedure.reference)
    ).scalars()
    assert all(row.version == 2 and row.salt and row.commitment for row in rows)
    # The phase changes were signed on the way; each checkpoint's head is an entry's hash.
    hashes = set(
        session.execute(
            select(AuditEntry.hash).where(AuditEntry.chain == procedure.reference)
        ).scalars()
    )
    signed = audit.all_checkpoints(session, procedure.reference)
    assert signed and all(cp["head"] in hashes for cp in signed)


def test_the_upgrade_leaves_existing_chains_in_version_1(
    session: Session, database_url: str
) -> None:
    from alembic import command

    from app.migrate import alembic_config

    session.close()
    config = alembic_config(database_url)
    command.downgrade(config, "0006_deliberation")
    first = chainlib.make_entry(
        chain="OLD-1",
        seq=1,
        at="2026-11-01T09:00:00.000000Z",
        actor="user:1",
        action="procedure.created",
        subject="procedure:OLD-1",
        data={"places": 2},
        prev=chainlib.GENESIS,
    )
    session.execute(
        text(
            "INSERT INTO audit_entry (chain, seq, at, actor, action, subject, data, prev, hash) "
            "VALUES (:chain, :seq, :at, :actor, :action, :subject, :data, :prev, :hash)"
        ),
        first | {"data": chainlib.canonical_json(first["data"])},
    )
    session.execute(
        text("INSERT INTO audit_head (chain, seq, hash) VALUES ('OLD-1', 1, :hash)"),
        {"hash": first["hash"]},
    )
    session.commit()
    command.upgrade(config, "head")
    audit.record(session, chain="OLD-1", actor="system", action="x.y", subject="s")
    audit.record(session, chain="NEW-1", actor="system", action="x.y", subject="s")
    session.commit()
    assert audit.chain_version(session, "OLD-1") == 1
    assert audit.chain_version(session, "NEW-1") == chainlib.VERSION_2
    verdict = audit.verify_stored(session, "OLD-1")
    assert verdict.ok and verdict.v1_entries == 2, verdict.describe()
    assert audit.verify_stored(session, "NEW-1").full_entries == 1


def test_the_daily_job_signs_every_chain_that_grew_once(
    app: Any, procedure: Procedure, session: Session
) -> None:
    from app.worker import checkpoint_once

    # Signed at its last phase change; it grows once more after that.
    audit.record(session, chain=procedure.reference, actor="system", action="x.y", subject="s")
    session.commit()
    due = audit.chains_to_checkpoint(session)
    assert procedure.reference in due and audit.PLATFORM_CHAIN in due
    assert checkpoint_once(app.state.jobs) == due
    session.rollback()
    assert audit.chains_to_checkpoint(session) == []
    assert checkpoint_once(app.state.jobs) == []  # nothing grew: nothing signed twice
    latest = audit.latest_checkpoint(session, procedure.reference)
    head = audit.head(session, procedure.reference)
    assert latest is not None and head is not None and latest["head"] == head.hash
    audit.record(session, chain=procedure.reference, actor="system", action="x.y", subject="s")
    session.commit()
    assert audit.chains_to_checkpoint(session) == [procedure.reference]
