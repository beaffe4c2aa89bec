"""A suitable candidate of the demo's Cluster Utrecht (ANE-UTR-2026-1, results published,
preference deadline in nine days) orders the hospitals where they want to train on a phone,
with the buttons only, first by touch and then by keyboard; the list stays as they left it.
The public page shows the places per hospital."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from sqlalchemy import create_engine, select, update

from app.accounts.models import User
from app.accounts.passwords import hash_password
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in, screenshot

pytestmark = pytest.mark.e2e

PROCEDURE = "ANE-UTR-2026-1"
CANDIDATE = "kandidaat2@example.org"  # found suitable in the demo's round
PASSWORD = "een lang wachtwoord voor de test"


def button(section: Locator, verb: str, name: str) -> Locator:
    """A button by its accessible name: the verb, then the hidden ": institution"."""
    return section.get_by_role("button", name=re.compile(rf"^{verb}\s*: {re.escape(name)}$"))


def listed(page: Page) -> list[str]:
    return [
        text.split(". ", 1)[1].split(",")[0]
        for text in page.locator("#preferences ol .preference-name").all_inner_texts()
    ]


def test_a_candidate_orders_the_hospitals_on_a_phone(server: Server, new_page) -> None:  # type: ignore[no-untyped-def]
    # The candidate has no demo login: give them a password, as a reset would.
    engine = create_engine(server.database_url)
    with engine.begin() as connection:
        connection.execute(
            update(User)
            .where(User.email == CANDIDATE)
            .values(password_hash=hash_password(PASSWORD))
        )
        assert connection.execute(select(User.id).where(User.email == CANDIDATE)).first()
    engine.dispose()

    visitor: Page = new_page("phone")
    visitor.goto(f"{server.url}/procedures/{PROCEDURE}")
    places = visitor.get_by_role("region", name="Waar de plaatsen zijn")
    expect(places).to_contain_text("Rijnstate")
    expect(places).to_contain_text("Ziekenhuis Gelderse Vallei")

    phone: Page = new_page("phone")
    log_in(phone, server, CANDIDATE, PASSWORD)
    phone.goto(f"{server.url}/applications/{PROCEDURE}-0003")
    section = phone.locator("#preferences")
    expect(section).to_contain_text("Zet de instellingen waar je opgeleid wilt worden op volgorde")
    assert serious_findings(phone) == []
    screenshot(phone, "preferences-empty-phone")

    for name in ("Rijnstate", "UMC Utrecht", "Meander Medisch Centrum"):
        with phone.expect_navigation():
            button(section, "Op mijn lijst zetten", name).click()
    assert listed(phone) == ["Rijnstate", "UMC Utrecht", "Meander Medisch Centrum"]
    with phone.expect_navigation():
        button(section, "Omhoog", "UMC Utrecht").click()
    assert listed(phone) == ["UMC Utrecht", "Rijnstate", "Meander Medisch Centrum"]

    # By keyboard: focus the button and press Enter, as someone without a pointer would.
    button(section, "Omlaag", "Rijnstate").focus()
    with phone.expect_navigation():
        phone.keyboard.press("Enter")
    assert listed(phone) == ["UMC Utrecht", "Meander Medisch Centrum", "Rijnstate"]
    with phone.expect_navigation():
        button(section, "Van de lijst halen", "Rijnstate").click()
    assert listed(phone) == ["UMC Utrecht", "Meander Medisch Centrum"]
    expect(button(section, "Omhoog", "UMC Utrecht")).to_be_disabled()
    assert serious_findings(phone) == []
    screenshot(phone, "preferences-ordered-phone")

    phone.reload()
    assert listed(phone) == ["UMC Utrecht", "Meander Medisch Centrum"]
