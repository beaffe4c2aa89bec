"""Each demo account logs in through the browser and lands on the page for its role."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import SIZES, Server, log_in, screenshot

pytestmark = pytest.mark.e2e

LANDING = {
    "platform admin": ("/admin", "Platformbeheer"),
    "WV admin (NVA)": ("/manage", "Procedures beheren"),
    "committee chair (opleider)": ("/committee", "Jouw commissies"),
    "committee member (staff)": ("/committee", "Jouw commissies"),
    "committee member (aios)": ("/committee", "Jouw commissies"),
    "observer": ("/observer", "Procedures die je waarneemt"),
    "applicant": ("/my", "Mijn sollicitaties"),
    "committee member (panel B)": ("/committee", "Jouw commissies"),
    "applicant (interview to book)": ("/my", "Mijn sollicitaties"),
}


@pytest.mark.parametrize("size", list(SIZES))
def test_every_demo_account_lands_on_its_page(server: Server, new_page, size: str) -> None:  # type: ignore[no-untyped-def]
    seen = set()
    for account in server.accounts:
        page: Page = new_page(size)
        log_in(page, server, account.email, account.password)
        path, heading = LANDING[account.role]
        assert page.url == server.url + path, (account.role, page.url)
        assert page.locator("h1").first.inner_text().strip() != ""
        assert heading.lower() in page.locator("h1").first.inner_text().lower(), account.role
        key = account.role.split(" (")[0].replace(" ", "-")
        if (key, size) not in seen:
            seen.add((key, size))
            screenshot(page, f"landing-{key}-{size}")
        assert serious_findings(page) == [], (account.role, size)


def test_public_pages_are_accessible_in_dutch_and_english(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    for language in ("nl", "en"):
        page: Page = new_page("phone")
        page.goto(f"{server.url}/lang/{language}?next=/")
        for path in (
            "/",
            "/procedures/ANE-UTR-2027-1",
            "/login",
            "/register",
            "/password/forgot",
            "/nope",
        ):
            page.goto(server.url + path)
            assert page.locator("html").get_attribute("lang") == language
            assert serious_findings(page) == [], (language, path)
        screenshot(page, f"public-404-{language}")


def test_wrong_password_then_keyboard_only_login(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    account = server.account("applicant")
    page: Page = new_page("phone")
    page.goto(f"{server.url}/login")
    page.fill("#f-email", account.email)
    page.fill("#f-password", "definitely wrong")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_contain_text("klopt niet")
    screenshot(page, "login-wrong-password-phone")
    page.fill("#f-password", account.password)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{server.url}/my")
