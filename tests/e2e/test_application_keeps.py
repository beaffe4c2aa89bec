"""On a phone: a bad PDF beside a good one costs only itself (the fields, the answers, the
declaration and the good PDF stay, the message sits at the bad file), and a form still open
when the deadline passes gives, one second later, the page that says when it closed, with
what was sent kept as a draft."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlmodel import Session

from app import demo
from app.accounts.models import User
from app.accounts.service import create_user
from app.config import Settings
from app.db import Database, connect, utcnow
from app.forms import AMSTERDAM
from app.procedures import editor, queries
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot
from tests.e2e.test_applying import pdf_file

pytestmark = pytest.mark.e2e
PASSWORD = "een lang wachtwoord voor de browsertest"


@pytest.fixture
def server_database(server: Server) -> Iterator[Database]:
    """The running server's database, to add data as the service layer does (each helper
    commits and closes its session, so the server never waits for the write lock)."""
    database = connect(server.database_url)
    yield database
    database.dispose()


def new_user(session: Session, name: str) -> User:
    return create_user(
        session,
        email=f"e2e-{secrets.token_hex(4)}@example.org",
        name=name,
        password=PASSWORD,
    )


def new_applicant(database: Database, name: str) -> User:
    with database.session(write=True) as session:
        return new_user(session, name)


def fill_in(page: Page, note: str) -> None:
    page.fill("#f-phone", "06 12345678")
    page.fill("#f-big", "19012345601")
    for area in page.locator("textarea[name^='answer-']").all():
        area.fill("Ik voldoe hieraan: zie mijn cv.")
    page.locator("select[name^='relation-']").first.select_option("colleague")
    page.locator("input[name^='note-']").first.fill(note)


def test_a_bad_pdf_beside_a_good_one_keeps_everything_else(
    server: Server, server_database: Database, new_page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    applicant = new_applicant(server_database, "Eva de Vries")
    page: Page = new_page("phone")
    log_in(page, server, applicant.email, PASSWORD)
    page.goto(f"{server.url}/procedures/ANE-UTR-2027-1/apply")
    fill_in(page, "Zelfde afdeling in 2024")
    fake = tmp_path / "cv-als-tekst.pdf"
    fake.write_text("Dit is een tekstbestand dat .pdf heet.\n" * 30)
    page.set_input_files("#f-cv", fake)
    page.set_input_files("#f-motivation", pdf_file(tmp_path, "motivatie.pdf"))
    with page.expect_navigation():
        page.get_by_role("button", name="Concept opslaan").click()

    cv_field = page.locator(".field", has=page.locator("#f-cv"))
    expect(cv_field.locator(".field-error")).to_contain_text("cv-als-tekst.pdf")
    expect(page.locator("#f-cv")).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("alert")).to_contain_text("cv-als-tekst.pdf")
    # everything else stayed: the fields, the answers, the declaration, the good PDF
    expect(page.locator("#f-phone")).to_have_value("06 12345678")
    expect(page.locator("#f-big")).to_have_value("19012345601")
    for area in page.locator("textarea[name^='answer-']").all():
        expect(area).to_have_value("Ik voldoe hieraan: zie mijn cv.")
    expect(page.locator("select[name^='relation-']").first).to_have_value("colleague")
    expect(page.locator("input[name^='note-']").first).to_have_value("Zelfde afdeling in 2024")
    letter_field = page.locator(".field", has=page.locator("#f-motivation"))
    expect(letter_field).to_contain_text("Al geüpload: motivatie.pdf")
    expect(letter_field.locator(".field-error")).to_have_count(0)
    page.locator("#f-cv").scroll_into_view_if_needed()
    screenshot(page, "application-bad-pdf-kept-phone")
    assert serious_findings(page) == []

    # only the CV again: the letter is already there
    page.set_input_files("#f-cv", pdf_file(tmp_path, "cv.pdf"))
    with page.expect_navigation():
        page.get_by_role("button", name="Sollicitatie versturen").click()
    expect(page.get_by_role("status")).to_contain_text("ANE-UTR-2027-1-")
    expect(page.locator("body")).to_contain_text("motivatie.pdf")
    screenshot(page, "application-bad-pdf-then-receipt-phone")


def closing_soon(database: Database, server: Server) -> Procedure:
    """A procedure whose deadline is the next whole minute at least 40 s away, made the way
    an admin would (the demo's own walk), opened a minute ago."""
    with database.session(write=True) as session:
        return _closing_soon(session, server)


def _closing_soon(session: Session, server: Server) -> Procedure:
    committee = [
        (new_user(session, f"{role.title()} Deadline"), role, function)
        for role, function in (
            ("chair", "opleider"), ("member", "staff"), ("member", "aios"), ("observer", ""),
        )
    ]  # fmt: skip
    spec = demo.DemoProcedure(
        organisation="nva",
        reference=f"TST-DEADLINE-{secrets.token_hex(3).upper()}",
        phase=Phase.PUBLISHED,
        places=2,
        title="Deadlineprocedure (browsertest)",
        specialty="Anesthesiologie",
        region="Utrecht",
        description="",
        closes_in_days=40,  # opens in five days: published, not yet open
    )
    settings = Settings(VAR_DIR=server.var_dir, DATABASE_URL=server.database_url)
    procedure = demo.complete_procedure(
        session,
        settings,
        organisation=queries.get_organisation(session, "nva"),
        spec=spec,
        committee=committee,
        actor="system",
        now=utcnow(),
    )
    soon = utcnow() + timedelta(seconds=40)
    deadline = soon.replace(second=0, microsecond=0) + timedelta(minutes=1)
    assert procedure.letter_round_result_at is not None
    editor.set_timeline(
        session,
        actor="system",
        procedure=procedure,
        opens_at=utcnow() - timedelta(minutes=1),
        closes_at=deadline,
        letter_round_result_at=procedure.letter_round_result_at,
        interview_days=[datetime.fromisoformat(d).date() for d in procedure.interview_days],
        final_result_at=procedure.final_result_at,
        justification="De sluiting is verplaatst naar de eerstvolgende minuut.",
    )
    return procedure


def test_the_form_one_second_after_the_deadline_is_the_closed_page(
    server: Server, server_database: Database, new_page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    procedure = closing_soon(server_database, server)
    assert procedure.closes_at is not None
    applicant = new_applicant(server_database, "Late Laura")
    page: Page = new_page("phone")
    log_in(page, server, applicant.email, PASSWORD)
    url = f"{server.url}/procedures/{procedure.reference}/apply"
    page.goto(url)
    expect(page.locator("h1")).to_have_text("Je sollicitatie")  # open by the clock
    fill_in(page, "Stage")
    page.set_input_files("#f-cv", pdf_file(tmp_path, "cv.pdf"))

    # 23:59:01 for a deadline of 23:59: one second past it
    wait = (procedure.closes_at + timedelta(seconds=1) - datetime.now(UTC)).total_seconds()
    assert wait > 0, "the procedure closed before the form was filled in"
    time.sleep(wait)
    with page.expect_navigation() as answer:
        page.get_by_role("button", name="Sollicitatie versturen").click()
    assert answer.value is not None and answer.value.status == 409
    expect(page.locator("h1")).to_have_text("De sollicitatie is gesloten")
    expect(page.get_by_role("status")).to_contain_text("als concept bewaard")
    screenshot(page, "application-late-submit-kept-phone")

    response = page.goto(url)
    assert response is not None and response.status == 200
    expect(page.locator("h1")).to_have_text("De sollicitatie is gesloten")
    when = procedure.closes_at.astimezone(AMSTERDAM).strftime("%H:%M")
    expect(page.locator(".closed-at")).to_contain_text(f"om {when} (Nederlandse tijd)")
    expect(page.locator("form[action$='/apply']")).to_have_count(0)
    screenshot(page, "application-closed-phone")
    assert serious_findings(page) == []

    page.goto(f"{server.url}/procedures/{procedure.reference}")
    expect(page.locator(".closed-at")).to_contain_text(f"om {when}")
    expect(page.get_by_role("link", name="Solliciteren")).to_have_count(0)
    page.goto(f"{server.url}/?q={procedure.reference}")
    card = page.locator(".card", has_text=procedure.title)
    expect(card).to_contain_text("Gesloten")
    expect(card).not_to_contain_text("Open voor sollicitaties")
    screenshot(page, "catalogue-closed-phone")
