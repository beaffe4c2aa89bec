"""The deliberation answers to the sheets (a joint level outside the members' range says
why, a reason per criterion the applicant reads), the observer's remarks reach the
committee, and the demo data keeps to both."""

from __future__ import annotations

import html
import re
from typing import Any

from sqlmodel import Session, col, select

from app import demo
from app.applications.models import Application
from app.config import Settings
from app.db import Database
from app.oversight.models import Remark
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from app.scoring import deliberation as scoring_deliberation
from app.scoring import round as scoring_round
from app.scoring import sheets as scoring_sheets
from app.scoring.models import JointOutcome, MemberConflict
from tests.app.conftest import PASSWORD, Factory
from tests.app.scoring.conftest import Round, chain, submit


def text(response: Any) -> str:
    return html.unescape(response.text)


def joint_form(round_: Round, level: int = 4, **overrides: str) -> dict[str, str]:
    form = {f"level-{c}": str(level) for c in round_.criteria}
    form |= {
        f"reason-{c}": f"De commissie zag op {c} een helder voorbeeld." for c in round_.criteria
    }
    form |= {
        "suitable": "yes",
        "motivation": "Op elk criterium goed; zie de redenen per criterium.",
    }
    return form | overrides


def test_a_joint_level_outside_the_members_range_needs_a_reason_and_is_flagged(
    round_: Round, session: Session
) -> None:
    # Collaboration: the members scored 4, 5 and 5; the chair proposes 3.
    submit(round_, "chair", level=4)
    submit(round_, "staff", level=5)
    submit(round_, "aios", level=5)
    chair = round_.browsers["chair"]
    url = round_.page(what="deliberation")
    page = chair.get(url)
    assert "Members' levels: 4, 5, 5 (range 4–5)" in text(page)
    refused = chair.post(url, joint_form(round_, **{"level-collaboration": "3",
                                                    "reason-collaboration": ""}))  # fmt: skip
    assert refused.status_code == 422
    assert "Collaboration: the joint level 3 lies outside the members' levels (4 to 5)" in text(
        refused
    )
    session.rollback()
    assert session.execute(select(JointOutcome)).first() is None
    # The same form comes back with what was typed (nothing is lost).
    assert "Op elk criterium goed; zie de redenen per criterium." in text(refused)

    why = "In het gesprek bleek dat de kandidaat overleg met de OK-assistent vermeed."
    accepted = chair.post(
        url, joint_form(round_, **{"level-collaboration": "3", "reason-collaboration": why})
    )
    assert accepted.status_code == 303, text(accepted)
    session.rollback()
    outcome = session.execute(select(JointOutcome)).scalar_one()
    assert outcome.levels["collaboration"] == 3 and outcome.reasons["collaboration"] == why
    [entry] = chain(session, round_.procedure, "outcome.recorded")
    assert entry["outside_range"] == ["collaboration"] and "reasons_sha256" in entry
    flag = "Outside the members' range (4–5)"
    assert flag in text(chair.get(url))
    observer = round_.browsers["observer"]
    assert flag in text(observer.get(f"/observer/procedures/{round_.procedure.reference}"))
    report = text(observer.get(f"/procedures/{round_.procedure.reference}/report"))
    assert flag in report and why in report


def test_every_criterion_needs_the_committees_reason(round_: Round, session: Session) -> None:
    for role in ("chair", "staff", "aios"):
        submit(round_, role, level=4)
    chair = round_.browsers["chair"]
    url = round_.page(what="deliberation")
    missing = chair.post(url, joint_form(round_, **{"reason-learnability": "Goed."}))
    assert missing.status_code == 422
    assert "Write the committee's reason for Learnability (at least 20 characters)" in text(missing)
    too_long = chair.post(url, joint_form(round_, **{"reason-learnability": "x" * 4001}))
    assert too_long.status_code == 422 and "at most 4000 characters" in text(too_long)
    session.rollback()
    assert session.execute(select(JointOutcome)).first() is None
    # Inside the range, a reason per criterion is all it takes.
    assert chair.post(url, joint_form(round_)).status_code == 303


