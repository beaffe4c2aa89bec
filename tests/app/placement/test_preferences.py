"""A cluster's institutions and the suitable candidates' preferences (issue 15): the editor
publishes the places per institution, the guideline check adds them up, a suitable candidate
orders the institutions on their application page before the deadline, and the lists are
chained at the deadline. Nobody but the candidate ever sees a list."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlmodel import Session, select

from app.applications.models import Application
from app.db import utcnow
from app.placement import preferences
from app.placement.models import PreferenceList
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from app.scoring.models import JointOutcome
from app.worker import follow_the_clock_once
from tests.app.conftest import Browser, Factory
from tests.app.scoring.conftest import chain

CLUSTER = (
    ("UMCU", "UMC Utrecht", "Utrecht", 2),
    ("MMA", "Meander Medisch Centrum", "Amersfoort", 1),
    ("RST", "Rijnstate", "Arnhem", 1),
)


def cluster(factory: Factory, session: Session, *, applicants: int = 5) -> Procedure:
    """A cluster procedure whose results are published, its preference window still open."""
    procedure = factory.procedure(phase=Phase.RESULTS, applicants=applicants, institutions=CLUSTER)
    procedure.preference_deadline = utcnow() + timedelta(days=7)
    session.commit()
    return procedure


def suitable_candidate(session: Session, procedure: Procedure) -> tuple[Application, bool]:
    rows = session.execute(
        select(Application, JointOutcome)
        .join(JointOutcome, JointOutcome.application_id == Application.id)
        .where(Application.procedure_id == procedure.id)
        .order_by(Application.reference)
    ).all()
    first = next(a for a, o in rows if o.suitable)
    return first, any(not o.suitable for _a, o in rows)


def logged_in(new_browser: Any, session: Session, application: Application) -> Browser:
    from app.accounts.models import User

    user = session.get(User, application.applicant_id)
    assert user is not None
    browser: Browser = new_browser()
    browser.login(user.email)
    return browser


def press(browser: Browser, application: Application, shown: list[str], action: str) -> Any:
    return browser.post(
        f"/applications/{application.reference}/preferences",
        {"code": shown, "action": action},
    )


def stored(session: Session, application: Application) -> list[str]:
    session.rollback()
    kept = session.execute(
        select(PreferenceList).where(PreferenceList.application_id == application.id)
    ).scalar_one_or_none()
    return list(kept.codes) if kept else []


def test_the_public_page_and_the_check_show_the_places_per_institution(
    factory: Factory, session: Session, browser: Browser
) -> None:
    procedure = cluster(factory, session, applicants=0)
    page = browser.get(f"/procedures/{procedure.reference}").text
    assert "Rijnstate" in page and "Meander Medisch Centrum" in page
    from app.conduct.facts import guideline_check

    assert not [f for f in guideline_check(session, procedure) if f.check == "capacities"]
    procedure.places = 5
    session.commit()
    [finding] = [f for f in guideline_check(session, procedure) if f.check == "capacities"]
    assert "4" in finding.details[0] and "5" in finding.details[0]


@pytest.mark.parametrize(
    ("code", "capacity", "message"),
    [
        ("UMC U", "1", "capital letters"),
        ("ＵＭＣ", "1", "capital letters"),  # full-width letters look like ASCII
        ("A" * 21, "1", "capital letters"),
        ("NEW", "0", "whole number"),
        ("NEW", "²", "whole number"),
        ("NEW", "9" * 30, "whole number"),
        ("umcu", "1", "already"),  # written in capitals, it is the existing UMCU
    ],
)
def test_the_editor_refuses_a_bad_institution_with_a_specific_message(
    factory: Factory, session: Session, new_browser: Any, code: str, capacity: str, message: str
) -> None:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.DRAFT, institutions=CLUSTER[:1])
    admin: Browser = new_browser()
    admin.login(factory.org_admin(organisation).email)
    answer = admin.post(
        f"/manage/procedures/{procedure.reference}/institutions",
        {"institution_code": code, "institution_name": "X", "institution_capacity": capacity},
    )
    assert answer.status_code in (409, 422)
    assert message in answer.text
    session.rollback()
    from app.procedures.queries import institutions

    assert [i.code for i in institutions(session, procedure)] == ["UMCU"]


def test_the_editor_adds_and_removes_institutions_and_sets_the_timeline(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.DRAFT)
    admin: Browser = new_browser()
    admin.login(factory.org_admin(organisation).email)
    url = f"/manage/procedures/{procedure.reference}"
    for code, name, city, capacity in CLUSTER:
        answer = admin.post(f"{url}/institutions", {
            "institution_code": code.lower(), "institution_name": name,
            "institution_city": city, "institution_capacity": str(capacity),
        })  # fmt: skip
        assert answer.status_code == 303, answer.text
    page = admin.get(url).text
    assert "UMC Utrecht" in page and "Together 4 places" in page
    answer = admin.post(f"{url}/placement", {
        "preference_deadline": "2027-06-01T12:00", "answer_hours": "72", "last_round": "2",
    })  # fmt: skip
    assert answer.status_code == 303
    session.rollback()
    session.refresh(procedure)
    assert (procedure.answer_hours, procedure.last_round) == (72, 2)
    assert procedure.preference_deadline is not None
    assert (
        admin.post(f"{url}/placement", {"answer_hours": "0", "last_round": "2"}).status_code == 422
    )
    from app.procedures.queries import institutions

    rst = next(i for i in institutions(session, procedure) if i.code == "RST")
    assert admin.post(f"{url}/institutions/{rst.id}/delete", {}).status_code == 303
    session.rollback()
    assert [i.code for i in institutions(session, procedure)] == ["UMCU", "MMA"]
    assert [e["code"] for e in chain(session, procedure, "institution.added")] == [
        "UMCU",
        "MMA",
        "RST",
    ]


def test_a_suitable_candidate_orders_the_institutions_and_each_change_is_kept(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = cluster(factory, session)
    application, _others = suitable_candidate(session, procedure)
    browser = logged_in(new_browser, session, application)
    page = browser.get(f"/applications/{application.reference}").text
    assert "Your preferred training places" in page and "Add to my list" in page

    assert press(browser, application, [], "add:RST").status_code == 303
    assert press(browser, application, ["RST"], "add:UMCU").status_code == 303
    assert press(browser, application, ["RST", "UMCU"], "up:UMCU").status_code == 303
    assert stored(session, application) == ["UMCU", "RST"]
    assert press(browser, application, ["UMCU", "RST"], "add:MMA").status_code == 303
    assert press(browser, application, ["UMCU", "RST", "MMA"], "remove:RST").status_code == 303
    assert stored(session, application) == ["UMCU", "MMA"]
    page = browser.get(f"/applications/{application.reference}").text
    assert page.index("UMC Utrecht") < page.index("Meander") < page.index("Rijnstate")

    stated = chain(session, procedure, "preferences.stated")
    assert stated[-1]["sha256"] == preferences.list_hash(["UMCU", "MMA"])
    assert all("codes" not in entry for entry in stated)  # the chain holds the hash only


@pytest.mark.parametrize(
    ("shown", "action", "message", "status"),
    [
        (["UMCU"], "add:XYZ", "not an institution", 422),
        (["UMCU"], "add:UMCU", "twice", 422),
        (["UMCU"], "up:RST", "not on your list", 422),
        (["UMCU"], "sideways:UMCU", "Choose what to do", 422),
        (["UMCU", "ＵＭＣＵ"], "up:UMCU", "not an institution", 422),
    ],
)
def test_a_bad_list_is_refused_with_a_specific_message_and_the_list_stays(
    factory: Factory,
    session: Session,
    new_browser: Any,
    shown: list[str],
    action: str,
    message: str,
    status: int,
) -> None:
    procedure = cluster(factory, session)
    application, _others = suitable_candidate(session, procedure)
    browser = logged_in(new_browser, session, application)
    assert press(browser, application, [], "add:UMCU").status_code == 303
    answer = press(browser, application, shown, action)
    assert answer.status_code == status
    assert message in answer.text
    assert stored(session, application) == ["UMCU"]


def test_after_the_deadline_the_lists_are_fixed_and_chained_once(
    app: FastAPI, factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = cluster(factory, session)
    application, _others = suitable_candidate(session, procedure)
    browser = logged_in(new_browser, session, application)
    assert press(browser, application, [], "add:MMA").status_code == 303
    session.rollback()  # a fresh snapshot before writing (SQLite)
    procedure.preference_deadline = utcnow() - timedelta(minutes=1)
    session.commit()

    answer = press(browser, application, ["MMA"], "add:UMCU")
    assert answer.status_code == 409 and "deadline has passed" in answer.text
    assert (procedure.reference, "fix_preferences") in follow_the_clock_once(app.state.jobs)
    assert follow_the_clock_once(app.state.jobs) == []  # once
    [fixed] = chain(session, procedure, "preferences.fixed")
    assert fixed["lists"] == {application.reference: preferences.list_hash(["MMA"])}
    assert stored(session, application) == ["MMA"]
    page = browser.get(f"/applications/{application.reference}").text
    assert "Your list was fixed then" in page and "Add to my list" not in page


def test_nobody_but_the_candidate_sees_or_changes_a_list(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = cluster(factory, session)
    application, has_unsuitable = suitable_candidate(session, procedure)
    candidate = logged_in(new_browser, session, application)
    assert press(candidate, application, [], "add:RST").status_code == 303
    committee = factory.committee(procedure)
    for user in (committee["chair"], committee["staff"], committee["observer"]):
        member: Browser = new_browser()
        member.login(user.email)
        assert member.get(f"/applications/{application.reference}").status_code == 404
        assert press(member, application, ["RST"], "add:UMCU").status_code == 404
        for page in (f"/committee/{procedure.reference}", f"/procedures/{procedure.reference}"):
            assert "Rijnstate" not in member.get(page).text or page.startswith("/procedures")
    assert stored(session, application) == ["RST"]
    if has_unsuitable:
        unsuitable = (
            session.execute(
                select(Application)
                .join(JointOutcome, JointOutcome.application_id == Application.id)
                .where(Application.procedure_id == procedure.id, JointOutcome.suitable == False)  # noqa: E712
            )
            .scalars()
            .first()
        )
        assert unsuitable is not None
        other = logged_in(new_browser, session, unsuitable)
        assert (
            "Your preferred training places"
            not in other.get(f"/applications/{unsuitable.reference}").text
        )
        assert press(other, unsuitable, [], "add:RST").status_code == 409
