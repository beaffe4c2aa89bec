"""The whole journey in one go, every role in its own browser context: the admin publishes a
procedure, two applicants apply with PDFs, the letter round, three members score on tablets
(one declares a conflict), the deliberation, an observer's remark, a draw with two
contributors, the results, the observer's sign-off, and an applicant verifying the draw.

Applications close one or two minutes after the procedure is published, so the test
waits for the deadline once, as the real procedure would."""

from __future__ import annotations

import hashlib
import time
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from app.db import utcnow
from app.forms import local_input
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, confirm, log_in, screenshot
from tests.e2e.test_applying import pdf_file
from tests.e2e.test_scoring import fill_sheet, submit_sheet

pytestmark = pytest.mark.e2e

REFERENCE = "ANE-REIS-2027-1"
FIRST, SECOND = f"{REFERENCE}-0001", f"{REFERENCE}-0002"
SECRETS = {"observer": "de-reis-van-de-waarnemer-2027", "chair": "de-reis-van-de-voorzitter-27"}


def submit(page: Page, form_selector: str) -> None:
    with page.expect_navigation():
        page.locator(f"{form_selector} button[type=submit]").first.click()


def wait_for_phase(page: Page, label: str) -> None:
    """The procedure opens and closes by itself at its published times (the server's job
    runs every second here); the editor shows the new phase after a reload."""
    deadline = time.monotonic() + 30
    while page.locator("#status .phase").inner_text().strip() != label:
        assert time.monotonic() < deadline, f"the procedure did not become {label!r}"
        time.sleep(0.5)
        page.reload()


def step(page: Page, name: str) -> None:
    """A screenshot of every step (kept in test-artifacts/e2e/) and axe on its page."""
    screenshot(page, f"journey-{name}")
    assert serious_findings(page) == [], name


def publish(admin: Page, server: Server) -> float:
    """The admin drafts and publishes the procedure; returns when applications close."""
    admin.goto(f"{server.url}/manage/organisations/nva/procedures/new")
    admin.fill("#f-reference", REFERENCE)
    admin.fill("#f-title", "Anesthesiologie, de hele reis 2027")
    admin.fill("#f-specialty", "Anesthesiologie")
    admin.fill("#f-region", "UMC Utrecht")
    admin.fill("#f-places", "1")
    submit(admin, "form[action$='/procedures']")
    admin.fill(
        "#f-method", "Een STARR-gesprek met drie commissieleden, eerst individueel gescoord."
    )
    admin.fill("#f-quorum", "2")
    admin.fill(
        "#f-method_en", "A STARR interview with three committee members, scored alone first."
    )
    admin.check("#rule-lottery_among_suitable")
    submit(admin, "#basics form")
    now = utcnow()
    closes = (now + timedelta(minutes=2)).replace(second=0, microsecond=0)
    admin.fill("#f-opens_at", local_input(now - timedelta(days=1)))
    admin.fill("#f-closes_at", local_input(closes))
    admin.fill("#f-letter_round_result_at", local_input(closes + timedelta(days=1)))
    admin.fill("#f-interview-0", (closes + timedelta(days=2)).date().isoformat())
    admin.fill("#f-final_result_at", local_input(closes + timedelta(days=5)))
    submit(admin, "#timeline form")
    admin.check("#kind-minimum")
    admin.fill("#f-text", "BIG-registratie als arts")
    admin.fill("#f-rationale", "Zonder registratie mag je de opleiding niet beginnen.")
    admin.fill("#f-text_en", "BIG registration as a doctor")
    admin.fill("#f-rationale_en", "Without registration you may not start the training.")
    submit(admin, "#requirements form[action$='/requirements']")
    submit(admin, "#rubric form")
    for name, email, role, function in (
        ("dr. Maarten de Vries", "opleider@example.org", "chair", "opleider"),
        ("dr. Fatima El Amrani", "staflid@example.org", "member", "staff"),
        ("Joris Bakker", "aios@example.org", "member", "aios"),
        ("mr. Ingrid Hoekstra", "waarnemer@example.org", "observer", "staff"),
    ):
        admin.fill("#committee #f-name", name)
        admin.fill("#committee #f-email", email)
        admin.select_option("#f-role", role)
        admin.select_option("#f-function", function)
        admin.check("#f-training")
        submit(admin, "#committee form[action$='/invitations']")
    expect(admin.locator("#check")).to_contain_text("volgt elk punt")
    submit(admin, "#status form")  # publish
    # the opening time has passed: the procedure opens by itself
    wait_for_phase(admin, "Open voor sollicitaties")
    step(admin, "1-published-desktop")
    return closes.timestamp()


