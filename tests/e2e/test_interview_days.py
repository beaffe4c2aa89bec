"""Interview days in the browser (issue 16): an admin composes the committee and a panel
from the national pool and the guideline check names a panel without an aios; an applicant
books a time on a phone and sees who interviews them; a panel member opens today's list on a
tablet and scores the first applicant of the day. On a demo of its own, since it changes
the draft's committee and the interview procedure's bookings."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import SIZES, Server, log_in, screenshot, serve_demo
from tests.e2e.test_scoring import fill_sheet, submit_sheet

pytestmark = pytest.mark.e2e

DRAFT = "ANE-UTR-2027-2"
OOST = "INT-OOST-2027-1"


@pytest.fixture(scope="module")
def own_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve_demo(tmp_path_factory.mktemp("interview-days")) as server:
        yield server


def signed_in(server: Server, new_page, role: str, size: str) -> Page:  # type: ignore[no-untyped-def]
    account = server.account(role)
    page: Page = new_page(size)
    log_in(page, server, account.email, account.password)
    return page


def findings(page: Page) -> str:
    """What the editor's guideline check says (its findings, and its table of contents)."""
    return page.locator("main").inner_text()


def test_an_admin_composes_a_panel_from_the_pool(own_server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    server = own_server
    admin = signed_in(server, new_page, "WV admin (NVA)", "desktop")
    admin.goto(f"{server.url}/manage/procedures/{DRAFT}")
    assert "Geen aios in de commissie" in findings(admin)
    admin.get_by_role("link", name="Kiezen uit de landelijke pool").click()
    expect(admin.locator("h1")).to_have_text("De commissie samenstellen uit de pool")
    # The search starts from the procedure's own specialty; narrow it to the trainees.
    expect(admin.locator("#s-specialty")).to_have_value("Anesthesiologie")
    admin.select_option("#s-function", "aios")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Zoeken", exact=True).click()
    rows = admin.locator(".pool-results tbody tr")
    expect(rows.first).to_be_visible()
    for text in rows.all_inner_texts():
        assert "aios" in text and "Anesthesiologie" in text
    assert serious_findings(admin) == []
    hanna = admin.locator("tr", has_text="Hanna Mulder")
    with admin.expect_navigation():
        hanna.get_by_role("button", name="Uitnodigen").click()
    expect(admin.get_by_role("status").first).to_contain_text(
        "Hanna Mulder is uitgenodigd voor de commissie."
    )
    # The same search, and she is on the committee now.
    expect(admin.locator("#s-function")).to_have_value("aios")
    expect(hanna).to_contain_text("Zit in de commissie van deze procedure")
    for size, (width, height) in SIZES.items():
        admin.set_viewport_size({"width": width, "height": height})
        screenshot(admin, f"pool-compose-{size}")
    admin.set_viewport_size({"width": SIZES["desktop"][0], "height": SIZES["desktop"][1]})

    admin.goto(f"{server.url}/manage/procedures/{DRAFT}")
    assert "Geen aios in de commissie" not in findings(admin)
    # A panel with only the chair on it: the check names it, and links to the committee.
    admin.get_by_role("link", name="De commissie in panels verdelen").click()
    admin.fill("#f-panel-name", "Panel 1")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Voeg het panel toe").click()
    chair_seat = admin.get_by_label("dr. Maarten de Vries · opleider")
    chair_seat.select_option(label="Panel 1")
    with admin.expect_navigation():
        admin.locator("form", has=chair_seat).get_by_role("button").click()
    admin.goto(f"{server.url}/manage/procedures/{DRAFT}")
    assert "Een panel heeft geen aios" in findings(admin)
    assert "Panel 1" in findings(admin)
    screenshot(admin, "pool-panel-without-aios-desktop")
    admin.goto(f"{server.url}/manage/procedures/{DRAFT}/interviews")
    hanna_seat = admin.get_by_label("Hanna Mulder · aios")
    hanna_seat.select_option(label="Panel 1")
    with admin.expect_navigation():
        admin.locator("form", has=hanna_seat).get_by_role("button").click()
    admin.goto(f"{server.url}/manage/procedures/{DRAFT}")
    assert "Een panel heeft geen aios" not in findings(admin)


def test_an_applicant_books_on_a_phone_and_sees_their_panel(own_server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    server = own_server
    phone = signed_in(server, new_page, "applicant (interview to book)", "phone")
    phone.goto(f"{server.url}/my")
    phone.locator(f"#a-{OOST}-0001 h2 a").click()
    interview = phone.locator("#interview")
    expect(interview).to_contain_text("Boek je gesprek")
    assert serious_findings(phone) == []
    screenshot(phone, "interview-book-phone")
    # The times are grouped per day; today's are closed (a day ahead at the latest).
    days = interview.locator("h4").all_inner_texts()
    assert days and all("december" in day for day in days)
    first = interview.locator(".slot-button").first
    label = first.inner_text()
    with phone.expect_navigation():
        first.click()
    time, panel = (part.strip() for part in label.split(",")[0].split("·"))
    expect(interview.locator(".lead")).to_contain_text(f"om {time}")
    expect(interview.locator(".lead")).to_contain_text(f"panel: {panel}")
    members = interview.locator("ul[aria-labelledby=panel-heading] li")
    expect(members).to_have_count(3)
    assert any("aios" in text for text in members.all_inner_texts())
    assert serious_findings(phone) == []
    screenshot(phone, "interview-booked-phone")
    calendar = phone.get_by_role("link", name="Zet in mijn agenda (.ics)")
    href = calendar.get_attribute("href")
    assert href is not None
    cookies = {c["name"]: c["value"] for c in phone.context.cookies()}
    response = httpx.get(f"{server.url}{href}", cookies=cookies)
    assert response.status_code == 200 and "BEGIN:VEVENT" in response.text


def test_a_panel_member_scores_the_first_of_today_on_a_tablet(own_server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    server = own_server
    tablet = signed_in(server, new_page, "committee member (panel B)", "tablet")
    tablet.goto(f"{server.url}/committee")
    tablet.get_by_role("link", name="Opleiding Interne geneeskunde, OOR Oost-Nederland").click()
    today = tablet.locator("#today li")
    expect(today).to_have_count(3)
    times = [t.split(" · ")[0] for t in today.all_inner_texts()]
    assert times == sorted(times) and times[0] == "09:00"
    assert serious_findings(tablet) == []
    screenshot(tablet, "interview-today-tablet")
    with tablet.expect_navigation():
        today.first.get_by_role("link").click()
    fill_sheet(tablet, 4, "PANEL B")
    submit_sheet(tablet)
    tablet.goto(f"{server.url}/committee/{OOST}")
    expect(today.first).to_contain_text("Verstuurd")
    # Another panel's applicant is not theirs: not even that they exist.
    others = tablet.goto(f"{server.url}/committee/{OOST}/applicants/{OOST}-0002")
    assert others is not None and others.status == 404
