"""The pages of the journey in English too: every page is translated (no Dutch left in its
headings) and axe-core finds no serious or critical WCAG 2.1 AA problem."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.a11y import serious_findings
from tests.e2e.conftest import Server, log_in

pytestmark = pytest.mark.e2e

PAGES = {
    None: ["/", "/procedures/ANE-UTR-2026-1", "/procedures/ANE-UTR-2026-1/draws",
           "/lottery/verify", "/placement/verify", "/audit/verify", "/register"],
    "applicant": ["/my", "/applications/ANE-UTR-2026-2-0001", "/procedures/ANE-UTR-2027-1/apply"],
    "committee chair (opleider)": [
        "/committee", "/committee/ANE-UTR-2026-2",
        "/committee/ANE-UTR-2026-2/applicants/ANE-UTR-2026-2-0002",
        "/committee/ANE-UTR-2026-1/applicants/ANE-UTR-2026-1-0001/deliberation",
        "/committee/ANE-UTR-2026-1/round",
    ],
    "observer": ["/observer", "/observer/procedures/ANE-UTR-2026-1",
                 "/procedures/ANE-UTR-2026-1/report"],
    "WV admin (NVA)": ["/manage", "/manage/procedures/ANE-UTR-2026-1",
                       "/manage/procedures/ANE-UTR-2026-2/scoring",
                       "/manage/procedures/ANE-UTR-2026-1/ranking",
                       "/manage/procedures/ANE-UTR-2026-2/letter-round"],
}  # fmt: skip


@pytest.mark.parametrize("role", list(PAGES), ids=lambda role: role or "visitor")
def test_every_page_in_english(server: Server, new_page, role: str | None) -> None:  # type: ignore[no-untyped-def]
    page: Page = new_page("desktop", "en")
    if role:
        account = server.account(role)
        log_in(page, server, account.email, account.password)
    page.goto(f"{server.url}/lang/en?next=/")
    for path in PAGES[role]:
        response = page.goto(f"{server.url}{path}")
        assert response is not None and response.status == 200, path
        expect(page.locator("html")).to_have_attribute("lang", "en")
        assert serious_findings(page) == [], path
