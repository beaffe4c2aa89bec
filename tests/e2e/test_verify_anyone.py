"""Verifiable by anyone (issue 17), in the browser: an applicant's receipt e-mail ends with a
signed checkpoint; an anonymous visitor downloads the procedure's public chain from its page
and checks it on the verify page against that checkpoint."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, select

from app.accounts.models import Mail
from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, screenshot

pytestmark = pytest.mark.e2e

PROCEDURE = "ANE-UTR-2027-1"
CHECKPOINT = re.compile(r"\{\s*\"version\": \"selection-audit-checkpoint/v1\".*?\}", re.S)


def receipt_checkpoint(server: Server, email: str) -> str:
    """The checkpoint at the end of the applicant's receipt, as they would copy it."""
    engine = create_engine(server.database_url)
    with engine.connect() as connection:
        bodies = connection.execute(
            select(Mail.body).where(Mail.recipient == email).order_by(Mail.id)  # type: ignore[arg-type]
        ).scalars()
        receipt = next(body for body in bodies if PROCEDURE in body and "/audit/verify" in body)
    engine.dispose()
    found = CHECKPOINT.search(receipt)
    assert found, receipt
    return found.group(0)


def test_an_anonymous_visitor_verifies_the_public_chain_against_a_receipt(
    server: Server, new_page, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    checkpoint = receipt_checkpoint(server, "sollicitant2@example.org")

    visitor: Page = new_page("desktop")
    visitor.goto(f"{server.url}/procedures/{PROCEDURE}")
    with visitor.expect_download() as downloading:
        visitor.get_by_role("link", name="de openbare keten").click()
    chain = tmp_path / "chain.jsonl"
    downloading.value.save_as(chain)
    assert chain.read_text().count("\n") >= 3

    visitor.goto(f"{server.url}/audit/verify")
    visitor.set_input_files("#f-file", str(chain))
    visitor.fill("#f-checkpoint", checkpoint)
    with visitor.expect_navigation():
        visitor.get_by_role("button", name="Controleren").click()
    expect(visitor.get_by_role("status").first).to_contain_text("bevat nog steeds de keten van")
    assert serious_findings(visitor) == []
    screenshot(visitor, "verify-against-receipt-desktop")

    # A chain that lost an entry since fails against the same checkpoint, and says where.
    lines = chain.read_text().splitlines(keepends=True)
    shortened = tmp_path / "shortened.jsonl"
    shortened.write_text("".join(lines[:1] + lines[2:]))
    visitor.set_input_files("#f-file", str(shortened))
    visitor.fill("#f-checkpoint", checkpoint)
    with visitor.expect_navigation():
        visitor.get_by_role("button", name="Controleren").click()
    expect(visitor.get_by_role("alert").first).to_be_visible()