def apply(page: Page, server: Server, tmp_path, number: int) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{server.url}/procedures/{REFERENCE}/apply")
    page.fill("#f-phone", "06 12345678")
    page.fill("#f-big", "19012345601")
    for area in page.locator("textarea[name^='answer-']").all():
        area.fill("Ik voldoe hieraan: zie mijn cv.")
    page.set_input_files("#f-cv", pdf_file(tmp_path, f"cv-{number}.pdf"))
    page.set_input_files("#f-motivation", pdf_file(tmp_path, f"motivatie-{number}.pdf"))
    with page.expect_navigation():
        page.locator("button[name='action'][value='submit']").click()
    expect(page.get_by_role("status").first).to_contain_text(REFERENCE)


def test_the_whole_journey(server: Server, new_page, tmp_path) -> None:  # type: ignore[no-untyped-def]
    def login(role: str, size: str, email: str | None = None) -> Page:
        page: Page = new_page(size)
        account = (
            next(a for a in server.accounts if a.email == email) if email else server.account(role)
        )
        log_in(page, server, account.email, account.password)
        return page

    admin = login("WV admin (NVA)", "desktop")
    closes = publish(admin, server)

    observer = login("observer", "desktop")
    observer.goto(f"{server.url}/observer")
    card = observer.locator(".card", has_text=REFERENCE)
    card.locator("input[value='no']").check()
    with observer.expect_navigation():
        card.get_by_role("button", name="Mijn verklaring opslaan").click()

    applicants = {
        FIRST: login("applicant", "phone", "sollicitant1@example.org"),
        SECOND: login("applicant", "phone", "sollicitant2@example.org"),
    }
    for number, page in enumerate(applicants.values(), 1):
        apply(page, server, tmp_path, number)
    step(applicants[FIRST], "2-applied-phone")

    time.sleep(max(0.0, closes - time.time() + 2))  # the deadline passes
    admin.goto(f"{server.url}/manage/procedures/{REFERENCE}")
    wait_for_phase(admin, "Gesloten")  # closed by itself at the deadline
    submit(admin, "#status form")  # start the letter round
    admin.goto(f"{server.url}/manage/procedures/{REFERENCE}/letter-round")
    for reference in (FIRST, SECOND):
        section = admin.locator(f"section[id='{reference}']")
        for radio in section.locator("input[value='met']").all():
            radio.check()
        with admin.expect_navigation():
            section.get_by_role("button", name="Besluit opslaan").click()
    with admin.expect_navigation():
        admin.get_by_role("button", name="Uitslag brievenronde publiceren").click()
    assert serious_findings(admin) == []
    confirm(admin, "Publiceren en de sollicitanten mailen", "journey-3-letter-round-confirm", 2)
    step(admin, "3-letter-round-desktop")
    members = {
        "chair": login("committee chair (opleider)", "tablet"),
        "staff": login("committee member (staff)", "tablet"),
        "aios": login("committee member (aios)", "tablet"),
    }
    # Every member declares whom they know before the interviews start; the aios knows
    # the second applicant: declared, and gone from their list.
    for role, page in members.items():
        page.goto(f"{server.url}/committee/{REFERENCE}")
        if role == "aios":
            page.get_by_label("Ja, ik ken de hieronder gekozen sollicitanten").check()
            page.select_option(f"#tie-{SECOND}", "colleague")
        else:
            page.get_by_label("Nee, ik ken niemand van hen").check()
        with page.expect_navigation():
            page.get_by_role("button", name="Mijn verklaring opslaan").click()
        expect(page.locator("#ties")).to_contain_text("Je verklaring is vastgelegd")
    aios = members["aios"]
    assert aios.goto(f"{server.url}/committee/{REFERENCE}/applicants/{SECOND}").status == 404
    admin.goto(f"{server.url}/manage/procedures/{REFERENCE}")
    submit(admin, "#status form")  # start the interviews
    expect(admin.locator("#status")).to_contain_text("Gesprekken")
    for role, page in members.items():
        for reference in (FIRST, SECOND):
            if role == "aios" and reference == SECOND:
                continue
            page.goto(f"{server.url}/committee/{REFERENCE}/applicants/{reference}")
            fill_sheet(page, 4, f"{role.upper()} over {reference}")
            submit_sheet(page)
    step(members["chair"], "4-scored-tablet")

    admin.goto(f"{server.url}/manage/procedures/{REFERENCE}")
    submit(admin, "#status form")  # start the deliberation
    chair = members["chair"]
    for reference in (FIRST, SECOND):
        chair.goto(f"{server.url}/committee/{REFERENCE}/applicants/{reference}/deliberation")
        for reason in chair.locator("textarea[id^='joint-reason-']").all():
            reason.fill("Besproken: de leden zagen hetzelfde STARR-voorbeeld terug.")
        chair.get_by_label("Motivering (de kandidaat leest deze)").fill(
            "Op alle criteria goed, met concrete STARR-voorbeelden en eerlijke reflectie."
        )
        chair.get_by_label("Geschikt", exact=True).check()
        with chair.expect_navigation():
            chair.get_by_role("button", name="Gezamenlijke uitkomst vastleggen").click()
    step(chair, "5-deliberation-tablet")

    observer.goto(f"{server.url}/observer/procedures/{REFERENCE}")
    observer.fill("#f-text", "De commissie besprak elk criterium waarop zij uiteenlag.")
    with observer.expect_navigation():
        observer.get_by_role("button", name="Voeg de opmerking toe").click()
    step(observer, "6-observer-remark-desktop")

    # Two suitable candidates for one place: the draw.
    admin.goto(f"{server.url}/manage/procedures/{REFERENCE}/ranking")
    with admin.expect_navigation():
        admin.get_by_role("button", name="De loting voorbereiden").click()
    for role, page in (("observer", observer), ("chair", chair)):
        page.goto(f"{server.url}/procedures/{REFERENCE}/draws/1/contribute")
        page.fill("#f-secret-local", SECRETS[role])
        expect(page.locator("#f-commitment")).to_have_value(
            hashlib.sha256(SECRETS[role].encode()).hexdigest()
        )
        with page.expect_navigation():
            page.get_by_role("button", name="Commitment versturen").click()
    admin.reload()
    with admin.expect_navigation():
        admin.get_by_role("button", name="Loting aankondigen").click()
    for role, page in (("observer", observer), ("chair", chair)):
        page.reload()
        page.fill("#f-secret", SECRETS[role])
        with page.expect_navigation():
            page.get_by_role("button", name="Onthullen").click()
    expect(chair.locator("main")).to_contain_text("De loting heeft plaatsgevonden")
    admin.reload()
    expect(admin.locator("#draws")).to_contain_text("Geloot")
    step(admin, "7-draw-desktop")

    admin.goto(f"{server.url}/manage/procedures/{REFERENCE}")
    submit(admin, "#status form")  # publish the results: first the confirmation
    assert serious_findings(admin) == []
    confirm(admin, "Publiceren en de sollicitanten mailen", "journey-7-results-confirm", 2)
    expect(admin.locator("#flash")).to_contain_text("2 sollicitanten kregen een e-mail")
    expect(admin.locator("#status")).to_contain_text("Uitslag")
    observer.goto(f"{server.url}/procedures/{REFERENCE}/report")
    with observer.expect_navigation():
        observer.get_by_role("button", name="De ronde aftekenen").click()
    assert serious_findings(observer) == []
    confirm(observer, "De ronde aftekenen", "journey-8-sign-off-confirm", 0)
    expect(observer.locator("#sign-off")).to_contain_text("Afgetekend door de waarnemer")
    step(observer, "8-signed-off-desktop")

    for reference, page in applicants.items():
        page.goto(f"{server.url}/applications/{reference}")
        expect(page.locator("#result")).to_contain_text("Je bent geschikt bevonden")
        step(page, f"9-result-{reference}-phone")
    page = applicants[FIRST]
    page.get_by_role("link", name="Controleer de loting zelf").click()
    expect(page.get_by_role("status").first).to_contain_text("De loting klopt")
    step(page, "10-verified-phone")
