"""The pages on a phone: the header is one row with a menu (that opens by keyboard, without
JavaScript too), the deliberation is one card per criterion, the result reads row by row,
the score sheet has one sticky bar, file inputs are full touch targets, and the editor's
committee stays inside its panel."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import (
    NEW_APPLICANT_PASSWORD,
    SIZES,
    Server,
    log_in,
    new_applicant,
    screenshot,
    tab_to,
)

pytestmark = pytest.mark.e2e

DELIBERATING = "ANE-ZWN-2026-2"
RESULTS = "ANE-UTR-2026-1"
INTERVIEWS = "ANE-UTR-2026-2"


def login(server: Server, new_page, role: str, size: str, email: str = "") -> Page:  # type: ignore[no-untyped-def]
    account = next(a for a in server.accounts if a.role == role and (not email or a.email == email))
    page: Page = new_page(size)
    log_in(page, server, account.email, account.password)
    return page


def header_height(page: Page) -> float:
    return float(page.evaluate("document.querySelector('.site-header').offsetHeight"))


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_the_header_is_one_row_with_a_menu_opened_by_keyboard(
    server: Server, new_page, size: str
) -> None:  # type: ignore[no-untyped-def]
    # The platform admin has the most links: on a phone they used to wrap to three rows.
    page = login(server, new_page, "platform admin", size)
    assert header_height(page) <= 64, header_height(page)
    menu = page.locator("details.header-menu")
    expect(menu.locator("summary")).to_be_visible()
    expect(page.get_by_role("link", name="Beheer", exact=True)).to_be_hidden()
    screenshot(page, f"header-menu-closed-{size}")

    tab_to(page, "details.header-menu > summary")
    page.keyboard.press("Enter")
    expect(menu).to_have_attribute("open", "")
    for name in ("Procedures", "Platform", "Beheer", "Mijn sollicitaties", "English"):
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Uitloggen")).to_be_visible()
    assert serious_findings(page) == []
    screenshot(page, f"header-menu-open-{size}")

    tab_to(page, "details.header-menu a[href='/manage']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.url == f"{server.url}/manage"
    expect(page.locator("details.header-menu")).not_to_have_attribute("open", "")


def test_on_a_desktop_the_links_are_in_the_header_itself(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    page = login(server, new_page, "platform admin", "desktop")
    expect(page.locator("details.header-menu")).to_be_hidden()
    expect(page.get_by_role("link", name="Beheer", exact=True)).to_be_visible()
    assert header_height(page) <= 72
    # One navigation landmark is read, not two.
    assert page.get_by_role("navigation", name="Hoofdmenu").count() == 1


def test_the_menu_works_without_javascript(server: Server, browser: Browser) -> None:
    width, height = SIZES["phone"]
    context = browser.new_context(
        viewport={"width": width, "height": height}, java_script_enabled=False, locale="nl"
    )
    try:
        page = context.new_page()
        page.goto(f"{server.url}/")
        expect(page.get_by_role("link", name="Inloggen")).to_be_hidden()
        page.locator("details.header-menu > summary").click()
        page.get_by_role("link", name="Inloggen").click()
        page.wait_for_url(f"{server.url}/login")
        expect(page.locator("h1")).to_have_text("Inloggen")
    finally:
        context.close()


def test_the_deliberation_is_one_card_per_criterion_on_a_phone(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    chair = login(server, new_page, "committee chair (opleider)", "phone")
    chair.goto(f"{server.url}/committee/{DELIBERATING}/applicants/{DELIBERATING}-0001/deliberation")
    expect(chair.locator("table.side-by-side")).to_be_hidden()
    cards = chair.locator(".criterion-cards > li")
    assert cards.count() == 6
    first = cards.first
    expect(first).to_contain_text("Motivatie")
    for name in ("dr. Maarten de Vries", "dr. Fatima El Amrani", "Joris Bakker"):
        expect(first.locator(".card-levels")).to_contain_text(name)
    expect(first.locator(".card-figures")).to_contain_text("Mediaan")
    # Each card fits the screen: no sideways scrolling inside it or the page.
    assert chair.evaluate(
        "[...document.querySelectorAll('.criterion-card')]"
        ".every(card => card.scrollWidth <= card.clientWidth)"
    )
    assert serious_findings(chair) == []
    screenshot(chair, "deliberation-cards-phone")

    tablet = login(server, new_page, "committee chair (opleider)", "tablet")
    tablet.goto(
        f"{server.url}/committee/{DELIBERATING}/applicants/{DELIBERATING}-0001/deliberation"
    )
    expect(tablet.locator("table.side-by-side")).to_be_visible()
    expect(tablet.locator(".criterion-cards")).to_be_hidden()


def test_the_result_reads_row_by_row_on_a_phone(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    phone = login(server, new_page, "applicant", "phone", "sollicitant1@example.org")
    phone.goto(f"{server.url}/applications/{RESULTS}-0001")
    table = phone.locator("#result table")
    width = table.evaluate("table => table.getBoundingClientRect().width")
    cells = table.locator("tbody td")
    assert cells.count() == 12
    for index in range(cells.count()):
        # Every cell as wide as the table (one under the other), none squeezed.
        assert cells.nth(index).evaluate("cell => cell.getBoundingClientRect().width") >= width - 1
    expect(cells.first).to_have_attribute("data-label", "Score")
    assert table.evaluate("table => table.scrollWidth <= table.parentElement.clientWidth")
    assert serious_findings(phone) == []
    screenshot(phone, "result-rows-phone")


@pytest.mark.parametrize("size", ["phone", "tablet"])
def test_the_score_sheet_has_one_sticky_bar(server: Server, new_page, size: str) -> None:  # type: ignore[no-untyped-def]
    trainee = login(server, new_page, "committee member (aios)", size)
    trainee.goto(f"{server.url}/committee/{INTERVIEWS}/applicants/{INTERVIEWS}-0002")
    sticky = trainee.evaluate(
        "[...document.querySelectorAll('main *')]"
        ".filter(el => getComputedStyle(el).position === 'sticky' && !el.closest('#flash'))"
        ".map(el => el.className)"
    )
    assert sticky == ["sheet-bar"], sticky
    bar = trainee.locator(".sheet-bar")
    expect(bar.locator("#save-status")).to_be_visible()
    expect(bar.get_by_role("button", name="Nu opslaan")).to_be_visible()
    expect(bar.get_by_role("button", name="Controleren en indienen")).to_be_visible()
    height = bar.evaluate("bar => bar.getBoundingClientRect().height")
    assert height <= 0.11 * SIZES[size][1], height  # was two stacked bars, 17% of a phone
    # Both buttons on one row, each a full touch target.
    tops = bar.locator("button").evaluate_all("buttons => buttons.map(b => b.offsetTop)")
    assert len(set(tops)) == 1
    heights = bar.locator("button").evaluate_all(
        "buttons => buttons.map(b => b.getBoundingClientRect().height)"
    )
    assert all(44 <= h <= 48 for h in heights), heights
    screenshot(trainee, f"sheet-one-bar-{size}")


def test_file_inputs_are_full_touch_targets(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    # Someone who has applied nowhere: the demo's applicants may have withdrawn by now.
    new_applicant(server, "bestanden@example.org")
    page: Page = new_page("phone")
    log_in(page, server, "bestanden@example.org", NEW_APPLICANT_PASSWORD)
    page.goto(f"{server.url}/procedures/ANE-UTR-2027-1/apply")
    inputs = page.locator("input[type=file]")
    assert inputs.count() == 3
    for index in range(inputs.count()):
        item = inputs.nth(index)
        assert item.evaluate("input => input.getBoundingClientRect().height") >= 44
        button = item.evaluate(
            "input => parseFloat(getComputedStyle(input, '::file-selector-button').minHeight)"
        )
        assert button >= 44


def test_the_editors_committee_stays_inside_its_panel(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    admin = login(server, new_page, "WV admin (NVA)", "phone")
    admin.goto(f"{server.url}/manage/procedures/ANE-UTR-2027-1")
    overflow = admin.evaluate(
        "[...document.querySelectorAll('main .panel')]"
        ".filter(panel => panel.scrollWidth > panel.clientWidth).map(panel => panel.id)"
    )
    assert overflow == []
    screenshot(admin, "editor-phone")