def test_the_applicant_reads_the_reason_beside_each_level(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = factory.procedure(phase=Phase.RESULTS, applicants=2)
    applicant = factory.last_applicants[0]
    application = session.execute(
        select(Application).where(Application.applicant_id == applicant.id)
    ).scalar_one()
    outcome = session.execute(
        select(JointOutcome).where(JointOutcome.application_id == application.id)
    ).scalar_one()
    browser = new_browser()
    browser.login(applicant.email, PASSWORD)
    page = text(browser.get(f"/applications/{application.reference}"))
    assert procedure.rubric_content is not None
    result = page[page.index('id="result"') :]
    for criterion in procedure.rubric_content["criteria"]:
        reason = outcome.reasons[criterion["id"]]
        row = result[result.index(criterion["name"]["en"]) :]
        assert reason in row[: row.index("</tr>")], criterion["id"]


def test_the_demo_outcomes_answer_to_the_sheets(database: Database, settings: Settings) -> None:
    demo.load(database, settings)
    with database.session() as session:
        checked = 0
        for procedure in session.execute(select(Procedure)).scalars():
            if procedure.rubric_content is None:
                continue
            round_ = scoring_round.load_round(session, procedure)
            for application in round_.applications:
                assert application.id is not None
                outcome = round_.outcomes.get(application.id)
                if outcome is None:
                    continue
                checked += 1
                assert set(outcome.reasons) == {c.id for c in round_.rubric.criteria}
                assert all(len(r) >= scoring_sheets.MIN_REASON for r in outcome.reasons.values())
                assert scoring_deliberation.departures(round_, application, outcome.levels) == {}, (
                    application.reference
                )
        assert checked > 10


# The observer's remarks -------------------------------------------------------------------


def test_remarks_are_numbered_per_procedure(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    first = factory.procedure(phase=Phase.INTERVIEWS, applicants=1)
    second = factory.procedure(phase=Phase.INTERVIEWS, applicants=1)
    for procedure in (first, second):
        observer = new_browser()
        observer.login(factory.committee(procedure)["observer"].email)
        url = f"/observer/procedures/{procedure.reference}/remarks"
        made = observer.post(url, {"text": "De ronde begon op tijd, alle leden aanwezig."})
        assert made.status_code == 303 and made.headers["location"].endswith("#remark-1")
    # The second procedure's first remark is its #1, and "#1" corrects it.
    corrected = observer.post(url, {"text": "Correctie: één lid kwam later.", "corrects": "#1"})
    assert corrected.status_code == 303, text(corrected)
    assert observer.post(url, {"text": "Nog een.", "corrects": "3"}).status_code == 422
    page = text(observer.get(f"/observer/procedures/{second.reference}"))
    assert "#2, corrects #1" in page and "#3" not in page
    session.rollback()
    numbers = session.execute(
        select(Remark.procedure_id, Remark.number).order_by(col(Remark.id))
    ).all()
    assert [tuple(row) for row in numbers] == [(first.id, 1), (second.id, 1), (second.id, 2)]
    [*_, entry] = chain(session, second, "remark.added")
    assert entry["remark"] == 2 and entry["corrects"] == 1


def test_the_committee_reads_the_observers_remarks_in_the_deliberation(round_: Round) -> None:
    for number in (0, 1):
        for role in ("chair", "staff", "aios"):
            submit(round_, role, number=number, level=4)
    observer = round_.browsers["observer"]
    url = f"/observer/procedures/{round_.procedure.reference}/remarks"
    this, other = (a.reference for a in round_.applications)
    remarks = {
        "about this one": {"application": this, "about": "deliberation",
                           "text": "De voorzitter liet de aios als laatste aan het woord."},
        "general": {"text": "Alle gesprekken duurden de geplande 45 minuten."},
        "about the other": {"application": other, "about": "sheets",
                            "text": "Twee leden lagen ver uiteen bij de tweede kandidaat."},
    }  # fmt: skip
    for form in remarks.values():
        assert observer.post(url, form).status_code == 303
    for role in ("chair", "staff"):
        page = text(round_.browsers[role].get(round_.page(what="deliberation")))
        assert remarks["about this one"]["text"] in page, role
        assert remarks["general"]["text"] in page, role
        assert remarks["about the other"]["text"] not in page, role


def test_the_migration_numbers_existing_remarks_per_procedure(
    factory: Factory, session: Session, database_url: str
) -> None:
    from alembic import command

    from app.migrate import alembic_config
    from app.oversight import service as oversight

    procedures = [factory.procedure(phase=Phase.INTERVIEWS) for _ in range(2)]
    for procedure in (procedures[0], procedures[1], procedures[0]):
        observer = oversight.observer_of(
            session, procedure, factory.committee(procedure)["observer"].id
        )
        oversight.add_remark(session, procedure=procedure, observer=observer, text="Een opmerking.")
    session.close()
    config = alembic_config(database_url)
    command.downgrade(config, "0004")
    command.upgrade(config, "head")
    rows = session.execute(
        select(Remark.procedure_id, Remark.number).order_by(col(Remark.id))
    ).all()
    first, second = (p.id for p in procedures)
    assert [tuple(row) for row in rows] == [(first, 1), (second, 1), (first, 2)]


# Declarations of ties by every committee member ------------------------------------------


def undeclared(response: Any) -> list[str]:
    """The names the life cycle gives as not having declared their ties."""
    marker = "have not yet declared whom of the applicants they know: "
    page = text(response)
    start = page.index(marker) + len(marker)
    end = re.compile(r"\.(\s|<)").search(page, start)
    assert end is not None
    return page[start : end.start()].split(", ")


def test_the_interviews_wait_until_every_member_has_declared_their_ties(
    factory: Factory, session: Session, settings: Settings, new_browser: Any
) -> None:
    procedure = factory.procedure(phase=Phase.LETTER_ROUND, applicants=2, extra_members=1)
    people = factory.committee(procedure)
    browsers = {}
    for role in ("chair", "staff", "aios", "nurse", "observer"):
        browsers[role] = new_browser()
        browsers[role].login(people[role].email)
    ties = f"/committee/{procedure.reference}/ties"
    # Before the letter-round result is out, nobody can be named yet.
    early = browsers["chair"].post(ties, {"has_ties": "no"})
    assert early.status_code == 409 and "letter-round result is published" in text(early)
    session.rollback()
    demo._letter_round(session, settings, procedure, "system")
    first, second = (f"{procedure.reference}-000{n}" for n in (1, 2))

    admin = new_browser()
    admin.login(factory.user(platform_admin=True).email)
    transition = f"/manage/procedures/{procedure.reference}/transition"
    blocked = admin.post(transition, {"action": "start_interviews"})
    assert blocked.status_code == 409
    members = ("chair", "staff", "aios", "nurse")
    assert set(undeclared(blocked)) == {people[role].name for role in members}

    home = text(browsers["staff"].get("/committee"))
    assert "Declare your ties" in home
    page = text(browsers["staff"].get(f"/committee/{procedure.reference}"))
    assert 'name="tie-' + first + '"' in page and "Save my declaration" in page
    # Bad input is refused with the reason, and nothing is recorded.
    for form, status, message in [
        ({}, 422, "Choose whether you know any of these applicants"),
        ({"has_ties": "no", f"tie-{first}": "colleague"}, 422, f"but named {first}"),
        ({"has_ties": "yes"}, 422, "Say for each applicant you know how you know them"),
        ({"has_ties": "yes", f"tie-{first}": "rival"}, 422, f"Choose how you know {first}"),
        ({"has_ties": "yes", "tie-ELSEWHERE-1": "friend"}, 422, "not an applicant you can"),
    ]:
        refused = browsers["staff"].post(ties, form)
        assert refused.status_code == status and message in text(refused), form
    session.rollback()
    assert session.execute(select(MemberConflict)).first() is None

    named = browsers["staff"].post(ties, {"has_ties": "yes", f"tie-{first}": "colleague"})
    assert named.status_code == 303
    for role in ("chair", "nurse"):
        assert browsers[role].post(ties, {"has_ties": "no"}).status_code == 303
    again = browsers["chair"].post(ties, {"has_ties": "yes", f"tie-{second}": "friend"})
    assert again.status_code == 409 and "already declared your ties" in text(again)
    still = admin.post(transition, {"action": "start_interviews"})
    assert still.status_code == 409 and undeclared(still) == [people["aios"].name]
    assert browsers["aios"].post(ties, {"has_ties": "no"}).status_code == 303
    assert admin.post(transition, {"action": "start_interviews"}).status_code == 303

    # The named applicant is a conflict: gone from the member's list and pages.
    session.rollback()
    [conflict] = session.execute(select(MemberConflict)).scalars().all()
    assert conflict.relation == "colleague"
    staff_page = text(browsers["staff"].get(f"/committee/{procedure.reference}"))
    assert f'id="{first}"' not in staff_page and f'id="{second}"' in staff_page
    assert "You declared that you know 1 of the invited applicants" in staff_page
    sheet = browsers["staff"].get(f"/committee/{procedure.reference}/applicants/{first}")
    assert sheet.status_code == 404
    entries = chain(session, procedure, "ties.declared")
    assert [e["applicants"] for e in entries if "applicants" in e] == [[first], [], [], []]
    # The report shows each declaration.
    report = text(browsers["observer"].get(f"/procedures/{procedure.reference}/report"))
    assert "no declaration yet" not in report
    assert f"knows {first} (Direct colleague)" in report
    assert report.count(": none</td>") == 4


def test_the_deliberation_and_remarks_refuse_numbers_that_are_not_numbers(
    round_: Round, session: Session
) -> None:
    for role in ("chair", "staff", "aios"):
        submit(round_, role, level=4)
    chair = round_.browsers["chair"]
    url = round_.page(what="deliberation")
    for bad in ("²", "١", "9" * 5000, str(2**63)):
        refused = chair.post(url, joint_form(round_, **{"level-collaboration": bad}))
        assert refused.status_code == 422, bad
        assert "Choose the committee's score for Collaboration" in text(refused)
        refused = chair.post(url, joint_form(round_, plus=bad))
        assert refused.status_code == 422 and "Choose only pluses" in text(refused)
    session.rollback()
    assert session.execute(select(JointOutcome)).first() is None
    observer = round_.browsers["observer"]
    remarks = f"/observer/procedures/{round_.procedure.reference}/remarks"
    for bad in ("²", "#١", "9" * 5000, str(2**63)):
        refused = observer.post(remarks, {"text": "Een correctie.", "corrects": bad[:20]})
        assert refused.status_code == 422, bad
