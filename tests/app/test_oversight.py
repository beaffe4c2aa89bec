"""The observer: a read-only round, append-only remarks, the report (HTML, CSV, XLSX), the
sign-off that closes the round, and verifying an exported chain in the browser."""

from __future__ import annotations

import html
import io
import json
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import func
from sqlmodel import Session, select

from app.audit.models import AuditEntry
from app.oversight.models import Remark
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from app.scoring import deliberation as scoring_deliberation
from app.scoring import round as scoring_round
from tests.app.conftest import Browser, Factory


def says(response: Any, message: str) -> bool:
    return message in html.unescape(response.text)


@pytest.fixture
def world(
    factory: Factory, session: Session, new_browser: Any
) -> tuple[Procedure, dict[str, Browser]]:
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=2)
    people = factory.committee(procedure)
    people["admin"] = factory.user(platform_admin=True)
    session.rollback()
    browsers = {}
    for role in ("observer", "chair", "admin"):
        browsers[role] = new_browser()
        browsers[role].login(people[role].email)
    return procedure, browsers


def record_outcome(session: Session, procedure: Procedure, number: int) -> None:
    session.rollback()
    round_ = scoring_round.load_round(session, procedure)
    chair = next(m for m in round_.members.values() if m.role == "chair")
    scoring_deliberation.record_outcome(
        session, round_=round_, application=round_.applications[number], member=chair,
        levels={c.id: "4" for c in round_.rubric.criteria}, suitable="yes",
        motivation="Op alle criteria goed, met concrete voorbeelden.",
        reasons={c.id: "Zo besproken en afgesproken." for c in round_.rubric.criteria},
    )  # fmt: skip
    session.rollback()


def entries(session: Session, procedure: Procedure, action: str | None = None) -> int:
    session.rollback()
    query = (
        select(func.count()).select_from(AuditEntry).where(AuditEntry.chain == procedure.reference)
    )
    if action:
        query = query.where(AuditEntry.action == action)
    return int(session.execute(query).scalar_one())


def test_remarks_are_append_only(
    world: tuple[Procedure, dict[str, Browser]], session: Session
) -> None:
    procedure, browsers = world
    url = f"/observer/procedures/{procedure.reference}/remarks"
    observer = browsers["observer"]
    assert observer.post(url, {"text": ""}).status_code == 422
    first = observer.post(url, {"text": "De commissie begon tien minuten te laat."})
    assert first.status_code == 303
    reference = f"{procedure.reference}-0001"
    about = observer.post(url, {"text": "Twee leden lagen ver uiteen op samenwerking.",
                                "application": reference, "about": "sheets"})  # fmt: skip
    assert about.status_code == 303
    session.rollback()
    remark = session.execute(select(Remark).order_by(Remark.id)).scalars().first()
    assert remark is not None
    wrong = observer.post(url, {"text": "Correctie.", "corrects": "99999"})
    assert wrong.status_code == 422 and says(wrong, "does not exist")
    correction = observer.post(
        url, {"text": "Correctie: vijf minuten te laat, niet tien.", "corrects": str(remark.number)}
    )
    assert correction.status_code == 303
    page = observer.get(f"/observer/procedures/{procedure.reference}")
    assert says(page, "tien minuten te laat") and says(page, f"corrects #{remark.number}")
    assert says(page, "ver uiteen op samenwerking")
    assert entries(session, procedure, "remark.added") == 3
    # Admins read the round but do not remark.
    assert browsers["admin"].get(f"/observer/procedures/{procedure.reference}").status_code == 200
    assert browsers["admin"].post(url, {"text": "Van de beheerder."}).status_code == 403


def test_the_observer_changes_nothing_else(
    world: tuple[Procedure, dict[str, Browser]], session: Session
) -> None:
    procedure, browsers = world
    before = entries(session, procedure)
    reference = f"{procedure.reference}-0001"
    observer = browsers["observer"]
    for url, data in [
        (f"/manage/procedures/{procedure.reference}/transition",
         {"action": "publish_results", "confirmed": "1"}),
        (f"/manage/procedures/{procedure.reference}/letter-round/{reference}", {}),
        (f"/committee/{procedure.reference}/applicants/{reference}/deliberation",
         {"suitable": "yes", "motivation": "x" * 30}),
        (f"/manage/procedures/{procedure.reference}/draws", {"places": "1"}),
        (f"/manage/procedures/{procedure.reference}/basics", {"title": "Anders"}),
    ]:  # fmt: skip
        response = observer.post(url, data)
        assert response.status_code == 403, (url, response.status_code)
    assert entries(session, procedure) == before


