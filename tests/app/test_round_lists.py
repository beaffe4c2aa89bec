"""The lists of a large round (issue 21) come a page at a time, found by name or reference
and filtered by status; the exports still hold every applicant. The page size is set to 2
here, so that five applicants make three pages."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest
from sqlmodel import Session

from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory

APPLICANTS = 5


@pytest.fixture
def world(
    factory: Factory, session: Session, new_browser: Any, monkeypatch: pytest.MonkeyPatch
) -> tuple[str, dict[str, Browser]]:
    monkeypatch.setattr("app.scoring.listing.PAGE_SIZE", 2)
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.DELIBERATION, applicants=APPLICANTS)
    committee = factory.committee(procedure)
    users = {
        "chair": committee["chair"],
        "observer": committee["observer"],
        "admin": factory.org_admin(organisation),
    }
    session.commit()
    browsers = {}
    for role, user in users.items():
        browsers[role] = new_browser()
        browsers[role].login(user.email)
    return procedure.reference, browsers


def references(html: str, reference: str) -> list[str]:
    """The applicants' references in the list's rows, in order."""
    return re.findall(
        rf'<(?:li|article) class="[^"]*" id="(?:a-)?({re.escape(reference)}-\d+)"', html
    )


def every(reference: str) -> list[str]:
    return [f"{reference}-{n:04d}" for n in range(1, APPLICANTS + 1)]


@pytest.mark.parametrize(
    ("role", "path"),
    [
        ("chair", "/committee/{reference}"),
        ("admin", "/manage/procedures/{reference}/scoring"),
        ("observer", "/observer/procedures/{reference}"),
        ("observer", "/procedures/{reference}/report"),
    ],
)
def test_the_pages_together_hold_everyone_once(
    world: tuple[str, dict[str, Browser]], role: str, path: str
) -> None:
    reference, browsers = world
    url = path.format(reference=reference)
    seen = []
    for page in (1, 2, 3):
        response = browsers[role].get(f"{url}?page={page}")
        assert response.status_code == 200
        found = references(response.text, reference)
        assert len(found) == (2 if page < 3 else 1)
        seen += found
        assert f"Page {page} of 3" in response.text
        assert 'role="search"' in response.text
    assert seen == every(reference)
    # Past the end: the last page.
    assert references(browsers[role].get(f"{url}?page=9").text, reference) == seen[-1:]
    # Found by reference, and by the applicant's name (case aside).
    third = every(reference)[2]
    assert references(browsers[role].get(f"{url}?q={third}").text, reference) == [third]
    named = browsers[role].get(f"{url}?q=kandidaat").text
    assert "1–2 of 5" in named


def test_the_committee_list_filters_by_the_members_progress(
    world: tuple[str, dict[str, Browser]],
) -> None:
    reference, browsers = world
    url = f"/committee/{reference}"
    submitted = browsers["chair"].get(f"{url}?status=submitted").text
    assert "Submitted (5)" in submitted and "1–2 of 5" in submitted
    nothing = browsers["chair"].get(f"{url}?status=draft").text
    assert references(nothing, reference) == [] and "No applicant matches." in nothing


def test_the_admin_overview_filters_by_where_the_scoring_stands(
    world: tuple[str, dict[str, Browser]],
) -> None:
    reference, browsers = world
    url = f"/manage/procedures/{reference}/scoring"
    all_in = browsers["admin"].get(f"{url}?status=all_in").text
    assert "All sheets in (5)" in all_in
    assert len(references(all_in, reference)) == 2
    assert references(browsers["admin"].get(f"{url}?status=outcome").text, reference) == []
    # After a form on a later page, the overview opens on that applicant's page.
    last = every(reference)[-1]
    assert references(browsers["admin"].get(f"{url}?at={last}").text, reference) == [last]


def test_the_exports_hold_every_applicant(world: tuple[str, dict[str, Browser]]) -> None:
    reference, browsers = world
    rows = list(csv.reader(io.StringIO(browsers["observer"].get(
        f"/procedures/{reference}/report.csv").text)))  # fmt: skip
    assert {row[0] for row in rows[1:]} == set(every(reference))


def test_a_remark_about_an_applicant_on_another_page(
    world: tuple[str, dict[str, Browser]],
) -> None:
    reference, browsers = world
    url = f"/observer/procedures/{reference}"
    page = browsers["observer"].get(url).text
    # Too many applicants for a list: their reference, typed (suggested from the page).
    assert '<input id="f-application" name="application"' in page
    last = every(reference)[-1]
    response = browsers["observer"].post(
        f"{url}/remarks", {"application": last, "about": "sheets", "text": "Navraag gedaan."}
    )
    assert response.status_code == 303
    shown = browsers["observer"].get(f"{url}?q={last}").text
    assert "Navraag gedaan." in shown
