"""A cluster's placement in the browser (issue 15), in the demo's Cluster Utrecht
(ANE-UTR-2026-1: results published, the suitable candidates stating their lists). The
deadline passes and the clock fixes the lists; the admin prepares the ordering draw; the
observer (laptop) and the chair (tablet) commit and reveal; the admin publishes round 1;
the candidate first in priority declines on a phone and the others accept; round 2 moves
everyone after the decliner up their own list; a candidate verifies both rounds on the
verify page. The demo's ANE-UTR-2025-2 shows a placement already closed after two rounds."""

from __future__ import annotations

import json
from datetime import timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlmodel import select

from app.accounts.models import User
from app.accounts.passwords import hash_password
from app.applications.models import Application
from app.db import connect, utcnow
from app.placement import preferences
from app.procedures.models import Procedure
from app.scoring.models import JointOutcome
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot, serve_demo
from tests.e2e.test_lottery import both_commit, reveal

pytestmark = pytest.mark.e2e

PROCEDURE = "ANE-UTR-2026-1"
PASSWORD = "een lang wachtwoord voor de test"
# Everyone wants the same order: whoever is first in priority gets UMC Utrecht, and when
# they decline, everyone placed after them moves one hospital up their list.
WANTED = ["UMCU", "MMA", "RST", "GV"]
SECRETS = {"observer": "kievit-boven-het-weiland-2027", "chair": "ochtendmist-over-de-kromme-rijn"}


def prepare_candidates(database_url: str) -> dict[str, str]:
    """Every suitable candidate states the same list and gets a password, as a reset would;
    then the deadline passes. Returns their e-mail by application reference."""
    database = connect(database_url)
    with database.session(write=True) as session:
        procedure = session.execute(
            select(Procedure).where(Procedure.reference == PROCEDURE)
        ).scalar_one()
        rows = session.execute(
            select(Application, User)
            .join(JointOutcome, JointOutcome.application_id == Application.id)
            .join(User, User.id == Application.applicant_id)
            .where(Application.procedure_id == procedure.id, JointOutcome.suitable)
            .order_by(Application.reference)
        ).all()
        emails = {}
        for application, user in rows:
            preferences.save(session, procedure=procedure, application=application, codes=WANTED)
            emails[application.reference] = user.email
        session.execute(
            update(User)
            .where(User.email.in_(list(emails.values())))  # type: ignore[attr-defined]
            .values(password_hash=hash_password(PASSWORD))
        )
        procedure.preference_deadline = utcnow() - timedelta(seconds=1)
        session.commit()
    database.dispose()
    return emails


def records(server: Server) -> list[dict[str, object]]:
    found: list[dict[str, object]] = httpx.get(
        f"{server.url}/api/procedures/{PROCEDURE}/placements"
    ).json()
    return found


