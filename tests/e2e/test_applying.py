"""On a phone-sized screen: apply with two PDFs, get the receipt, see the status, withdraw."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfWriter

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot

pytestmark = pytest.mark.e2e


def pdf_file(tmp_path, name: str) -> str:  # type: ignore[no-untyped-def]
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_apply_on_a_phone_receipt_status_and_withdraw(server: Server, new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    account = server.account("applicant")
    page: Page = new_page("phone")
    log_in(page, server, account.email, account.password)
    page.goto(f"{server.url}/procedures/ANE-UTR-2027-1")
    with page.expect_navigation():
        page.get_by_role("link", name="Solliciteren").click()
    expect(page.locator("h1")).to_have_text("Je sollicitatie")
    assert serious_findings(page) == []
    page.fill("#f-phone", "06 12345678")
    page.fill("#f-big", "19012345601")
    for area in page.locator("textarea[name^='answer-']").all():
        area.fill("Ik voldoe hieraan: zie mijn cv.")
    page.set_input_files("#f-cv", pdf_file(tmp_path, "cv.pdf"))
    page.set_input_files("#f-motivation", pdf_file(tmp_path, "motivatie.pdf"))
    page.locator("select[name^='relation-']").first.select_option("colleague")
    with page.expect_navigation():
        page.get_by_role("button", name="Concept opslaan").click()
    expect(page.get_by_role("status").first).to_contain_text("opgeslagen")
    expect(page.locator("#documents")).to_contain_text("cv.pdf")
    screenshot(page, "application-draft-phone")
    with page.expect_navigation():
        page.get_by_role("button", name="Sollicitatie versturen").click()
    expect(page.get_by_role("status")).to_contain_text("ANE-UTR-2027-1-")
    screenshot(page, "application-receipt-phone")
    assert serious_findings(page) == []
    page.goto(f"{server.url}/my")
    expect(page.locator(".cards")).to_contain_text("Verstuurd")
    page.locator(".cards a").first.click()
    page.locator("summary", has_text="intrekken").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Ja, trek mijn sollicitatie in").click()
    expect(page.locator(".facts")).to_contain_text("Ingetrokken")
    screenshot(page, "application-withdrawn-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
