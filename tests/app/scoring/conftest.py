"""A procedure in its interviews with a chair, two members, an observer and two invited
applicants, logged in in their own browsers; and the small steps the scoring tests share."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

import pytest
from sqlmodel import Session, select

from app.applications.models import Application
from app.audit.models import AuditEntry
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring.models import ScoreSheet
from tests.app.conftest import Browser, Factory


@dataclass
class Round:
    procedure: Procedure
    applications: list[Application]
    browsers: dict[str, Browser]
    members: dict[str, int]  # role -> procedure_member id
    criteria: list[str]

    def sheet_url(self, role: str, number: int = 0, action: str = "") -> str:
        application = self.applications[number].reference
        base = f"/committee/{self.procedure.reference}/applicants/{application}"
        return f"{base}/sheets/{self.members[role]}" + (f"/{action}" if action else "")

    def page(self, number: int = 0, what: str = "") -> str:
        application = self.applications[number].reference
        base = f"/committee/{self.procedure.reference}/applicants/{application}"
        return f"{base}/{what}" if what else base


@pytest.fixture
def round_(factory: Factory, session: Session, new_browser: Any) -> Round:
    procedure = factory.procedure(phase=Phase.INTERVIEWS, applicants=2)
    people = factory.committee(procedure)
    people["admin"] = factory.user(platform_admin=True)
    session.rollback()
    browsers = {}
    for role in ("chair", "staff", "aios", "observer", "admin"):
        browsers[role] = new_browser()
        browsers[role].login(people[role].email)
    members = {
        role: session.execute(
            select(ProcedureMember.id).where(
                ProcedureMember.procedure_id == procedure.id,
                ProcedureMember.user_id == people[role].id,
            )
        ).scalar_one()
        for role in ("chair", "staff", "aios")
    }
    applications = list(
        session.execute(
            select(Application)
            .where(Application.procedure_id == procedure.id)
            .order_by(Application.reference)
        ).scalars()
    )
    assert procedure.rubric_content is not None
    criteria = [c["id"] for c in procedure.rubric_content["criteria"]]
    return Round(procedure, applications, browsers, members, criteria)


def full_sheet(criteria: list[str], level: int = 4, marker: str = "") -> dict[str, str]:
    form = {f"level-{c}": str(level) for c in criteria}
    form |= {
        f"reason-{c}": f"Concreet STARR-voorbeeld over {c}, eigen actie helder. {marker}"
        for c in criteria
    }
    return form


def autosave(browser: Browser, url: str, data: dict[str, str]) -> Any:
    return browser.post(url, data, headers={"HX-Request": "true", "X-Fragment": "status"})


def submit(round_: Round, role: str, number: int = 0, level: int = 4, marker: str = "") -> None:
    browser = round_.browsers[role]
    saved = autosave(
        browser,
        round_.sheet_url(role, number),
        {"version": "0", **full_sheet(round_.criteria, level, marker)},
    )
    assert saved.status_code == 200, saved.text
    version = json_version(saved.text)
    response = browser.post(
        round_.sheet_url(role, number, "submit"), {"version": version, "confirm": "yes"}
    )
    assert response.status_code == 303, response.text


def json_version(html: str) -> str:
    marker = 'id="sheet-version" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def stored(session: Session, round_: Round, role: str, number: int = 0) -> ScoreSheet | None:
    session.rollback()
    session.expire_all()
    return session.execute(
        select(ScoreSheet).where(
            ScoreSheet.application_id == round_.applications[number].id,
            ScoreSheet.member_id == round_.members[role],
        )
    ).scalar_one_or_none()


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


def chain(session: Session, procedure: Procedure, action: str) -> list[dict[str, Any]]:
    session.rollback()
    rows = session.execute(
        select(AuditEntry)
        .where(AuditEntry.chain == procedure.reference, AuditEntry.action == action)
        .order_by(AuditEntry.seq)
    ).scalars()
    return [json.loads(row.data) | {"subject": row.subject} for row in rows]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
