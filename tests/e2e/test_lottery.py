"""The lottery in the browser, in the demo procedure whose outcomes are all recorded
(ANE-ZWN-2026-2: five suitable candidates for two places).

The admin prepares the draw; the observer (laptop) and the chair (tablet) each commit to a
secret on their own device, the secret never leaving it; the admin announces; both reveal;
the draw runs; the admin publishes the results; an applicant reads their result and
verifies the draw."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, confirm, log_in, screenshot

pytestmark = pytest.mark.e2e

PROCEDURE = "ANE-ZWN-2026-2"
SECRETS = {"observer": "blauwe-reiger-boven-de-polder-17", "chair": "zeven-tulpen-in-een-rij-42"}


def contribute(page: Page, server: Server, secret: str) -> None:
    page.get_by_role("link", name="Doe mee aan de loting").click()
    expect(page.locator("h1")).to_contain_text("Jouw bijdrage")
    page.fill("#f-secret-local", secret)
    # The commitment is computed in the browser; the secret field is never posted.
    expect(page.locator("#f-commitment")).to_have_value(hashlib.sha256(secret.encode()).hexdigest())
    assert serious_findings(page) == []
    with page.expect_navigation():
        page.get_by_role("button", name="Commitment versturen").click()
    expect(page.locator("main")).to_contain_text("Je commitment is binnen")


def both_commit(
    server: Server, new_page: Callable[..., Page], procedure: str, secrets: dict[str, str]
) -> tuple[Page, Page]:
    """The observer on a laptop (from their home) and the chair on a tablet (from the
    committee page) each commit to their secret; their pages, for the reveal."""
    observer_account = server.account("observer")
    observer = new_page("desktop")
    log_in(observer, server, observer_account.email, observer_account.password)
    observer.goto(f"{server.url}/observer")
    contribute(observer, server, secrets["observer"])
    chair_account = server.account("committee chair (opleider)")
    chair = new_page("tablet")
    log_in(chair, server, chair_account.email, chair_account.password)
    chair.goto(f"{server.url}/committee/{procedure}")
    contribute(chair, server, secrets["chair"])
    return observer, chair


def reveal(page: Page, secret: str) -> None:
    page.reload()
    page.fill("#f-secret", secret)
    with page.expect_navigation():
        page.get_by_role("button", name="Onthullen").click()


def test_a_draw_with_two_contributors(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    admin_account = server.account("WV admin (NVA)")
    admin: Page = new_page("desktop")
    log_in(admin, server, admin_account.email, admin_account.password)
    admin.goto(f"{server.url}/manage/procedures/{PROCEDURE}/ranking")
    expect(admin.locator("main")).to_contain_text("Gelijk voor de laatste plaats")
    assert serious_findings(admin) == []
    with admin.expect_navigation():
        admin.get_by_role("button", name="De loting voorbereiden").click()
    expect(admin.locator("#draws")).to_contain_text(f"{PROCEDURE}/draw-1")

    observer, chair = both_commit(server, new_page, PROCEDURE, SECRETS)
    screenshot(chair, "lottery-committed-tablet")

    admin.reload()
    with admin.expect_navigation():
        admin.get_by_role("button", name="Loting aankondigen").click()
    expect(admin.locator("#draws")).to_contain_text("Aangekondigd")
    screenshot(admin, "lottery-announced-desktop")

    # A wrong secret is refused with the reason; then the right ones.
    observer.reload()
    observer.fill("#f-secret", "dit-is-niet-mijn-geheim-123")
    with observer.expect_navigation():
        observer.get_by_role("button", name="Onthullen").click()
    expect(observer.locator("#form-error")).to_contain_text("past niet bij je commitment")
    reveal(observer, SECRETS["observer"])
    reveal(chair, SECRETS["chair"])
    expect(chair.locator("main")).to_contain_text("De loting heeft plaatsgevonden")

    admin.goto(f"{server.url}/manage/procedures/{PROCEDURE}")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Uitslag publiceren").click()
    confirm(admin, "Publiceren en de sollicitanten mailen", "lottery-results-confirm-desktop")
    expect(admin.locator("#status")).to_contain_text("Uitslag")

    # An applicant reads their result and verifies the draw.
    for email in ("sollicitant1@example.org", "sollicitant2@example.org"):
        applicant = next(a for a in server.accounts if a.email == email)
        phone: Page = new_page("phone")
        log_in(phone, server, applicant.email, applicant.password)
        reference = f"{PROCEDURE}-000{1 if email.startswith('sollicitant1') else 2}"
        phone.goto(f"{server.url}/applications/{reference}")
        expect(phone.locator("#result")).to_contain_text("Je bent geschikt bevonden")
        assert serious_findings(phone) == []
        screenshot(phone, f"lottery-result-{reference}-phone")
        phone.get_by_role("link", name="Controleer de loting zelf").click()
        expect(phone.get_by_role("status").first).to_contain_text("De loting klopt")
        assert serious_findings(phone) == []
    screenshot(phone, "lottery-verified-phone")

    public: Page = new_page("desktop", "en")
    public.goto(f"{server.url}/procedures/{PROCEDURE}/draws")
    expect(public.locator("main")).to_contain_text("draw-1")
    assert serious_findings(public) == []
