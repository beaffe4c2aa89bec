"""The observer in the browser, on the demo procedure whose results are published
(ANE-UTR-2026-1): reads the round, adds a remark, downloads and verifies the chain,
downloads the PDF report (its first page rendered to PNG), and signs the round off."""

from __future__ import annotations

import pypdfium2
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import ARTIFACTS, Server, confirm, log_in, screenshot

pytestmark = pytest.mark.e2e

PROCEDURE = "ANE-UTR-2026-1"


def test_the_observer_reads_remarks_verifies_and_signs_off(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    account = server.account("observer")
    page: Page = new_page("desktop")
    log_in(page, server, account.email, account.password)
    page.goto(f"{server.url}/observer")
    page.locator(f"a[href='/observer/procedures/{PROCEDURE}']").click()
    expect(page.locator("h1")).to_have_text("De ronde, alleen lezen")
    assert serious_findings(page) == []

    page.select_option("#f-application", f"{PROCEDURE}-0001")
    page.select_option("#f-about", "sheets")
    page.fill("#f-text", "Twee leden lagen twee niveaus uiteen op samenwerking; goed besproken.")
    with page.expect_navigation():
        page.get_by_role("button", name="Voeg de opmerking toe").click()
    expect(page.locator("main")).to_contain_text("goed besproken")
    screenshot(page, "observer-round-desktop")

    with page.expect_download() as download:
        page.get_by_role("link", name="Keten downloaden (JSON Lines)").click()
    chain = download.value.path()
    page.goto(f"{server.url}/audit/verify")
    page.set_input_files("#f-file", str(chain))
    with page.expect_navigation():
        page.get_by_role("button", name="Controleren").click()
    expect(page.get_by_role("status").first).to_contain_text("De keten is intact")
    assert serious_findings(page) == []

    page.goto(f"{server.url}/procedures/{PROCEDURE}/report")
    assert serious_findings(page) == []
    # The PDF is made by the job worker (inside the demo server on SQLite): the link leads
    # to a page that says so, and shows the download once it is there (htmx polls).
    with page.expect_navigation():
        page.get_by_role("link", name="Downloaden als pdf").click()
    expect(page.locator("#pdf-status")).to_contain_text("wordt gemaakt")
    assert serious_findings(page) == []
    screenshot(page, "observer-report-pdf-waiting-desktop")
    ready = page.get_by_role("link", name="Download de pdf")
    expect(ready).to_be_visible(timeout=120_000)
    assert serious_findings(page) == []
    with page.expect_download() as download:
        ready.click()
    pdf = pypdfium2.PdfDocument(str(download.value.path()))
    assert len(pdf) >= 2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    image = pdf[0].render(scale=1.5).to_pil()
    image.save(ARTIFACTS / "report-page-1.png")
    assert image.width > 800
    page.get_by_role("link", name="Rapport van de ronde").click()
    with page.expect_navigation():
        page.get_by_role("button", name="De ronde aftekenen").click()
    confirm(page, "De ronde aftekenen", "observer-sign-off-confirm-desktop", 0)
    expect(page.locator("#sign-off")).to_contain_text("Afgetekend door de waarnemer")
    screenshot(page, "observer-report-signed-desktop")
