"""On a phone-sized screen: apply with two PDFs using the keyboard only, get the receipt,
see the status, withdraw."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pypdf import PdfWriter

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, choose_file_with_keyboard, log_in, screenshot, tab_to

pytestmark = pytest.mark.e2e


def pdf_file(tmp_path: Path, name: str) -> Path:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    path = tmp_path / name
    path.write_bytes(buffer.getvalue())
    return path


def test_apply_on_a_phone_receipt_status_and_withdraw(server: Server, new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    account = server.account("applicant")
    page: Page = new_page("phone")
    log_in(page, server, account.email, account.password)
    page.goto(f"{server.url}/procedures/ANE-UTR-2027-1")
    with page.expect_navigation():
        page.get_by_role("link", name="Solliciteren").click()
    expect(page.locator("h1")).to_have_text("Je sollicitatie")
    assert serious_findings(page) == []
    # Keyboard only: Tab to each field, type, choose files with Space, submit with Enter.
    tab_to(page, "#f-phone")
    page.keyboard.type("06 12345678")
    tab_to(page, "#f-big")
    page.keyboard.type("19012345601")
    for name in page.locator("textarea[name^='answer-']").evaluate_all(
        "areas => areas.map(a => a.name)"
    ):
        tab_to(page, f"textarea[name='{name}']")
        page.keyboard.type("Ik voldoe hieraan: zie mijn cv.")
    for field, name in (("#f-cv", "cv.pdf"), ("#f-motivation", "motivatie.pdf")):
        choose_file_with_keyboard(page, field, pdf_file(tmp_path, name))
    tab_to(page, "select[name^='relation-']")
    page.keyboard.type("Directe")  # selects "Directe collega" by its first letters
    assert page.locator("select[name^='relation-']").first.input_value() == "colleague"
    tab_to(page, "button[name='action'][value='save']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status").first).to_contain_text("opgeslagen")
    expect(page.locator("#documents")).to_contain_text("cv.pdf")
    screenshot(page, "application-draft-phone")
    tab_to(page, "button[name='action'][value='submit']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("status")).to_contain_text("ANE-UTR-2027-1-")
    screenshot(page, "application-receipt-phone")
    assert serious_findings(page) == []
    page.goto(f"{server.url}/my")
    card = page.locator(".application-card", has_text="ANE-UTR-2027-1-").first
    expect(card).to_contain_text("Verstuurd")
    card.locator("h2 a").click()
    page.locator("summary", has_text="intrekken").click()
    with page.expect_navigation():
        page.get_by_role("button", name="Ja, trek mijn sollicitatie in").click()
    expect(page.locator(".facts")).to_contain_text("Ingetrokken")
    screenshot(page, "application-withdrawn-phone")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
