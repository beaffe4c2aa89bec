"""An organisation admin who is also a committee member scores on a tablet without seeing
anything early: the observer's round view, the report and the exports leave out the other
members' levels and reasons for an applicant until the admin's own sheet is in (issue 13).

It runs on a server of its own: making the WV admin a member changes the demo round."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot, serve_demo
from tests.e2e.test_scoring import FIRST, PROCEDURE, SECOND, fill_sheet, sheet_url, submit_sheet

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A demo server of this file's own, on SQLite, as it changes the demo's committee."""
    var_dir = tmp_path_factory.mktemp("var-standing")
    with serve_demo(var_dir, database_url=f"sqlite:///{var_dir / 'app.db'}") as running:
        yield running


def make_member(server: Server, email: str) -> None:
    """The WV admin joins the committee of the procedure whose interviews run."""
    with sqlite3.connect(server.var_dir / "app.db") as db:
        [user_id] = db.execute("SELECT id FROM user_account WHERE email = ?", (email,)).fetchone()
        [procedure_id] = db.execute(
            "SELECT id FROM procedure WHERE reference = ?", (PROCEDURE,)
        ).fetchone()
        db.execute(
            "INSERT INTO procedure_member (procedure_id, user_id, role, function, training_done,"
            " invited_at, accepted_at, ties, reserve) VALUES (?, ?, 'member', 'staff', 1,"
            " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, '', 0)",
            (procedure_id, user_id),
        )


def csv_lines(page: Page, server: Server) -> list[str]:
    response = page.request.get(f"{server.url}/procedures/{PROCEDURE}/report.csv")
    assert response.status == 200
    return response.text().splitlines()


def test_an_admin_who_scores_sees_nothing_early(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    account = server.account("WV admin (NVA)")
    make_member(server, account.email)
    page: Page = new_page("tablet")
    log_in(page, server, account.email, account.password)

    page.goto(f"{server.url}/observer/procedures/{PROCEDURE}")
    for reference in (FIRST, SECOND):
        article = page.locator(f"#a-{reference}")
        expect(article).to_contain_text("Je beoordeelt deze sollicitant zelf")
        expect(article.locator("table")).to_have_count(0)
        expect(article.locator("details")).to_have_count(0)
    expect(page.get_by_role("status").filter(has_text="De keten bevat")).to_be_visible()
    assert serious_findings(page) == []
    screenshot(page, "standing-admin-member-round-before-tablet")
    page.goto(f"{server.url}/procedures/{PROCEDURE}/report")
    expect(page.locator(f"#a-{FIRST} table")).to_have_count(0)
    assert serious_findings(page) == []
    assert [line for line in csv_lines(page, server) if line.startswith(PROCEDURE)] == []
    chain = page.request.get(f"{server.url}/procedures/{PROCEDURE}/audit.jsonl")
    assert chain.status == 403
    deliberation = page.request.get(f"{sheet_url(server, FIRST)}/deliberation")
    assert deliberation.status == 403

    # The admin scores the first applicant; only then the others' sheets for them appear.
    page.goto(sheet_url(server, FIRST))
    fill_sheet(page, 4, "Als beheerder en lid")
    screenshot(page, "standing-admin-member-sheet-tablet")
    submit_sheet(page)
    assert serious_findings(page) == []

    page.goto(f"{server.url}/observer/procedures/{PROCEDURE}")
    first = page.locator(f"#a-{FIRST}")
    expect(first.locator("table")).to_have_count(1)
    expect(first).to_contain_text("Als beheerder en lid")
    expect(first.locator("details").first).to_be_attached()
    second = page.locator(f"#a-{SECOND}")
    expect(second).to_contain_text("Je beoordeelt deze sollicitant zelf")
    expect(second.locator("table")).to_have_count(0)
    assert serious_findings(page) == []
    screenshot(page, "standing-admin-member-round-after-tablet")
    lines = csv_lines(page, server)
    assert any(line.startswith(FIRST) for line in lines)
    assert not any(line.startswith(SECOND) for line in lines)
    # One sheet still open: the chain stays closed to them, and the page says why.
    assert page.request.get(f"{server.url}/procedures/{PROCEDURE}/audit.jsonl").status == 403