def test_a_placement_from_the_ordering_draw_to_round_two(tmp_path, new_page) -> None:  # type: ignore[no-untyped-def]
    with serve_demo(tmp_path) as server:
        emails = prepare_candidates(server.database_url)
        assert len(emails) >= 3

        admin_account = server.account("WV admin (NVA)")
        admin: Page = new_page("desktop")
        log_in(admin, server, admin_account.email, admin_account.password)
        admin.goto(f"{server.url}/manage/procedures/{PROCEDURE}/placement")
        # The clock fixes the lists within a few seconds of the deadline.
        for _ in range(30):
            if "De lijsten zijn vastgelegd" in admin.locator("#lists").inner_text():
                break
            admin.wait_for_timeout(500)
            admin.reload()
        expect(admin.locator("#lists")).to_contain_text("De lijsten zijn vastgelegd")
        # The admin reads how many lists there are, never a list.
        expect(admin.locator("#lists")).to_contain_text(f"{len(emails)} van de")
        assert "UMCU, MMA" not in admin.locator("main").inner_text()
        assert serious_findings(admin) == []
        screenshot(admin, "placement-manage-desktop")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Bereid de volgordeloting voor").click()
        expect(admin.locator("#priority")).to_contain_text(f"{PROCEDURE}/draw-")

        observer, chair = both_commit(server, new_page, PROCEDURE, SECRETS)

        admin.reload()
        with admin.expect_navigation():
            admin.get_by_role("button", name="Loting aankondigen").click()
        expect(admin.locator("#priority")).to_contain_text("Aangekondigd")
        reveal(observer, SECRETS["observer"])
        reveal(chair, SECRETS["chair"])
        expect(chair.locator("main")).to_contain_text("De loting heeft plaatsgevonden")

        # Round 1, after ticking the confirmation.
        admin.reload()
        expect(admin.locator("#priority")).to_contain_text("Getrokken volgorde")
        with admin.expect_navigation():
            admin.get_by_role("button", name="Bereken en publiceer ronde 1").click()
        expect(admin.locator("#placement-error")).to_contain_text("Vink het vakje aan")
        admin.get_by_label("Publiceer de ronde en mail elke kandidaat").check()
        with admin.expect_navigation():
            admin.get_by_role("button", name="Bereken en publiceer ronde 1").click()
        [first] = records(server)
        assignment = first["assignment"]
        assert isinstance(assignment, dict)
        placed = [ref for ref, code in assignment.items() if code]
        assert [assignment[ref] for ref in placed] == WANTED[: len(placed)]
        screenshot(admin, "placement-round-1-desktop")

        # The first in priority declines on a phone; the others accept.
        decliner = placed[0]
        phone: Page = new_page("phone")
        log_in(phone, server, emails[decliner], PASSWORD)
        phone.goto(f"{server.url}/applications/{decliner}")
        offer = phone.locator("#placement")
        expect(offer).to_contain_text("Je krijgt een opleidingsplek aangeboden bij UMC Utrecht")
        assert serious_findings(phone) == []
        screenshot(phone, "placement-offer-phone")
        offer.get_by_label("Ik wijs af en verlaat de plaatsing").check()
        with phone.expect_navigation():
            offer.get_by_role("button", name="Wijs deze plek af").click()
        declined = "Je hebt de plek bij UMC Utrecht afgewezen"
        expect(phone.locator("#placement")).to_contain_text(declined)
        for ref in placed[1:]:
            page: Page = new_page("tablet")
            log_in(page, server, emails[ref], PASSWORD)
            page.goto(f"{server.url}/applications/{ref}")
            with page.expect_navigation():
                page.locator("#placement").get_by_role("button", name="Accepteer deze plek").click()
            expect(page.locator("#placement")).to_contain_text("Jouw opleidingsplek")

        # Round 2: everyone after the decliner moves one hospital up their own list.
        admin.reload()
        admin.get_by_label("Publiceer de ronde en mail elke kandidaat").check()
        with admin.expect_navigation():
            admin.get_by_role("button", name="Bereken en publiceer ronde 2").click()
        _first, second = records(server)
        upgraded = second["assignment"]
        assert isinstance(upgraded, dict) and second["withdrawn"] == [decliner]
        for ref in placed[1:]:
            assert WANTED.index(upgraded[ref]) == WANTED.index(assignment[ref]) - 1, ref
        moved = placed[1]
        mover: Page = new_page("phone")
        log_in(mover, server, emails[moved], PASSWORD)
        mover.goto(f"{server.url}/applications/{moved}")
        expect(mover.locator("#placement")).to_contain_text("Jouw opleidingsplek")
        expect(mover.locator("#placement")).to_contain_text("Ronde 2")

        # The candidate verifies both rounds on the verify page, filled from the records.
        for number in (2, 1):
            mover.goto(f"{server.url}/procedures/{PROCEDURE}/placements")
            with mover.expect_navigation():
                mover.get_by_role("link", name=f"Controleer ronde {number} stap voor stap").click()
            with mover.expect_navigation():
                mover.locator("form[action='/placement/verify'] button[type=submit]").click()
            expect(mover.get_by_role("status").first).to_contain_text("De plaatsing klopt")
            assert serious_findings(mover) == []
            screenshot(mover, f"placement-verified-round-{number}-phone")
        # The public page of the rounds, in English too.
        public: Page = new_page("desktop", "en")
        public.goto(f"{server.url}/lang/en?next=/procedures/{PROCEDURE}/placements")
        expect(public.locator("main")).to_contain_text("Round 2")
        assert serious_findings(public) == []
        screenshot(public, "placement-records-desktop")


def test_the_demo_shows_a_placement_closed_after_two_rounds(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    rounds = httpx.get(f"{server.url}/api/procedures/ANE-UTR-2025-2/placements").json()
    assert [r["round"] for r in rounds] == [1, 2] and len(rounds[1]["withdrawn"]) == 1
    page: Page = new_page("phone")
    page.goto(f"{server.url}/procedures/ANE-UTR-2025-2/placements")
    expect(page.locator("main")).to_contain_text("De plaatsing is gesloten op")
    assert serious_findings(page) == []
    screenshot(page, "placement-closed-phone")
    admin_account = server.account("WV admin (NVA)")
    admin: Page = new_page("tablet")
    log_in(admin, server, admin_account.email, admin_account.password)
    admin.goto(f"{server.url}/manage/procedures/ANE-UTR-2025-2/placement")
    expect(admin.locator("#rounds")).to_contain_text("Ronde 2")
    assert serious_findings(admin) == []
    screenshot(admin, "placement-closed-manage-tablet")
    assert json.dumps(rounds[1]["previous"])
