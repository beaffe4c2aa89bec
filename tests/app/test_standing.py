"""Standing, not role (issue 13): one person holding two roles sees, in every channel, only
what their standing towards each applicant allows; roles exclude each other."""

from __future__ import annotations

import html
import io
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, select

from app import demo
from app.accounts.models import User
from app.applications.models import Application, Declaration, Document
from app.procedures.models import Organisation, Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring import round as scoring_round
from app.scoring import sheets as scoring_sheets
from app.scoring.models import ScoreSheet
from tests.app.conftest import Browser, Factory, outbox_link


def text_of(response: Any) -> str:
    return html.unescape(response.text)


def member_id(session: Session, procedure: Procedure, user: User) -> int:
    session.rollback()
    found = session.execute(
        select(ProcedureMember.id).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.user_id == user.id
        )
    ).scalar_one()
    assert found is not None
    return found


def applications(session: Session, procedure: Procedure) -> list[Application]:
    session.rollback()
    return list(
        session.execute(
            select(Application)
            .where(Application.procedure_id == procedure.id)
            .order_by(Application.reference)  # type: ignore[arg-type]
        ).scalars()
    )


def xlsx_cells(content: bytes) -> list[str]:
    sheet = load_workbook(io.BytesIO(content)).active
    assert sheet is not None
    return [str(cell) for row in sheet.iter_rows(values_only=True) for cell in row]


def test_an_admin_who_scores_sees_nothing_of_the_others_until_their_own_sheet_is_in(
    factory: Factory, session: Session, browser: Browser
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.INTERVIEWS, applicants=2)
    factory.member(procedure, "member", user=admin)
    mine = member_id(session, procedure, admin)
    others = lambda application, member: member.id != mine  # noqa: E731
    demo.score_everyone(session, procedure, demo.utcnow(), only=others)
    demo.score_everyone(session, procedure, demo.utcnow(), submit=False)  # the admin's draft
    session.rollback()
    first = applications(session, procedure)[0]
    theirs = (
        session.execute(
            select(ScoreSheet).where(
                ScoreSheet.application_id == first.id, ScoreSheet.member_id != mine
            )
        )
        .scalars()
        .first()
    )
    assert theirs is not None and theirs.status == "submitted"
    reason = next(iter(theirs.reasons.values()))
    scorer = session.execute(
        select(User.name)
        .join(ProcedureMember, ProcedureMember.user_id == User.id)  # type: ignore[arg-type]
        .where(ProcedureMember.id == theirs.member_id)
    ).scalar_one()
    browser.login(admin.email)
    reference = procedure.reference

    def channels() -> dict[str, str]:
        return {
            "observer view": text_of(browser.get(f"/observer/procedures/{reference}")),
            "report": text_of(browser.get(f"/procedures/{reference}/report")),
            "csv": browser.get(f"/procedures/{reference}/report.csv").text,
            "xlsx": " ".join(
                xlsx_cells(browser.get(f"/procedures/{reference}/report.xlsx").content)
            ),
        }

    for name, body in channels().items():
        assert reason not in body, name
        assert f"{first.reference},{scorer}" not in body, name
        assert scorer not in body or name in ("observer view", "report"), name  # the committee
    report = text_of(browser.get(f"/procedures/{reference}/report"))
    assert "the other members' scores and reasons are shown once your own sheet" in report
    deliberation = browser.get(f"/committee/{reference}/applicants/{first.reference}/deliberation")
    assert deliberation.status_code == 403
    chain = browser.get(f"/procedures/{reference}/audit.jsonl")
    assert chain.status_code == 403
    assert "once your own score sheets are in (2 still open)" in text_of(chain)
    editor = text_of(browser.get(f"/manage/procedures/{reference}"))
    assert "once your own score sheets are in" in editor

    # Submitted: now they see the others' sheets, and the chain.
    session.rollback()
    round_ = scoring_round.load_round(session, procedure)
    member = round_.members[mine]
    for application in round_.applications:
        sheet = round_.sheet(application, member)
        assert sheet is not None
        scoring_sheets.submit_sheet(
            session, procedure=procedure, rubric=round_.rubric, application=application,
            member=member, version=str(sheet.version), confirmed=True,
        )  # fmt: skip
    for name, body in channels().items():
        assert (reason in body) or name in ("csv", "xlsx"), name
        assert f"{first.reference},{scorer}" in body or name != "csv", name
    assert scorer in channels()["xlsx"]
    assert reason in text_of(
        browser.get(f"/committee/{reference}/applicants/{first.reference}/deliberation")
    )
    assert browser.get(f"/procedures/{reference}/audit.jsonl").status_code == 200


