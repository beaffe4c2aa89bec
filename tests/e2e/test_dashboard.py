"""The applicant's overview in the browser, at phone, tablet and desktop size: each
application with its stages and the next date, on the demo's applicants in every stage; a
withdrawal that takes the procedure out of the open ones; a cluster's candidate stating
preferences; a candidate of a closed placement with their place."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import col, select

from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.applications.models import Application
from app.db import connect
from app.placement.models import PlacementOffer
from app.procedures.models import Procedure
from app.scoring.models import JointOutcome
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import SIZES, log_in, screenshot, serve_demo

pytestmark = pytest.mark.e2e

PASSWORD = "een lang wachtwoord voor de test"


def stage(page: Page, reference: str, name: str) -> Any:
    return page.locator(f"#a-{reference} .stage", has=page.locator(".stage-name", has_text=name))


def expect_stage(page: Page, reference: str, name: str, state: str) -> None:
    expect(stage(page, reference, name)).to_have_class(f"stage stage-{state}")


def open_now(page: Page) -> str:
    return page.locator("main").inner_text().split("Nu open voor sollicitaties", 1)[1]


def with_password(database_url: str, procedure: str, which: str) -> tuple[str, str]:
    """A candidate of the demo (they have no login) gets a password, as a reset would:
    the first found suitable (`which` = "suitable") or the first with an accepted offer
    ("placed"). Returns their e-mail and application reference."""
    database = connect(database_url)
    with database.session(write=True) as session:
        found = session.execute(select(Procedure).where(Procedure.reference == procedure))
        procedure_id = found.scalar_one().id
        query = (
            select(Application, User)
            .join(User, col(User.id) == col(Application.applicant_id))
            .where(Application.procedure_id == procedure_id)
            .order_by(col(Application.reference))
        )
        if which == "suitable":
            query = query.join(
                JointOutcome, col(JointOutcome.application_id) == col(Application.id)
            ).where(col(JointOutcome.suitable).is_(True))
        else:
            query = query.join(
                PlacementOffer, col(PlacementOffer.application_id) == col(Application.id)
            ).where(PlacementOffer.status == "accepted")
        application, user = session.execute(query).first()  # type: ignore[misc]
        session.execute(
            update(User)
            .where(col(User.id) == user.id)
            .values(password_hash=hash_password(PASSWORD))
        )
        session.commit()
        found_email, reference = user.email, application.reference
    database.dispose()
    return found_email, reference


def test_the_overview_of_every_stage(tmp_path, new_page) -> None:  # type: ignore[no-untyped-def]
    with serve_demo(tmp_path) as server:
        sanne = next(a for a in server.accounts if a.email == "sollicitant1@example.org")
        for size in SIZES:
            page: Page = new_page(size)
            log_in(page, server, sanne.email, sanne.password)
            assert page.url == f"{server.url}/my"
            assert page.locator(".application-card").count() == 4
            # Letter round under way; interviews under way; deliberating; results out.
            expect_stage(page, "INT-NN-2027-1-0001", "Brievenronde", "current")
            expect_stage(page, "ANE-UTR-2026-2-0001", "Brievenronde", "done")
            expect_stage(page, "ANE-UTR-2026-2-0001", "Gesprek", "current")
            expect(page.locator("#a-ANE-UTR-2026-2-0001 .next-date")).to_contain_text(
                "Hierna: Einduitslag"
            )
            expect_stage(page, "ANE-ZWN-2026-2-0001", "Uitkomst", "current")
            expect_stage(page, "ANE-UTR-2026-1-0001", "Uitkomst", "ended")
            expect_stage(page, "ANE-UTR-2026-1-0001", "Plaatsing", "skipped")
            results = page.locator("#a-ANE-UTR-2026-1-0001")
            expect(results.get_by_role("link", name="Lees je uitslag")).to_be_visible()
            # Every stage says its state in words too, not by colour alone.
            expect(stage(page, "ANE-UTR-2026-1-0001", "Uitkomst")).to_contain_text("hier gestopt")
            expect(page.locator("[aria-current=step]")).to_have_count(3)
            assert serious_findings(page) == [], size
            screenshot(page, f"my-overview-{size}")
        results.get_by_role("link", name="Lees je uitslag").click()
        page.wait_for_url(f"{server.url}/applications/ANE-UTR-2026-1-0001#result")

        # Daan withdraws from the open procedure on his phone.
        daan = next(a for a in server.accounts if a.email == "sollicitant2@example.org")
        phone: Page = new_page("phone")
        log_in(phone, server, daan.email, daan.password)
        # Applied to: not offered again under the procedures open now.
        assert "voorjaar 2027" not in open_now(phone)
        phone.locator("#a-ANE-UTR-2027-1-0001 h2 a").click()
        phone.get_by_text("Deze sollicitatie intrekken").click()
        with phone.expect_navigation():
            phone.get_by_role("button", name="Ja, trek mijn sollicitatie in").click()
        phone.goto(f"{server.url}/my")
        expect_stage(phone, "ANE-UTR-2027-1-0001", "Sollicitatie", "ended")
        for name in ("Brievenronde", "Gesprek", "Uitkomst", "Plaatsing"):
            expect_stage(phone, "ANE-UTR-2027-1-0001", name, "skipped")
        expect(phone.locator("#a-ANE-UTR-2027-1-0001")).to_contain_text("ingetrokken")
        expect(phone.locator("#a-ANE-UTR-2027-1-0001 .next-date")).to_have_count(0)
        assert "voorjaar 2027" not in open_now(phone)
        assert serious_findings(phone) == []
        screenshot(phone, "my-withdrawn-phone")
        # The procedure's page says so; the form's address says why it is not there.
        phone.goto(f"{server.url}/procedures/ANE-UTR-2027-1")
        expect(phone.locator(".apply")).to_contain_text("ingetrokken")
        expect(phone.get_by_role("link", name="Solliciteren")).to_have_count(0)
        phone.goto(f"{server.url}/procedures/ANE-UTR-2027-1/apply")
        assert phone.url == f"{server.url}/applications/ANE-UTR-2027-1-0001"
        expect(phone.locator("#flash")).to_contain_text("kan niet opnieuw worden verstuurd")

        # A suitable candidate of the cluster whose preferences are still open.
        email, reference = with_password(server.database_url, "ANE-UTR-2026-1", "suitable")
        tablet: Page = new_page("tablet")
        log_in(tablet, server, email, PASSWORD)
        expect_stage(tablet, reference, "Plaatsing", "current")
        expect(tablet.locator(f"#a-{reference} .next-date")).to_contain_text("Voorkeursdeadline")
        tablet.get_by_role("link", name="Zet de instellingen op volgorde").click()
        tablet.wait_for_url(f"{server.url}/applications/{reference}#preferences")
        screenshot(tablet, "my-preferences-tablet")

        # A candidate placed in the closed placement of ANE-UTR-2025-2.
        email, reference = with_password(server.database_url, "ANE-UTR-2025-2", "placed")
        desktop: Page = new_page("desktop")
        log_in(desktop, server, email, PASSWORD)
        expect_stage(desktop, reference, "Plaatsing", "done")
        expect(desktop.locator(f"#a-{reference}")).to_contain_text("Jouw opleidingsplek:")
        assert serious_findings(desktop) == []
        screenshot(desktop, "my-placed-desktop")
