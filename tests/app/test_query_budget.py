"""Query budgets: every page and fragment of the permission matrix costs the same number of
SQL statements however many applicants its procedure has (issue 19: build the round once per
request, no query per applicant).

Two procedures alike but for their number of applicants are asked every GET row of the
matrix, as every role that may see it, in each phase where the page has something to show.
A page whose count grows with the applicants fails, with the counts of both sizes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import event, select
from sqlmodel import Session

from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_permissions import MATRIX

# Both sizes hold a tie at the last of the two places, so both have a draw from the results on:
# the pages then differ in nothing but the number of applicants.
SMALL, LARGE = 4, 7
PHASES = (Phase.OPEN, Phase.LETTER_ROUND, Phase.INTERVIEWS, Phase.DELIBERATION, Phase.RESULTS)
ROLES = ("anonymous", "candidate", "member", "chair", "observer", "own_admin", "platform_admin")


@dataclass
class World:
    reference: str
    slug: str
    application: str
    member_id: int
    browsers: dict[str, Browser]


def build(factory: Factory, session: Session, new_browser: Any, phase: Phase, n: int) -> World:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=phase, applicants=n)
    candidate = factory.last_applicants[0]
    committee = factory.committee(procedure)
    users = {
        "candidate": candidate,
        "member": committee["staff"],
        "chair": committee["chair"],
        "observer": committee["observer"],
        "own_admin": factory.org_admin(organisation),
        "platform_admin": factory.user(platform_admin=True),
    }
    member_id = session.execute(
        select(ProcedureMember.id).where(
            ProcedureMember.procedure_id == procedure.id,
            ProcedureMember.user_id == users["member"].id,
        )
    ).scalar_one()
    session.commit()
    browsers = {"anonymous": new_browser()}
    for role, user in users.items():
        browsers[role] = new_browser()
        browsers[role].login(user.email)
    assert member_id is not None
    return World(
        procedure.reference,
        organisation.slug,
        f"{procedure.reference}-0001",
        member_id,
        browsers,
    )


@contextmanager
def counting(app: FastAPI) -> Iterator[list[str]]:
    """The SQL statements run on the app's engines (read and write) inside the block."""
    statements: list[str] = []
    database = app.state.database
    engines = {id(e): e for e in (database.engine, database.write_engine)}.values()

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    for engine in engines:
        event.listen(engine, "before_cursor_execute", count)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", count)


def urls(world: World) -> Iterator[tuple[str, str]]:
    values = {
        "reference": world.reference,
        "slug": world.slug,
        "application_reference": world.application,
        "member_id": str(world.member_id),
        "language": "en",
        "number": "1",
        "mail_id": "1",
        "token": "not-a-real-token",
        "requirement_id": "999999",
        "plus_id": "999999",
        "document_id": "999999",
    }
    for method, path in sorted(MATRIX):
        if method != "GET" or path in ("/logout", "/lang/{language}"):
            continue
        yield path, path.format(**values)


def cost(app: FastAPI, browser: Browser, url: str) -> tuple[int, list[str]]:
    """(status, statements) of the second request: the first may fill a cache."""
    browser.get(url)
    with counting(app) as statements:
        status = browser.get(url).status_code
    return status, statements


PARAMETERS = re.compile(r"\((?:\?|%\(\w+\)s|\$\d+)(?:, *(?:\?|%\(\w+\)s|\$\d+))*\)")


def repeated(small: list[str], large: list[str]) -> str:
    """The statements run more often with more applicants: where the loop is (an IN list's
    parameters are left out, so the same statement for more applicants counts as the same)."""

    def shape(statements: list[str]) -> Counter[str]:
        return Counter(PARAMETERS.sub("(…)", " ".join(s.split())) for s in statements)

    more = shape(large) - shape(small)
    return "; ".join(f"{n}x more: {' '.join(sql.split())[:160]}" for sql, n in more.most_common(3))


@pytest.mark.parametrize("phase", PHASES, ids=lambda phase: phase.value)
def test_no_page_costs_more_with_more_applicants(
    phase: Phase, app: FastAPI, factory: Factory, session: Session, new_browser: Any
) -> None:
    small = build(factory, session, new_browser, phase, SMALL)
    large = build(factory, session, new_browser, phase, LARGE)
    for world in (small, large):
        stored = session.execute(
            select(Procedure.phase).where(Procedure.reference == world.reference)
        ).scalar_one()
        assert stored == phase.value
    grown, measured = [], 0
    for (path, small_url), (_path, large_url) in zip(urls(small), urls(large), strict=True):
        for role in ROLES:
            small_status, small_sql = cost(app, small.browsers[role], small_url)
            if small_status != 200:
                continue
            large_status, large_sql = cost(app, large.browsers[role], large_url)
            assert large_status == 200, f"{path} as {role}: {large_status} with {LARGE}"
            measured += 1
            if len(large_sql) > len(small_sql):
                grown.append(
                    f"{path} as {role}: {len(small_sql)} statements with {SMALL} applicants, "
                    f"{len(large_sql)} with {LARGE} ({repeated(small_sql, large_sql)})"
                )
    assert measured > 0
    assert not grown, "\n".join(grown)


# The pages about the whole round (issue 21), paged: with two applicants a page, the small
# procedure has two pages and the large one four; searched, filtered, on a later page or on
# one past the end, each costs the same number of statements at both sizes.
ROUND_PAGES = (
    ("chair", "/committee/{reference}"),
    ("chair", "/committee/{reference}/round"),
    ("own_admin", "/manage/procedures/{reference}/scoring"),
    ("own_admin", "/manage/procedures/{reference}/ranking"),
    ("observer", "/observer/procedures/{reference}"),
    ("observer", "/procedures/{reference}/report"),
    ("observer", "/procedures/{reference}/report.csv"),
    ("observer", "/procedures/{reference}/report.xlsx"),
    ("own_admin", "/manage/procedures/{reference}/publish-results"),
)
QUERIES = (
    "",
    "?page=2",
    "?page=99",
    "?q=0001",
    "?q=nobody",
    "?status=submitted",
    "?status=outcome",
)


@pytest.mark.parametrize("phase", (Phase.INTERVIEWS, Phase.DELIBERATION), ids=str)
def test_the_round_pages_cost_the_same_on_every_page(
    phase: Phase,
    app: FastAPI,
    factory: Factory,
    session: Session,
    new_browser: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("app.scoring.listing.PAGE_SIZE", 2)
    small = build(factory, session, new_browser, phase, SMALL)
    large = build(factory, session, new_browser, phase, LARGE)
    grown, measured = [], 0
    for role, path in ROUND_PAGES:
        for query in QUERIES:
            small_status, small_sql = cost(
                app, small.browsers[role], path.format(reference=small.reference) + query
            )
            if small_status != 200:
                continue
            large_status, large_sql = cost(
                app, large.browsers[role], path.format(reference=large.reference) + query
            )
            assert large_status == 200, f"{path}{query} as {role}: {large_status}"
            measured += 1
            if len(large_sql) > len(small_sql):
                grown.append(
                    f"{path}{query} as {role}: {len(small_sql)} statements with {SMALL} "
                    f"applicants, {len(large_sql)} with {LARGE} ({repeated(small_sql, large_sql)})"
                )
    assert measured >= 6 * len(QUERIES)
    assert not grown, "\n".join(grown)
