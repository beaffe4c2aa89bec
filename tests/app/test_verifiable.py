"""Verifiable by anyone (issue 17): every phase change, draw and sign-off is signed; every
receipt and e-mail to an applicant carries the newest checkpoint; the applicant's receipt
proves a database rewrite; the platform's draw secret is not in the database before the
reveal; the applicant's data export holds the full form of the entries about them."""

from __future__ import annotations

import io
import json
import re
import zipfile
from typing import Any

import pytest
from sqlmodel import Session, col, select

from app.accounts.models import Mail
from app.applications import privacy
from app.applications.models import Application
from app.applications.stores import open_storage
from app.audit import chain as chainlib
from app.audit import checkpoint as checkpoints
from app.audit import service as audit
from app.audit.models import AuditEntry
from app.config import Settings
from app.lottery import draw as drawlib
from app.lottery.draws import derive_platform_secret
from app.lottery.models import Draw, DrawContributor
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_audit_v2 import rewrite_without, without_append_only_guard  # noqa: F401

CHECKPOINT = re.compile(r"\{\s*\"version\": \"selection-audit-checkpoint/v1\".*?\}", re.S)


def mails_to(session: Session, email: str) -> list[Mail]:
    session.rollback()
    return list(
        session.execute(
            select(Mail).where(Mail.recipient == email).order_by(col(Mail.id))
        ).scalars()
    )


def checkpoint_in(body: str) -> dict[str, Any]:
    found = CHECKPOINT.search(body)
    assert found, body
    return checkpoints.parse_checkpoint(found.group(0))


def entry_seq(session: Session, chain: str, action: str) -> list[int]:
    return list(
        session.execute(
            select(AuditEntry.seq)
            .where(AuditEntry.chain == chain, AuditEntry.action == action)
            .order_by(col(AuditEntry.seq))
        ).scalars()
    )


def test_phase_changes_draws_and_mails_are_signed(factory: Factory, session: Session) -> None:
    procedure = factory.procedure(phase=Phase.RESULTS, applicants=5)
    reference = procedure.reference
    signed = {cp["seq"] for cp in audit.all_checkpoints(session, reference)}
    for action in (
        "procedure.published",
        "procedure.open",
        "procedure.closed",
        "procedure.interviews",
        "procedure.results",
        "draw.announced",
        "draw.drawn",
    ):
        seqs = entry_seq(session, reference, action)
        assert seqs, action
        # Signed right after the entry: the checkpoint's head is that entry.
        assert set(seqs) <= signed, action
    # Every applicant's mails end with a checkpoint that covers what they report.
    applicant = factory.last_applicants[0]
    bodies = [m.body for m in mails_to(session, applicant.email)]
    receipt, *later = bodies
    submitted = entry_seq(session, reference, "application.submitted")[0]
    assert checkpoint_in(receipt)["seq"] >= submitted
    assert all(checkpoint_in(body) for body in later)
    assert "/audit/verify" in receipt and f"/procedures/{reference}/audit.public.jsonl" in receipt


def test_the_receipt_s_checkpoint_proves_a_database_rewrite(
    factory: Factory, session: Session, browser: Browser, request: pytest.FixtureRequest
) -> None:
    procedure = factory.procedure(phase=Phase.CLOSED, applicants=2)
    reference = procedure.reference
    applicant = factory.last_applicants[0]
    receipt = checkpoint_in(mails_to(session, applicant.email)[0].body)
    keys = checkpoints.parse_keys(browser.get("/audit/keys.json").text)
    before = browser.get(f"/procedures/{reference}/audit.public.jsonl").text
    assert checkpoints.verify(before.splitlines(keepends=True), receipt, keys).ok

    mine = session.execute(
        select(Application.reference).where(Application.applicant_id == applicant.id)
    ).scalar_one()
    [submitted] = [
        row.seq
        for row in session.execute(
            select(AuditEntry).where(
                AuditEntry.chain == reference,
                AuditEntry.action == "application.submitted",
                AuditEntry.subject == f"application:{mine}",
            )
        ).scalars()
    ]
    assert submitted <= receipt["seq"]
    request.getfixturevalue("without_append_only_guard")
    rewrite_without(session, reference, submitted)
    after = browser.get(f"/procedures/{reference}/audit.public.jsonl").text
    assert chainlib.verify_lines(after.splitlines(keepends=True)).ok  # consistent in itself
    report = checkpoints.verify(after.splitlines(keepends=True), receipt, keys)
    assert not report.ok and report.failure is not None
    assert report.failure.name == checkpoints.CONTAINS


def test_the_platform_s_draw_secret_is_not_in_the_database_before_the_reveal(
    factory: Factory, session: Session, settings: Settings
) -> None:
    procedure = factory.procedure(phase=Phase.RESULTS, applicants=5)
    draw = session.execute(select(Draw).where(Draw.procedure_id == procedure.id)).scalar_one()
    assert draw.platform_secret == ""  # nothing stored
    platform = session.execute(
        select(DrawContributor).where(
            DrawContributor.draw_id == draw.id, DrawContributor.name == "platform"
        )
    ).scalar_one()
    secret = derive_platform_secret(draw.draw_id, draw.created_at)
    assert platform.commitment == drawlib.commitment(secret) and len(secret) >= 16
    assert platform.secret == secret  # revealed at the draw, not before
    [record] = [r for r in json.loads(json.dumps(audit_records(session, procedure)))]
    assert drawlib.verify(record).ok


def audit_records(session: Session, procedure: Procedure) -> list[dict[str, Any]]:
    from app.lottery.draws import published

    return [r for r in published(session, procedure) if r.get("order")]


def test_the_data_export_holds_the_full_form_of_the_entries_about_the_application(
    factory: Factory, session: Session, settings: Settings
) -> None:
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=3)
    applicant = factory.last_applicants[0]
    assert settings.documents_dir is not None
    with privacy.export(
        session, open_storage(settings, session.get_bind().engine), applicant
    ) as archive:
        data = json.loads(zipfile.ZipFile(io.BytesIO(archive.read())).read("data.json"))
    [application] = data["applications"]
    entries = application["audit"]
    actions = [e["action"] for e in entries]
    assert "application.submitted" in actions and "sheet.submitted" in actions
    for entry in entries:
        assert entry["subject"] == f"application:{application['reference']}"
        if entry["action"].startswith("sheet."):
            assert "body" not in entry  # the committee's levels wait for the results
        else:
            assert "body" in entry and "salt" in entry
            body = {"actor": entry["body"]["actor"], "data": entry["body"]["data"]}
            assert chainlib.commitment(entry["salt"], body) == entry["commitment"]
    # Each one is in the public chain as it is.
    public = {
        json.loads(line)["hash"] for line in audit.public_export_lines(session, procedure.reference)
    }
    assert all(entry["hash"] in public for entry in entries)
