"""Scoring on a tablet, in the demo procedure whose interviews are under way (ANE-UTR-2026-2):
the staff member has submitted both sheets, the aios is halfway through one.

The chair scores by touch, the aios by keyboard only; the chair reloads mid-sheet and finds
the draft, loses the connection for a moment and sees the save retried, submits; the aios's
scores reach the chair only after both submitted; a second tab is told it is stale; a
conflicted member gets 404."""

from __future__ import annotations

import httpx
import pytest
from playwright.sync_api import Page, Route, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot, tab_to

pytestmark = pytest.mark.e2e

PROCEDURE = "ANE-UTR-2026-2"
FIRST = f"{PROCEDURE}-0001"
SECOND = f"{PROCEDURE}-0002"


def sheet_url(server: Server, application: str) -> str:
    return f"{server.url}/committee/{PROCEDURE}/applicants/{application}"


def choose(page: Page, criterion: str, level: int) -> None:
    page.locator(f"#criterion-{criterion} label.level-option").nth(level - 1).click()


def wait_saved(page: Page) -> None:
    expect(page.locator("#save-status")).to_have_attribute("data-state", "saved", timeout=10_000)
    expect(page.locator("#save-status")).to_contain_text("Opgeslagen")


def fill_sheet(page: Page, level: int, note: str) -> None:
    for criterion in page.locator("fieldset.criterion").evaluate_all(
        "nodes => nodes.map(n => n.id.replace('criterion-', ''))"
    ):
        choose(page, criterion, level)
        page.fill(f"#reason-{criterion}", f"{note}: concreet voorbeeld, eigen actie en reflectie.")
    wait_saved(page)


def fill_sheet_by_keyboard(page: Page, level: int, note: str) -> None:
    """Keyboard only: Tab into each criterion's levels, Space and arrows to choose, Tab to
    the reason and type it."""
    for criterion in page.locator("fieldset.criterion").evaluate_all(
        "nodes => nodes.map(n => n.id.replace('criterion-', ''))"
    ):
        tab_to(page, f"#criterion-{criterion} input[type=radio]")
        page.keyboard.press("Space")
        for _ in range(level - 1):
            page.keyboard.press("ArrowRight")
        tab_to(page, f"#reason-{criterion}")
        page.keyboard.type(f"{note}: concreet voorbeeld, eigen actie en reflectie.")
    wait_saved(page)


def submit_sheet_by_keyboard(page: Page) -> None:
    tab_to(page, "button[formaction$='/review']")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    tab_to(page, "#f-confirm")
    page.keyboard.press("Space")
    tab_to(page, "form[action$='/submit'] button[type=submit]")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    status = page.get_by_role("status").first
    expect(status).to_contain_text("Een ingediend formulier is definitief")


def submit_sheet(page: Page) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name="Controleren en indienen").click()
    expect(page.locator("h1")).to_have_text("Je formulier indienen")
    page.get_by_label("Ik heb deze kandidaat zelf gescoord").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Formulier indienen (definitief)").click()
    status = page.get_by_role("status").first
    expect(status).to_contain_text("Een ingediend formulier is definitief")


