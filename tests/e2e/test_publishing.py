"""As a WV admin in the browser: draft a procedure, see the check fail, fix it, publish it;
as an anonymous visitor find it in the catalogue and read it on a phone-sized screen."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.forms import local_input
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot

pytestmark = pytest.mark.e2e


def submit(page: Page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def test_admin_drafts_fixes_and_publishes_and_a_visitor_reads_it(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    account = server.account("WV admin (NVA)")
    page: Page = new_page("desktop")
    log_in(page, server, account.email, account.password)
    with page.expect_navigation():
        page.get_by_role("link", name="Nieuwe procedure").first.click()
    assert page.url.endswith("/manage/organisations/nva/procedures/new")
    page.fill("#f-reference", "ANE-E2E-2028-1")
    page.fill("#f-title", "Anesthesiologie, e2e-cluster 2028")
    page.fill("#f-specialty", "Anesthesiologie")
    page.fill("#f-region", "UMC Utrecht en Meander MC")
    page.fill("#f-places", "2")
    submit(page, "form[action$='/procedures']")
    assert page.url.endswith("/manage/procedures/ANE-E2E-2028-1")
    expect(page.locator("#check")).to_contain_text("Geen onafhankelijke waarnemer")
    screenshot(page, "editor-draft-check-fails-desktop")
    assert serious_findings(page) == []

    # publishing now is refused with the reasons
    submit(page, "#status form")
    expect(page.locator("#status .alert-error")).to_contain_text("toets aan de leidraad faalt")

    page.fill("#f-method", "Een STARR-gesprek met drie commissieleden, eerst individueel gescoord.")
    page.fill("#f-quorum", "3")
    page.fill("#f-method_en", "A STARR interview with three committee members, scored alone first.")
    page.check("#rule-lottery_among_suitable")
    submit(page, "#basics form")
    now = utcnow()
    page.fill("#f-opens_at", local_input(now + timedelta(days=3)))
    page.fill("#f-closes_at", local_input(now + timedelta(days=30)))
    page.fill("#f-letter_round_result_at", local_input(now + timedelta(days=40)))
    page.fill("#f-interview-0", (now + timedelta(days=50)).date().isoformat())
    page.fill("#f-final_result_at", local_input(now + timedelta(days=60)))
    submit(page, "#timeline form")
    page.check("#kind-minimum")
    page.fill("#f-text", "BIG-registratie als arts")
    page.fill("#f-rationale", "Zonder registratie mag je de opleiding niet beginnen.")
    page.fill("#f-text_en", "BIG registration as a doctor")
    page.fill("#f-rationale_en", "Without registration you may not start the training.")
    submit(page, "#requirements form[action$='/requirements']")
    submit(page, "#rubric form")
    for name, email, role, function in (
        ("Dr. E. Opleider", "e2e-opleider@example.org", "chair", "opleider"),
        ("Dr. E. Staf", "e2e-staf@example.org", "member", "staff"),
        ("E. Aios", "e2e-aios@example.org", "member", "aios"),
        ("Dr. E. Waarnemer", "e2e-waarnemer@example.org", "observer", "other"),
    ):
        page.fill("#committee #f-name", name)
        page.fill("#committee #f-email", email)
        page.select_option("#f-role", role)
        page.select_option("#f-function", function)
        page.check("#f-training")
        submit(page, "#committee form[action$='/invitations']")
        expect(page.locator("#committee")).to_contain_text(name)
    expect(page.locator("#check")).to_contain_text("volgt elk punt")
    screenshot(page, "editor-check-passes-desktop")
    submit(page, "#status form")
    expect(page.locator("#status")).to_contain_text("Gepubliceerd")
    assert serious_findings(page) == []

    visitor: Page = new_page("phone")
    visitor.goto(f"{server.url}/?q=e2e-cluster")
    expect(visitor.locator(".cards")).to_contain_text("Anesthesiologie, e2e-cluster 2028")
    screenshot(visitor, "catalogue-search-phone")
    visitor.click("text=Anesthesiologie, e2e-cluster 2028")
    expect(visitor.locator("h1")).to_have_text("Anesthesiologie, e2e-cluster 2028")
    for text in (
        "BIG-registratie als arts",
        "Zonder registratie",
        "STARR-gesprek",
        "Dr. E. Waarnemer",
    ):
        expect(visitor.locator("main")).to_contain_text(text)
    visitor.locator(".rubric details summary").first.click()
    expect(visitor.locator(".rubric details").first).to_have_attribute("open", "")
    screenshot(visitor, "procedure-public-phone")
    assert serious_findings(visitor) == []
    width = visitor.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways on a phone ({width}px)"