def test_sign_off_waits_for_every_outcome_then_closes_the_round(
    world: tuple[Procedure, dict[str, Browser]], session: Session
) -> None:
    procedure, browsers = world
    observer = browsers["observer"]
    url = f"/procedures/{procedure.reference}/sign-off"
    record_outcome(session, procedure, 0)
    early = observer.post(url)
    assert early.status_code == 409 and says(early, "Not every outcome is recorded yet")
    assert says(early, f"{procedure.reference}-0002")
    record_outcome(session, procedure, 1)
    assert browsers["chair"].post(url, {"confirmed": "1"}).status_code == 403
    assert browsers["chair"].get(url).status_code == 403
    # It closes the round for good: the plain POST only leads to the confirmation step.
    first = observer.post(url)
    assert first.status_code == 303 and first.headers["location"] == url
    assert entries(session, procedure, "round.signed_off") == 0
    confirmation = observer.get(url)
    assert confirmation.status_code == 200 and says(confirmation, "This cannot be undone")
    assert says(confirmation, "Nobody is e-mailed") and 'name="confirmed" value="1"' in (
        confirmation.text
    )
    signed = observer.post(url, {"confirmed": "1"})
    assert signed.status_code == 303
    assert entries(session, procedure, "round.signed_off") == 1
    # The report says it, once.
    report = observer.get(signed.headers["location"].split("#")[0])
    assert says(report, "You signed the round off; it is closed.")
    assert not says(observer.get(f"/procedures/{procedure.reference}/report"), "You signed the")
    assert observer.post(url, {"confirmed": "1"}).status_code == 409
    assert observer.get(url).status_code == 409
    # Closed: the joint outcome can no longer change.
    revise = browsers["chair"].post(
        f"/committee/{procedure.reference}/applicants/{procedure.reference}-0001/deliberation",
        {**{f"level-{c}": "3" for c in ("motivation",)}, "suitable": "yes",
         "motivation": "Een herziening na de afsluiting van de ronde."},
    )  # fmt: skip
    assert revise.status_code in (403, 409)
    report = observer.get(f"/procedures/{procedure.reference}/report")
    assert report.status_code == 200 and says(report, "Signed off by the observer")


def test_the_scores_as_csv_and_xlsx(
    world: tuple[Procedure, dict[str, Browser]], session: Session
) -> None:
    procedure, browsers = world
    record_outcome(session, procedure, 0)
    text = browsers["admin"].get(f"/procedures/{procedure.reference}/report.csv").text
    lines = text.strip().splitlines()
    # Column names, criteria and answers as a reader names them, not the internal keys.
    assert lines[0] == "Application,Scorer,Criterion,Level,Suitable"
    assert f"{procedure.reference}-0001,Committee (joint outcome),Motivation,4,Yes" in lines
    assert not any(",motivation," in line or "self_reflection" in line for line in lines)
    sheets_rows = [line for line in lines[1:] if ",Committee (joint outcome)," not in line]
    assert len(sheets_rows) == 2 * 3 * 6  # two applicants, three scorers, six criteria
    # A member's sheet says whether its levels are suitable under the rubric's rule.
    assert {line.rsplit(",", 1)[1] for line in sheets_rows} <= {"Yes", "No"}
    workbook = load_workbook(
        io.BytesIO(browsers["admin"].get(f"/procedures/{procedure.reference}/report.xlsx").content)
    )
    rows = list(workbook["Scores"].iter_rows(values_only=True))
    assert rows[0] == ("Application", "Scorer", "Criterion", "Level", "Suitable")
    assert len(rows) == len(lines)
    assert all(row[4] in ("Yes", "No") for row in rows[1:])
    # In Dutch for a Dutch reader.
    browsers["admin"].get("/lang/nl")
    dutch = browsers["admin"].get(f"/procedures/{procedure.reference}/report.csv").text
    assert dutch.splitlines()[0] == "Sollicitatie,Beoordelaar,Criterium,Niveau,Geschikt"
    assert f"{procedure.reference}-0001,Commissie (gezamenlijke uitkomst),Motivatie,4,Ja" in dutch


def test_verify_an_exported_chain_in_the_browser(
    world: tuple[Procedure, dict[str, Browser]], new_browser: Any
) -> None:
    procedure, browsers = world
    export = browsers["observer"].get(f"/procedures/{procedure.reference}/audit.jsonl").text
    anyone = new_browser()
    ok = anyone.post("/audit/verify", files={"file": ("chain.jsonl", export.encode())})
    assert ok.status_code == 200 and says(ok, "The chain is intact")
    lines = export.splitlines()
    entry = json.loads(lines[2])
    entry["actor"] = "user:999"
    tampered = "\n".join([*lines[:2], json.dumps(entry), *lines[3:]]) + "\n"
    bad = anyone.post("/audit/verify", files={"file": ("chain.jsonl", tampered.encode())})
    assert bad.status_code == 200 and says(bad, "does not verify") and says(bad, "line 3")
    garbage = anyone.post("/audit/verify", files={"file": ("x.jsonl", b"\x00\xffnot json")})
    assert garbage.status_code == 200 and says(garbage, "does not verify")
    missing = anyone.post("/audit/verify", {})
    assert missing.status_code == 422
