"""Every page this part of issue 20 changed, at phone, tablet and desktop size, in Dutch and
(for the public ones) English: a picture of each, no sideways scrolling, and no serious or
critical axe finding. What each page must show is checked in its own test; here the editor's
contents, its fixed fields and a date typed in the page's own form are checked too."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import SIZES, Server, log_in, screenshot

pytestmark = pytest.mark.e2e

PAGES = {
    None: [
        ("home", "/"),
        ("procedure-without-english", "/procedures/INT-BTG-2027-1"),
        ("procedure", "/procedures/ANE-UTR-2026-1"),
    ],
    "WV admin (NVA)": [
        ("editor-frozen", "/manage/procedures/ANE-UTR-2027-1"),
        ("editor-draft", "/manage/procedures/ANE-UTR-2027-2"),
        ("letter-round-published", "/manage/procedures/ANE-UTR-2026-2/letter-round"),
        ("pool-search", "/manage/pool?region=Utrecht"),
        ("interviews-admin", "/manage/procedures/ANE-UTR-2027-2/interviews"),
    ],
    "platform admin": [
        ("interviews-running", "/manage/procedures/INT-OOST-2027-1/interviews"),
    ],
    "committee chair (opleider)": [
        ("deliberation", "/committee/ANE-ZWN-2026-2/applicants/ANE-ZWN-2026-2-0001/deliberation"),
    ],
    # The first applicant: in test_scoring the aios declares knowing the second one.
    "committee member (aios)": [
        ("sheet", "/committee/ANE-UTR-2026-2/applicants/ANE-UTR-2026-2-0001"),
        ("pool-own-record", "/pool"),
    ],
    "applicant": [
        ("result", "/applications/ANE-UTR-2026-1-0001"),
        ("apply-form", "/procedures/ANE-UTR-2027-1/apply"),
    ],
}


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("role", list(PAGES), ids=lambda role: role or "visitor")
def test_the_changed_pages_at_every_size(
    server: Server, new_page, role: str | None, size: str
) -> None:  # type: ignore[no-untyped-def]
    languages = ("nl", "en") if role is None else ("nl",)
    for language in languages:
        page: Page = new_page(size, language)
        page.goto(f"{server.url}/lang/{language}?next=/")
        if role:
            account = next(
                a for a in server.accounts
                if a.role == role and a.email != "sollicitant2@example.org"
            )  # fmt: skip
            log_in(page, server, account.email, account.password)
        for name, path in PAGES[role]:
            response = page.goto(f"{server.url}{path}")
            assert response is not None and response.status == 200, path
            assert serious_findings(page) == [], (path, size, language)
            screenshot(page, f"sizes-{name}-{language}-{size}")


def test_the_editor_leads_to_each_finding_and_shows_what_is_fixed(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    account = server.account("WV admin (NVA)")
    page: Page = new_page("desktop")
    log_in(page, server, account.email, account.password)
    page.goto(f"{server.url}/manage/procedures/ANE-UTR-2027-2")
    contents = page.get_by_role("navigation", name="Op deze pagina")
    expect(contents.locator("a[href='#committee']")).to_be_visible()
    expect(contents.locator("li", has=page.locator("a[href='#committee']"))).to_contain_text("fout")
    # A finding's link brings the section into view.
    page.locator("#check a[href='#committee']").first.click()
    page.wait_for_function("location.hash === '#committee'")
    assert page.evaluate(
        "(() => { const r = document.getElementById('committee').getBoundingClientRect();"
        " return r.top >= 0 && r.top < innerHeight; })()"
    )
    # The side (contents and check) stays in view while the editor scrolls.
    page.evaluate("window.scrollTo(0, 2500)")
    side = page.locator(".editor-side")
    expect(side).to_be_in_viewport()
    assert side.evaluate("side => side.getBoundingClientRect().top") >= 0

    # After the first application: the method and the ranking rule are text, not inputs.
    page.goto(f"{server.url}/manage/procedures/ANE-UTR-2027-1")
    basics = page.locator("#basics")
    expect(basics.locator("textarea[name=method], input[name=ranking_rule]")).to_have_count(0)
    expect(basics.locator(".fixed-field")).to_have_count(4)
    expect(basics).to_contain_text("Vast sinds de eerste sollicitatie")
    # The dates are in the page's own form, with the form as the hint.
    expect(page.locator("#f-closes_at")).to_have_attribute("type", "text")
    assert page.locator("#f-closes_at").input_value()[2] == "-"  # 23-12-2026 23:59
    expect(page.locator("#timeline-hint")).to_contain_text("01-03-2027 09:30")


def test_a_date_typed_in_the_pages_form_filters_the_catalogue(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    for language, typed, wrong in (("nl", "31-12-2030", "12/31/2030"), ("en", "31/12/2030", "x")):
        page: Page = new_page("phone", language)
        page.goto(f"{server.url}/lang/{language}?next=/")
        page.fill("#closes_before", typed)
        with page.expect_navigation():
            page.locator("form[role=search] button[type=submit]").click()
        expect(page.locator("#form-error")).to_have_count(0)
        expect(page.locator("#closes_before")).to_have_value(typed)
        page.fill("#closes_before", wrong)
        with page.expect_navigation():
            page.locator("form[role=search] button[type=submit]").click()
        # Refused with the form the page asks for (day first; month 31 does not exist).
        expected = "01-03-2027" if language == "nl" else "01/03/2027"
        expect(page.locator("#form-error")).to_contain_text(expected)
        assert serious_findings(page) == []
