"""A document whose name is not ASCII uploads, shows and downloads under its own name in
Chromium (the download used to fail for everyone: the header could not carry the name)."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.data import pdf as crafted
from tests.e2e.conftest import Server, log_in, screenshot

pytestmark = pytest.mark.e2e

NAME = "Şule Yılmaz 履歴書.pdf"


def test_a_document_with_a_non_ascii_name_downloads_under_that_name(
    server: Server, new_page, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    # A new applicant of our own, so that no other browser test's applications are in the way.
    email, password = f"sule.{secrets.token_hex(4)}@example.org", "een lang wachtwoord"
    page: Page = new_page("phone")
    page.goto(f"{server.url}/register")
    page.fill("#f-name", "Şule Yılmaz")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.fill("#f-password_confirm", password)
    with page.expect_navigation():
        page.click("button[type=submit].button-primary")
    admin: Page = new_page("desktop")
    account = server.account("platform admin")
    log_in(admin, server, account.email, account.password)
    admin.goto(f"{server.url}/admin/outbox")
    admin.locator("tr", has_text=email).get_by_role("link").first.click()
    link = admin.locator("pre.mail-body a[href*='/verify/']").first.get_attribute("href")
    assert link is not None
    log_in(page, server, email, password)
    page.goto(link)
    with page.expect_navigation():
        page.click("button[type=submit].button-primary")
    page.goto(f"{server.url}/procedures/ANE-UTR-2027-1/apply")
    expect(page.locator("h1")).to_have_text("Je sollicitatie")
    (valid,) = crafted.ACCEPTED
    upload = tmp_path / NAME
    upload.write_bytes(valid.read_bytes())
    page.set_input_files("#f-cv", upload)
    with page.expect_navigation():
        page.locator("button[name='action'][value='save']").click()
    link = page.locator("#documents a", has_text=NAME)
    expect(link).to_be_visible()
    screenshot(page, "document-non-ascii-name-phone")
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == NAME
    assert Path(download.value.path()).read_bytes() == valid.read_bytes()
