"""Frozen once it counts, in the browser, on a server of its own (these tests change the
demo for good).

A draw in ANE-ZWN-2026-2 (five suitable candidates for two places): once announced, the
chair's attempt to deliberate again is refused with the reason; the admin voids the draw
with a reason that the public draws page shows; then the deliberation is open again.
In the open procedure ANE-UTR-2027-1 (with an application in): bringing the deadline
forward is refused; extending it is a public correction and an e-mail in the outbox."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot, serve_demo
from tests.e2e.test_lottery import SECRETS, contribute, reveal

pytestmark = pytest.mark.e2e

DRAWN = "ANE-ZWN-2026-2"
OPEN = "ANE-UTR-2027-1"
VOID_REASON = "De uitkomst van een kandidaat moet worden gecorrigeerd: een rekenfout."
DEADLINE_REASON = "Storing in het sollicitatieformulier op de laatste dag."


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    var_dir = tmp_path_factory.mktemp("frozen")
    with serve_demo(var_dir, f"sqlite:///{var_dir / 'app.db'}") as running:
        yield running


def as_(new_page, server: Server, role: str, size: str = "desktop") -> Page:  # type: ignore[no-untyped-def]
    account = server.account(role)
    page: Page = new_page(size)
    log_in(page, server, account.email, account.password)
    return page


def test_a_drawn_draw_is_voided_before_anyone_deliberates_again(  # type: ignore[no-untyped-def]
    server: Server, new_page
) -> None:
    admin = as_(new_page, server, "WV admin (NVA)")
    admin.goto(f"{server.url}/manage/procedures/{DRAWN}/ranking")
    with admin.expect_navigation():
        admin.get_by_role("button", name="De loting voorbereiden").click()
    observer = as_(new_page, server, "observer")
    observer.goto(f"{server.url}/observer")
    contribute(observer, server, SECRETS["observer"])
    chair = as_(new_page, server, "committee chair (opleider)")
    chair.goto(f"{server.url}/committee/{DRAWN}")
    contribute(chair, server, SECRETS["chair"])
    admin.reload()
    with admin.expect_navigation():
        admin.get_by_role("button", name="Loting aankondigen").click()
    reveal(observer, SECRETS["observer"])
    reveal(chair, SECRETS["chair"])
    expect(chair.locator("main")).to_contain_text("De loting heeft plaatsgevonden")

    [record] = httpx.get(f"{server.url}/api/procedures/{DRAWN}/draws").json()
    winner = record["winners"][0]
    deliberation = f"{server.url}/committee/{DRAWN}/applicants/{winner}/deliberation"
    chair.goto(deliberation)
    with chair.expect_navigation():
        chair.locator("form[action$='/deliberation'] button[type=submit]").click()
    refusal = chair.locator("#form-error")
    expect(refusal).to_contain_text(f"Loting {DRAWN}/draw-1 is aangekondigd")
    expect(refusal).to_contain_text("liggen vast")
    expect(refusal).to_contain_text("openbare reden")
    assert serious_findings(chair) == []
    screenshot(chair, "frozen-deliberation-refused-desktop")

    admin.reload()
    expect(admin.locator("main")).to_contain_text("liggen vast")
    admin.locator("#draws input[name=reason]").fill(VOID_REASON)
    with admin.expect_navigation():
        admin.get_by_role("button", name="Deze loting laten vervallen").click()
    expect(admin.locator("#draws")).to_contain_text(VOID_REASON)
    assert serious_findings(admin) == []
    screenshot(admin, "frozen-draw-voided-desktop")

    public: Page = new_page("desktop")
    public.goto(f"{server.url}/procedures/{DRAWN}/draws")
    main = public.locator("main")
    expect(main).to_contain_text("Vervallen op")
    expect(main).to_contain_text(VOID_REASON)
    assert serious_findings(public) == []
    screenshot(public, "frozen-draw-void-public-desktop")

    # With the draw void, the committee may deliberate again.
    chair.goto(deliberation)
    with chair.expect_navigation():
        chair.locator("form[action$='/deliberation'] button[type=submit]").click()
    assert "recorded=1" in chair.url
    expect(chair.locator("#form-error")).to_have_count(0)


def _local(value: str) -> datetime:
    """The field shows the page's own form of a moment (Dutch: day-month-year)."""
    return datetime.strptime(value, "%d-%m-%Y %H:%M")


def test_a_deadline_is_extended_publicly_never_brought_forward(  # type: ignore[no-untyped-def]
    server: Server, new_page
) -> None:
    admin = as_(new_page, server, "WV admin (NVA)")
    admin.goto(f"{server.url}/manage/procedures/{OPEN}#timeline")
    closes = _local(admin.locator("#f-closes_at").input_value())
    timeline = admin.locator("#timeline")

    admin.fill("#f-closes_at", (closes - timedelta(minutes=24)).strftime("%d-%m-%Y %H:%M"))
    admin.fill("#why-timeline", DEADLINE_REASON)
    with admin.expect_navigation():
        timeline.locator("button[type=submit]").click()
    expect(admin.locator("#form-error")).to_contain_text("nooit vervroegd")
    assert serious_findings(admin) == []
    screenshot(admin, "frozen-deadline-refused-desktop")

    later = closes + timedelta(days=2)
    # Typed in the ISO form this time: both are taken, and it is shown in the page's own.
    admin.fill("#f-closes_at", later.strftime("%Y-%m-%dT%H:%M"))
    admin.fill("#why-timeline", DEADLINE_REASON)
    with admin.expect_navigation():
        timeline.locator("button[type=submit]").click()
    expect(admin.locator("#form-error")).to_have_count(0)
    expect(admin.locator("#f-closes_at")).to_have_value(later.strftime("%d-%m-%Y %H:%M"))
    expect(admin.locator("#corrections")).to_contain_text(DEADLINE_REASON)
    assert serious_findings(admin) == []
    screenshot(admin, "frozen-editor-published-desktop")

    public: Page = new_page("desktop")
    public.goto(f"{server.url}/procedures/{OPEN}")
    log = public.locator("section[aria-labelledby=changes-heading]")
    expect(log).to_contain_text("Sollicitatie sluit")
    expect(log).to_contain_text(DEADLINE_REASON)
    expect(log).not_to_contain_text("Geen correcties sinds publicatie")
    assert serious_findings(public) == []
    screenshot(public, "frozen-deadline-correction-public-desktop")

    platform = as_(new_page, server, "platform admin")
    platform.goto(f"{server.url}/admin/outbox")
    row = platform.locator("tr", has_text="Deadline verlengd")
    expect(row).to_contain_text("sollicitant2@example.org")
    assert serious_findings(platform) == []
    screenshot(platform, "frozen-deadline-outbox-desktop")
    row.get_by_role("link").click()
    expect(platform.locator("main")).to_contain_text(DEADLINE_REASON)
