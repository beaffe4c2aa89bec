"""The deliberation answers to the sheets, and every member declares their ties, in the
browser on the demo data.

The chair (tablet) revises a joint outcome of ANE-ZWN-2026-2 with a level outside the
members' range: refused without a reason, accepted with one, and flagged. An applicant
reads the committee's reason beside each level on their result (ANE-UTR-2026-1). In
ANE-ZWN-2027-1 the admin starts the letter round; a member declares on a tablet that they
know none of the applicants, and the interviews wait for the others."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from app import demo
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot

pytestmark = pytest.mark.e2e

DELIBERATING = "ANE-ZWN-2026-2"
RESULTS = "ANE-UTR-2026-1"
CLOSED = "ANE-ZWN-2027-1"


def login(server: Server, new_page, role: str, size: str, email: str = "") -> Page:  # type: ignore[no-untyped-def]
    account = next(a for a in server.accounts if a.role == role and (not email or a.email == email))
    page: Page = new_page(size)
    log_in(page, server, account.email, account.password)
    return page


def test_a_joint_level_outside_the_range_needs_its_reason(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    chair = login(server, new_page, "committee chair (opleider)", "tablet")
    url = f"{server.url}/committee/{DELIBERATING}/applicants/{DELIBERATING}-0001/deliberation"
    chair.goto(url)
    members = chair.locator("#members-collaboration")
    expect(members).to_contain_text("Niveaus van de leden")
    low = int(re.search(r"spreiding (\d)", members.inner_text()).group(1))  # type: ignore[union-attr]
    assert low >= 4  # the strong field: every member gave 4 or 5
    option = chair.locator("#joint-collaboration label.level-option").nth(2)  # level 3
    expect(option).to_contain_text("Buiten de spreiding van de leden")
    option.click()
    chair.fill("#joint-reason-collaboration", "")
    with chair.expect_navigation():
        chair.get_by_role("button", name="Gezamenlijke uitkomst herzien").click()
    expect(chair.locator("#form-error")).to_contain_text(
        "Samenwerking: het gezamenlijke niveau 3 ligt buiten de niveaus van de leden"
    )
    assert serious_findings(chair) == []
    screenshot(chair, "deliberation-outside-range-refused-tablet")

    why = "In het rollenspel met de OK-assistent zocht de kandidaat geen overleg; dat woog zwaar."
    chair.fill("#joint-reason-collaboration", why)
    with chair.expect_navigation():
        chair.get_by_role("button", name="Gezamenlijke uitkomst herzien").click()
    expect(chair.get_by_role("status").first).to_contain_text("vastgelegd")
    expect(chair.locator("table.side-by-side")).to_contain_text("Buiten de spreiding van de leden")
    assert serious_findings(chair) == []
    screenshot(chair, "deliberation-outside-range-accepted-tablet")

    observer = login(server, new_page, "observer", "desktop")
    observer.goto(f"{server.url}/procedures/{DELIBERATING}/report")
    article = observer.locator(f"#a-{DELIBERATING}-0001")
    expect(article).to_contain_text("Buiten de spreiding van de leden")
    expect(article).to_contain_text(why)


def test_the_applicant_reads_the_reason_beside_each_level(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    phone = login(server, new_page, "applicant", "tablet", "sollicitant1@example.org")
    phone.goto(f"{server.url}/my")
    phone.locator(f"a[href='/applications/{RESULTS}-0001']").first.click()
    result = phone.locator("#result")
    expect(result).to_contain_text("Jouw uitslag")
    rows = result.locator("tbody tr")
    assert rows.count() == 6
    for index in range(rows.count()):
        why = rows.nth(index).locator("td").nth(1).inner_text()
        assert why in demo.JOINT_REASONS.values(), why
    assert serious_findings(phone) == []
    screenshot(phone, "result-reasons-per-criterion-tablet")


def test_a_member_declares_no_ties_before_the_interviews(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    admin = login(server, new_page, "WV admin (NVA)", "desktop")
    admin.goto(f"{server.url}/manage/procedures/{CLOSED}")
    with admin.expect_navigation():
        admin.get_by_role("button", name="Brievenronde starten").click()
    expect(admin.locator("#status")).to_contain_text("Brievenronde")

    staff = login(server, new_page, "committee member (staff)", "tablet")
    card = staff.locator(".card", has_text=CLOSED)
    expect(card).to_contain_text("Verklaar wie van de sollicitanten je kent")
    card.get_by_role("link", name="Verklaar je banden").click()
    expect(staff.locator("#ties-heading")).to_have_text("Jouw verklaring over banden")
    assert serious_findings(staff) == []
    screenshot(staff, "ties-declaration-tablet")
    staff.get_by_label("Nee, ik ken niemand van hen").check()
    with staff.expect_navigation():
        staff.get_by_role("button", name="Mijn verklaring opslaan").click()
    expect(staff.locator("#ties")).to_contain_text("geen van de uitgenodigde sollicitanten kent")
    assert serious_findings(staff) == []
    screenshot(staff, "ties-declared-tablet")

    # The interviews wait for the chair and the aios.
    admin.goto(f"{server.url}/manage/procedures/{CLOSED}")
    problem = admin.locator("#status .blockers")
    expect(problem).to_contain_text("nog niet verklaard wie van de sollicitanten zij kennen")
    expect(problem).to_contain_text("dr. Maarten de Vries")
    expect(problem).to_contain_text("Joris Bakker")
    expect(problem).not_to_contain_text("Fatima El Amrani")
