"""The letter round in the browser: an admin decides and publishes; applicants read why.
Then an applicant fills in the diversity questionnaire and downloads their data."""

from __future__ import annotations

import io
import zipfile

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, confirm, log_in, screenshot

pytestmark = pytest.mark.e2e


def test_admin_runs_the_letter_round_and_the_applicant_reads_the_reason(
    server: Server, new_page
) -> None:  # type: ignore[no-untyped-def]
    admin = server.account("platform admin")
    page: Page = new_page("desktop")
    log_in(page, server, admin.email, admin.password)
    page.goto(f"{server.url}/manage/procedures/INT-NN-2027-1/letter-round")
    expect(page.locator("h1")).to_have_text("Brievenronde")
    assert serious_findings(page) == []
    first, second = page.locator("section[id^='INT-NN-2027-1-']").all()[:2]
    first_reference = first.get_attribute("id")
    for radio in first.locator("input[value='met']").all():
        radio.check()
    with page.expect_navigation():
        first.get_by_role("button", name="Besluit opslaan").click()
    second = page.locator("section[id^='INT-NN-2027-1-']").nth(1)
    second_reference = second.get_attribute("id")
    radios = second.locator("input[value='met']").all()
    for radio in radios[1:]:
        radio.check()
    second.locator("input[value='not_met']").first.check()
    # no reason yet: refused with a message in place
    with page.expect_navigation():
        second.get_by_role("button", name="Besluit opslaan").click()
    expect(page.locator(f"section[id='{second_reference}'] .alert-error")).to_contain_text(
        "Geef de reden"
    )
    second = page.locator(f"section[id='{second_reference}']")
    second.locator("input[value='not_met']").first.check()
    for radio in second.locator("input[value='met']").all()[1:]:
        radio.check()
    second.locator("input[name^='reason-']").first.fill("Geen artsexamen vermeld in het cv.")
    with page.expect_navigation():
        second.get_by_role("button", name="Besluit opslaan").click()
    screenshot(page, "letter-round-decided-desktop")
    with page.expect_navigation():
        page.get_by_role("button", name="Uitslag brievenronde publiceren").click()
    # The same confirmation on a phone and a tablet: the mail and its long link fit.
    for size in ("phone", "tablet"):
        small: Page = new_page(size)
        log_in(small, server, admin.email, admin.password)
        small.goto(page.url)
        expect(small.locator(".mail-body")).to_contain_text("Beste")
        screenshot(small, f"letter-round-confirm-{size}")
        assert serious_findings(small) == []
    confirm(page, "Publiceren en de sollicitanten mailen", "letter-round-confirm-desktop", 2)
    expect(page.locator("#flash")).to_contain_text("2 sollicitanten kregen een e-mail")
    expect(page.locator(f"section[id='{first_reference}']")).to_contain_text("Uitgenodigd")
    expect(page.locator(f"section[id='{second_reference}']")).to_contain_text("Niet uitgenodigd")

    applicant = next(a for a in server.accounts if a.email == "sollicitant2@example.org")
    phone: Page = new_page("phone")
    log_in(phone, server, applicant.email, applicant.password)
    phone.goto(f"{server.url}/applications/{second_reference}")
    expect(phone.locator(".facts")).to_contain_text("Geen artsexamen vermeld in het cv.")
    screenshot(phone, "letter-round-not-invited-phone")
    assert serious_findings(phone) == []

    phone.get_by_role("link", name="Vrijwillige diversiteitsvragenlijst").click()
    phone.check("#gender-rather_not")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Mijn antwoorden opslaan").click()
    expect(phone.get_by_role("status")).to_contain_text("apart van je sollicitatie")
    phone.goto(f"{server.url}/account")
    assert serious_findings(phone) == []
    with phone.expect_download() as download:
        phone.get_by_role("link", name="Download alles").click()
    archive = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes()))
    assert "data.json" in archive.namelist()