def test_an_admin_with_a_conflict_never_meets_the_applicant(
    factory: Factory, session: Session, browser: Browser
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.INTERVIEWS, applicants=2)
    factory.member(procedure, "member", user=admin)
    known, other = applications(session, procedure)
    browser.login(admin.email)
    reference = procedure.reference
    declared = browser.post(
        f"/committee/{reference}/applicants/{known.reference}/conflict", {"relation": "friend"}
    )
    assert declared.status_code == 303
    session.rollback()
    demo.score_everyone(session, procedure, demo.utcnow())
    session.rollback()
    for path in ("", "/conflict", "/deliberation"):
        url = f"/committee/{reference}/applicants/{known.reference}{path}"
        assert browser.get(url).status_code == 404, url
    assert browser.get(f"/committee/{reference}/applicants/{other.reference}").status_code == 200
    for url in (
        f"/observer/procedures/{reference}",
        f"/procedures/{reference}/report",
        f"/procedures/{reference}/report.csv",
        f"/manage/procedures/{reference}/letter-round",
        f"/manage/procedures/{reference}/scoring",
        f"/manage/procedures/{reference}/ranking",
    ):
        response = browser.get(url)
        assert response.status_code == 200, url
        assert known.reference not in response.text, url
        assert other.reference in response.text, url
    xlsx = xlsx_cells(browser.get(f"/procedures/{reference}/report.xlsx").content)
    assert known.reference not in xlsx and other.reference in xlsx
    letter_round = text_of(browser.get(f"/manage/procedures/{reference}/letter-round"))
    assert "This organisation has no other admin to handle them" in letter_round
    assert "no admin without a conflict for " + known.reference in text_of(
        browser.get(f"/manage/procedures/{reference}")
    )
    chain = browser.get(f"/procedures/{reference}/audit.jsonl")
    assert chain.status_code == 403 and "conflict of interest" in text_of(chain)
    reserve = browser.post(
        f"/manage/procedures/{reference}/scoring/{known.reference}/reserve", {"member": "1"}
    )
    assert reserve.status_code == 404
    # With a second admin, the work on that applicant is theirs.
    factory.org_admin(session.get(Organisation, organisation.id) or organisation)
    letter_round = text_of(browser.get(f"/manage/procedures/{reference}/letter-round"))
    assert "Another admin of the organisation handles them." in letter_round


def test_the_letter_round_without_the_applicant_who_declared_knowing_the_admin(
    factory: Factory, session: Session, browser: Browser, new_browser: Any
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    colleague = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.CLOSED, applicants=2)
    factory.member(procedure, "member", user=admin)
    known, other = applications(session, procedure)
    session.add(
        Declaration(
            application_id=known.id,
            member_id=member_id(session, procedure, admin),
            relation="colleague",
        )
    )
    stored = session.get(Procedure, procedure.id)
    assert stored is not None
    stored.phase = Phase.LETTER_ROUND
    session.commit()
    documents = {
        a.id: session.execute(select(Document.id).where(Document.application_id == a.id))
        .scalars()
        .first()
        for a in (known, other)
    }
    browser.login(admin.email)
    reference = procedure.reference
    assert (
        browser.get(f"/applications/{known.reference}/documents/{documents[known.id]}").status_code
        == 404
    )
    assert (
        browser.get(f"/applications/{other.reference}/documents/{documents[other.id]}").status_code
        == 200
    )
    page = browser.get(f"/manage/procedures/{reference}/letter-round")
    assert known.reference not in page.text and other.reference in page.text
    assert "Another admin of the organisation handles them." in text_of(page)
    decide = browser.post(f"/manage/procedures/{reference}/letter-round/{known.reference}", {})
    assert decide.status_code == 404
    # The other admin reads and decides it.
    second = new_browser()
    second.login(colleague.email)
    assert known.reference in second.get(f"/manage/procedures/{reference}/letter-round").text
    assert (
        second.get(f"/applications/{known.reference}/documents/{documents[known.id]}").status_code
        == 200
    )


def test_admins_read_documents_only_during_the_letter_round(
    factory: Factory, session: Session, browser: Browser
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.INTERVIEWS, applicants=1)
    [application] = applications(session, procedure)
    document = (
        session.execute(select(Document.id).where(Document.application_id == application.id))
        .scalars()
        .first()
    )
    assert document is not None
    browser.login(admin.email)
    url = f"/applications/{application.reference}/documents/{document}"
    assert browser.get(url).status_code == 404
    page = browser.get(f"/manage/procedures/{procedure.reference}/letter-round")
    assert f"/documents/{document}" not in page.text


