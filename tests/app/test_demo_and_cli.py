"""The demo data, each demo account's landing page, and the command-line tool."""

from __future__ import annotations

import io
import json
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from app import demo
from app.__main__ import main
from app.audit import service as audit
from app.config import Settings
from app.db import Database
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser

LANDING = {
    "platform admin": ("/admin", "Platform administration"),
    "WV admin (NVA)": ("/manage", "Manage procedures"),
    "committee chair (opleider)": ("/committee", "Your committees"),
    "committee member (staff)": ("/committee", "Your committees"),
    "committee member (aios)": ("/committee", "Your committees"),
    "observer": ("/observer", "Procedures you observe"),
    "applicant": ("/my", "My applications"),
    "committee member (panel B)": ("/committee", "Your committees"),
    "applicant (interview to book)": ("/my", "My applications"),
}


@pytest.fixture
def loaded(database: Database, settings: Settings) -> list[demo.DemoAccount]:
    return demo.load(database, settings)


def test_every_demo_account_lands_on_the_page_for_its_role(
    loaded: list[demo.DemoAccount],
    new_browser,
    settings: Settings,  # type: ignore[no-untyped-def]
) -> None:
    assert {a.role for a in loaded} == set(LANDING)
    assert len(loaded) == len(LANDING) + 1  # two applicants
    assert demo.saved_accounts(settings.var_dir) == loaded
    for account in loaded:
        browser: Browser = new_browser()
        browser.login(account.email, account.password)
        target, heading = LANDING[account.role]
        assert browser.get("/home").headers["location"] == target, account.role
        page = browser.get(target)
        assert page.status_code == 200 and heading in page.text, account.role


def test_demo_has_a_procedure_in_every_phase_and_every_chain_verifies(
    loaded: list[demo.DemoAccount], database: Database
) -> None:
    with database.session() as session:
        procedures = session.execute(select(Procedure)).scalars().all()
        assert {p.phase for p in procedures} == {phase.value for phase in Phase}
        for procedure in procedures:
            verdict = audit.verify_stored(session, procedure.reference)
            assert verdict.ok, (procedure.reference, verdict.describe())
        assert audit.verify_stored(session, audit.PLATFORM_CHAIN).ok
        assert demo.is_loaded(session)


def test_public_catalogue_shows_published_procedures_but_no_drafts(
    loaded: list[demo.DemoAccount], browser: Browser
) -> None:
    page = browser.get("/").text
    assert "Cluster Utrecht (voorjaar 2027)" in page
    assert "(najaar 2027)" not in page  # the draft
    detail = browser.get("/procedures/ANE-UTR-2027-1")
    assert detail.status_code == 200 and "dr. Maarten de Vries" in detail.text
    assert browser.get("/procedures/ANE-UTR-2027-2").status_code == 404


def run_cli(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, *args: str, stdin: str = ""
) -> tuple[int, str, str]:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("VAR_DIR", str(settings.var_dir))
    from app.config import get_settings

    get_settings.cache_clear()
    out, err = io.StringIO(), io.StringIO()
    monkeypatch.setattr(sys, "stdout", out)
    monkeypatch.setattr(sys, "stderr", err)
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    try:
        code = main(list(args))
    finally:
        get_settings.cache_clear()
    return code, out.getvalue(), err.getvalue()


def test_cli_demo_export_and_verify(
    monkeypatch: pytest.MonkeyPatch, settings: Settings, tmp_path: Path
) -> None:
    code, out, _ = run_cli(monkeypatch, settings, "demo")
    assert code == 0 and "beheer@example.org" in out
    code, out, _ = run_cli(monkeypatch, settings, "demo")
    assert code == 2
    assert run_cli(monkeypatch, settings, "demo", "--if-empty")[0] == 0

    code, exported, _ = run_cli(monkeypatch, settings, "export-audit", "ANE-UTR-2027-1")
    assert code == 0
    lines = exported.splitlines()
    assert [json.loads(line)["seq"] for line in lines] == list(range(1, len(lines) + 1))
    path = tmp_path / "chain.jsonl"
    path.write_text(exported)
    code, out, _ = run_cli(monkeypatch, settings, "verify-audit", str(path))
    assert code == 0 and out.startswith("OK")

    tampered = [json.loads(line) for line in lines]
    tampered[2]["actor"] = "user:999"
    path.write_text("".join(json.dumps(e) + "\n" for e in tampered))
    code, out, _ = run_cli(monkeypatch, settings, "verify-audit", str(path))
    assert code == 1 and "line 3 (seq 3)" in out

    assert run_cli(monkeypatch, settings, "export-audit", "NOPE-1")[0] == 1
    assert run_cli(monkeypatch, settings, "verify-audit", str(tmp_path / "missing"))[0] == 2


def test_cli_create_admin(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> None:
    args = ("create-admin", "--email", "root@example.org", "--name", "Root", "--password-stdin")
    code, out, _ = run_cli(monkeypatch, settings, *args, stdin="a long enough password\n")
    assert code == 0 and "created" in out
    assert run_cli(monkeypatch, settings, *args, stdin="a long enough password\n")[0] == 2
    bad = ("create-admin", "--email", "x@example.org", "--name", "X", "--password-stdin")
    assert run_cli(monkeypatch, settings, *bad, stdin="short\n")[0] == 2


def test_demo_applicants_have_applications_through_the_letter_round(
    loaded: list[demo.DemoAccount],
    new_browser,
    database: Database,  # type: ignore[no-untyped-def]
) -> None:
    second = next(a for a in loaded if a.email == "sollicitant2@example.org")
    browser: Browser = new_browser()
    browser.login(second.email, second.password)
    page = browser.get("/my").text
    for reference in ("ANE-UTR-2027-1-0001", "INT-NN-2027-1-0002", "ANE-UTR-2026-2-0002"):
        assert reference in page
    status = browser.get("/applications/ANE-UTR-2026-2-0002").text
    assert "invited to an interview" in status
    with database.session() as session:
        for reference in ("INT-NN-2027-1", "ANE-UTR-2026-2"):
            assert audit.verify_stored(session, reference).ok