def test_scoring_on_a_tablet(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    chair_account = server.account("committee chair (opleider)")
    chair: Page = new_page("tablet")
    log_in(chair, server, chair_account.email, chair_account.password)
    chair.goto(f"{server.url}/committee")
    title = "Opleiding Anesthesiologie, Cluster Utrecht (najaar 2026)"
    chair.get_by_role("link", name=title).click()
    expect(chair.locator("h2").first).to_have_text("Jouw kandidaten")
    assert serious_findings(chair) == []
    screenshot(chair, "scoring-committee-tablet")

    chair.goto(sheet_url(server, FIRST))
    expect(chair.locator("#save-status")).to_contain_text("Nog niets opgeslagen")
    # Touch-sized, and the five levels fit a tablet held upright: no sideways scrolling.
    width = chair.evaluate("document.documentElement.clientWidth")
    for option in chair.locator("label.level-option").all()[:5]:
        box = option.bounding_box()
        assert box is not None and box["height"] >= 44 and box["width"] >= 44
        assert box["x"] + box["width"] <= width
    assert chair.evaluate("document.documentElement.scrollWidth") <= width
    assert serious_findings(chair) == []
    choose(chair, "motivation", 4)
    wait_saved(chair)
    chair.fill("#reason-motivation", "Vertelde over de keuze na een coschap op de OK.")
    wait_saved(chair)
    screenshot(chair, "scoring-sheet-tablet")

    # Reload mid-sheet: the draft is there.
    chair.reload()
    expect(chair.locator("#criterion-motivation input[value='4']")).to_be_checked()
    expect(chair.locator("#reason-motivation")).to_have_value(
        "Vertelde over de keuze na een coschap op de OK."
    )

    # A flaky connection: the first save fails, is shown, and is tried again.
    failures = {"left": 1}

    def flaky(route: Route) -> None:
        if failures["left"] > 0:
            failures["left"] -= 1
            route.abort("internetdisconnected")
        else:
            route.continue_()

    chair.route(f"**/applicants/{FIRST}/sheets/*", flaky)
    choose(chair, "collaboration", 3)
    expect(chair.locator("#save-status")).to_have_attribute("data-state", "retrying")
    expect(chair.locator("#save-status")).to_contain_text("geen verbinding")
    screenshot(chair, "scoring-sheet-offline-tablet")
    wait_saved(chair)
    chair.unroute(f"**/applicants/{FIRST}/sheets/*")
    chair.reload()
    expect(chair.locator("#criterion-collaboration input[value='3']")).to_be_checked()

    # Reviewing too early: the page says what is missing, and takes the member there.
    with chair.expect_navigation():
        chair.get_by_role("button", name="Controleren en indienen").click()
    expect(chair.locator("#form-error")).to_be_focused()
    expect(chair.locator("#form-error")).to_be_in_viewport()
    expect(chair.locator("#form-error")).to_contain_text("Zelfreflectie")

    fill_sheet(chair, 4, "VOORZITTER")
    submit_sheet(chair)
    expect(chair.locator("main")).to_contain_text("zodra alle formulieren")
    assert httpx.get(sheet_url(server, FIRST) + "/deliberation").status_code in (303, 401)

    # The aios has not submitted: nothing of the chair's sheet shows anywhere for them.
    aios_account = server.account("committee member (aios)")
    aios: Page = new_page("tablet")
    log_in(aios, server, aios_account.email, aios_account.password)
    aios.goto(sheet_url(server, FIRST))
    expect(aios.locator("main")).not_to_contain_text("VOORZITTER")
    assert aios.goto(sheet_url(server, FIRST) + "/deliberation").status == 403
    aios.goto(sheet_url(server, FIRST))
    fill_sheet_by_keyboard(aios, 3, "AIOS")
    for criterion in ("motivation", "learnability"):
        expect(aios.locator(f"#criterion-{criterion} input[value='3']")).to_be_checked()
    submit_sheet_by_keyboard(aios)

    # Now every sheet is in: each sees the other's reasons side by side.
    aios.get_by_role("link", name="Naar de beraadslaging").click()
    expect(aios.locator("h1")).to_contain_text("Beraadslaging")
    expect(aios.locator("main")).to_contain_text("VOORZITTER")
    assert serious_findings(aios) == []
    chair.goto(sheet_url(server, FIRST) + "/deliberation")
    expect(chair.locator("main")).to_contain_text("AIOS")
    screenshot(chair, "scoring-deliberation-tablet")
    assert serious_findings(chair) == []
    for reason in chair.locator("textarea[id^='joint-reason-']").all():
        reason.fill("Besproken: de leden zagen hetzelfde STARR-voorbeeld terug.")
    chair.get_by_label("Motivering (de kandidaat leest deze)").fill(
        "Op alle criteria ten minste voldoende; sterk in motivatie en samenwerking."
    )
    chair.get_by_label("Geschikt", exact=True).check()
    with chair.expect_navigation():
        chair.get_by_role("button", name="Gezamenlijke uitkomst vastleggen").click()
    expect(chair.get_by_role("status").first).to_contain_text("vastgelegd")

    # Two tabs on the same sheet: the stale one is told and shown the newer version.
    tab_a = chair
    tab_a.goto(sheet_url(server, SECOND))
    tab_b = chair.context.new_page()
    tab_b.set_viewport_size({"width": 820, "height": 1180})
    tab_b.goto(sheet_url(server, SECOND))
    choose(tab_a, "motivation", 5)
    wait_saved(tab_a)
    # Typing at the foot of the sheet: the notice is far above, so the tab takes the member
    # there, and the status bar does not claim that anything was saved.
    tab_b.locator("textarea").last.fill("Notitie op het tweede tabblad")
    expect(tab_b.locator("#form-error")).to_contain_text("gewijzigd op een ander apparaat")
    expect(tab_b.locator("#form-error")).to_contain_text("Notitie op het tweede tabblad")
    expect(tab_b.locator("#form-error")).to_be_focused()
    expect(tab_b.locator("#form-error")).to_be_in_viewport()
    expect(tab_b.locator("#save-status")).to_have_attribute("data-state", "error")
    expect(tab_b.locator("#save-status")).to_contain_text("Niet opgeslagen")
    expect(tab_b.locator("#criterion-motivation input[value='5']")).to_be_checked()
    screenshot(tab_b, "scoring-stale-tab-tablet")

    # The aios knows the second applicant: declares it and no longer sees them.
    aios.goto(f"{server.url}/committee/{PROCEDURE}")
    aios.locator(f"#{SECOND}").get_by_role("link", name="Belangenverstrengeling melden").click()
    assert serious_findings(aios) == []
    for label in aios.locator(".choice label").all():  # each relation: a touch-sized row
        box = label.bounding_box()
        assert box is not None and box["height"] >= 44
    aios.get_by_label("Vriend of vriendin").check()
    with aios.expect_navigation():
        aios.get_by_role("button", name="Meld de belangenverstrengeling").click()
    expect(aios.get_by_role("status").first).to_contain_text("is vastgelegd")
    expect(aios.locator("main")).not_to_contain_text(SECOND)
    for suffix in ("", "/deliberation", "/conflict"):
        assert aios.goto(sheet_url(server, SECOND) + suffix).status == 404

    # The admin sees that the quorum fails for the second applicant.
    admin_account = server.account("WV admin (NVA)")
    admin: Page = new_page("desktop")
    log_in(admin, server, admin_account.email, admin_account.password)
    admin.goto(f"{server.url}/manage/procedures/{PROCEDURE}/scoring")
    expect(admin.locator(f"#{SECOND}")).to_contain_text("Quorum niet gehaald (2/3)")
    assert serious_findings(admin) == []
    screenshot(admin, "scoring-overview-desktop")
    phone: Page = new_page("phone")
    log_in(phone, server, chair_account.email, chair_account.password)
    phone.goto(sheet_url(server, SECOND))
    screenshot(phone, "scoring-sheet-phone")