def test_an_applicant_cannot_join_their_own_committee_and_a_member_cannot_apply(
    factory: Factory, session: Session, browser: Browser, new_browser: Any
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.OPEN, applicants=1)
    [candidate] = factory.last_applicants
    reference = procedure.reference
    browser.login(admin.email)
    for role in ("member", "chair", "observer"):
        invited = browser.post(
            f"/manage/procedures/{reference}/invitations",
            {"email": candidate.email, "name": "x", "role": role, "function": "staff"},
        )
        assert invited.status_code == 409, role
        assert "an applicant cannot also be its committee member, chair, reserve or observer" in (
            text_of(invited)
        )
    reserve = browser.post(
        f"/manage/procedures/{reference}/invitations",
        {"email": candidate.email, "role": "member", "function": "staff", "reserve": "true"},
    )
    assert reserve.status_code == 409
    dutch = new_browser()
    dutch.login(admin.email)
    dutch.get("/lang/nl?next=/")
    refused = dutch.post(
        f"/manage/procedures/{reference}/invitations",
        {"email": candidate.email, "role": "member", "function": "staff"},
    )
    assert refused.status_code == 409
    assert "heeft gesolliciteerd op deze procedure" in text_of(refused)
    session.rollback()
    assert (
        session.execute(
            select(ProcedureMember).where(ProcedureMember.user_id == candidate.id)
        ).first()
        is None
    )

    # The other way round: the committee and the observer cannot apply, and are told why.
    people = factory.committee(procedure)
    for role, why in (
        ("staff", "a committee member cannot also apply to it"),
        ("observer", "the observer cannot also apply to it"),
    ):
        member = new_browser()
        member.login(people[role].email)
        for response in (
            member.get(f"/procedures/{reference}/apply"),
            member.post(f"/procedures/{reference}/apply", {"phone": "0612345678"}),
        ):
            assert response.status_code == 403 and why in text_of(response), role
    member = new_browser()
    member.login(people["staff"].email)
    member.get("/lang/nl?next=/")
    refused = member.get(f"/procedures/{reference}/apply")
    assert refused.status_code == 403
    assert "een commissielid kan er niet ook op solliciteren" in text_of(refused)
    session.rollback()
    assert (
        session.execute(
            select(Application).where(Application.applicant_id == people["staff"].id)
        ).first()
        is None
    )


def test_an_invitation_accepted_later_is_refused_for_an_applicant(
    factory: Factory, session: Session, browser: Browser, new_browser: Any
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    browser.login(admin.email)
    invited = browser.post(
        f"/manage/procedures/{procedure.reference}/invitations",
        {"email": "nieuw@example.org", "name": "Nieuw Lid", "role": "member", "function": "staff",
         "justification": "Een lid is ziek; Nieuw Lid neemt de plaats in."},
    )  # fmt: skip
    assert invited.status_code == 303
    link = outbox_link(session, "nieuw@example.org", "/invitations/")
    person = session.execute(select(User).where(User.email == "nieuw@example.org")).scalar_one()
    # Before accepting, the same person applied (as only old data can show now).
    session.add(
        Application(
            procedure_id=procedure.id, applicant_id=person.id,
            reference=f"{procedure.reference}-0042", status="draft",
        )
    )  # fmt: skip
    session.commit()
    visitor = new_browser()
    accepted = visitor.post(
        link, {"name": "Nieuw Lid", "password": "een lang wachtwoord 42",
               "password_confirm": "een lang wachtwoord 42"},
    )  # fmt: skip
    assert accepted.status_code == 409
    assert f"You have applied to {procedure.reference}" in text_of(accepted)
    session.rollback()
    assert session.get(User, person.id).password_hash is None  # type: ignore[union-attr]


def test_an_applicant_on_their_own_committee_scores_nobody_and_the_check_names_it(
    factory: Factory, session: Session, browser: Browser
) -> None:
    """Old data: an applicant who was put on the committee of their own procedure. Their
    committee role counts for nothing; the guideline check names the overlap."""
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.INTERVIEWS, applicants=2)
    first, rival = factory.last_applicants
    factory.member(procedure, "member", user=first)
    [_mine, theirs] = applications(session, procedure)
    document = (
        session.execute(select(Document.id).where(Document.application_id == theirs.id))
        .scalars()
        .first()
    )
    browser.login(first.email)
    reference = procedure.reference
    assert browser.get(f"/committee/{reference}/applicants/{theirs.reference}").status_code == 404
    assert browser.get(f"/applications/{theirs.reference}/documents/{document}").status_code == 404
    assert browser.get(f"/committee/{reference}").status_code == 403
    browser.login(admin.email)
    editor = text_of(browser.get(f"/manage/procedures/{reference}"))
    assert "An applicant is also on the committee or the observer" in editor
    assert f"{first.name} (" in editor
    assert rival.name  # the rival is untouched


def test_the_check_warns_before_publishing_when_no_admin_could_take_over(
    factory: Factory, session: Session, browser: Browser
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.DRAFT)
    browser.login(admin.email)
    title = "No second admin to take over when an admin has a conflict of interest"
    url = f"/manage/procedures/{procedure.reference}"
    assert title not in text_of(browser.get(url))  # the admin is not on the committee
    factory.member(procedure, "member", user=admin)
    assert title in text_of(browser.get(url))
    factory.org_admin(organisation)
    assert title not in text_of(browser.get(url))
