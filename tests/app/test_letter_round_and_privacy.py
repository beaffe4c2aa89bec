"""The letter round, the diversity questionnaire, and the applicant's privacy rights."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta

from fastapi import FastAPI
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import Mail, User
from app.applications import letter_round, privacy
from app.applications.models import Application, DiversityResponse, Document
from app.audit import service as audit
from app.conduct import facts as conduct_facts
from app.conduct import transition
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory, kept_documents
from tests.app.test_applications import form, fresh, pdfs


def apply(browser: Browser, session: Session, procedure: Procedure, user: User) -> str:
    browser.login(user.email)
    url = f"/procedures/{procedure.reference}/apply"
    browser.post(url, {**form(session, procedure), "action": "save"}, files=pdfs())
    response = browser.post(url, {**form(session, procedure), "action": "submit"})
    assert response.status_code == 303, response.text
    return response.headers["location"].split("/applications/")[1].split("?")[0]


def to_letter_round(session: Session, procedure: Procedure) -> Procedure:
    fresh(session)
    procedure = session.get(Procedure, procedure.id)  # type: ignore[assignment]
    assert procedure.closes_at is not None
    later = procedure.closes_at + timedelta(minutes=1)
    transition.transition(session, actor="system", procedure=procedure, action="close", now=later)
    transition.transition(
        session, actor="system", procedure=procedure, action="start_letter_round", now=later
    )
    return procedure


def test_letter_round_invites_who_meets_all_and_tells_everyone_why(
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    organisation = factory.organisation()
    admin_user = factory.org_admin(organisation)
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    sanne, daan = factory.user("Sanne"), factory.user("Daan")
    sanne_browser, daan_browser = new_browser(), new_browser()
    sanne_ref = apply(sanne_browser, session, procedure, sanne)
    daan_ref = apply(daan_browser, session, procedure, daan)
    procedure = to_letter_round(session, procedure)
    admin = new_browser()
    admin.login(admin_user.email)
    page = admin.get(f"/manage/procedures/{procedure.reference}/letter-round")
    assert page.status_code == 200 and sanne_ref in page.text and "Still to decide: 2" in page.text

    requirements = letter_round.minimum_requirements(session, procedure)
    url = f"/manage/procedures/{procedure.reference}/letter-round"
    # publishing before every decision is made is refused
    assert admin.post(f"{url}-result").status_code == 409
    missing_reason = {f"met-{r.id}": "not_met" for r in requirements}
    refused = admin.post(f"{url}/{daan_ref}", missing_reason)
    assert refused.status_code == 422 and "Give the reason" in refused.text
    all_met = {f"met-{r.id}": "met" for r in requirements}
    assert admin.post(f"{url}/{sanne_ref}", all_met).status_code == 303
    one_fails = {**all_met, f"met-{requirements[0].id}": "not_met",
                 f"reason-{requirements[0].id}": "Geen BIG-registratie gevonden."}  # fmt: skip
    assert admin.post(f"{url}/{daan_ref}", one_fails).status_code == 303

    # the interviews cannot start before the result is published
    fresh(session)
    facts = conduct_facts.facts_for(session, session.get(Procedure, procedure.id))  # type: ignore[arg-type]
    assert facts.letter_round_unpublished == 2
    # It e-mails everyone: the plain POST leads to the confirmation step and sends nothing.
    mails_before = len(session.execute(select(Mail)).scalars().all())
    first = admin.post(f"{url}-result")
    assert first.status_code == 303 and first.headers["location"] == f"{url}-result"
    confirmation = admin.get(f"{url}-result")
    assert confirmation.status_code == 200
    text = confirmation.text
    assert "2 people are e-mailed." in text and "This cannot be undone." in text
    assert "1 applicant meets every minimum requirement" in text and "1 applicant is not" in text
    # The mail as the first recipient (in reference order) gets it: subject and body.
    first_reference, first_user = min((sanne_ref, sanne), (daan_ref, daan))
    assert f"Letter round {procedure.title}" in text and first_user.email in text
    assert f"Dear {first_user.name}," in text and first_reference in text
    assert 'name="confirmed" value="1"' in text
    fresh(session)
    assert len(session.execute(select(Mail)).scalars().all()) == mails_before
    assert all(
        a.letter_round_outcome is None for a in session.execute(select(Application)).scalars()
    )
    published = admin.post(f"{url}-result", {"confirmed": "1"})
    assert published.status_code == 303
    assert "2 applicants were e-mailed" in admin.get(published.headers["location"]).text
    fresh(session)
    outcomes = {
        a.reference: a.letter_round_outcome for a in session.execute(select(Application)).scalars()
    }
    assert outcomes == {sanne_ref: "invited", daan_ref: "not_invited"}
    assert "Geen BIG-registratie gevonden." in daan_browser.get(f"/applications/{daan_ref}").text
    assert "invited to an interview" in sanne_browser.get(f"/applications/{sanne_ref}").text
    mail = (
        session.execute(select(Mail).where(Mail.recipient == daan.email).order_by(Mail.id.desc()))
        .scalars()
        .first()
    )  # type: ignore[union-attr]
    assert mail is not None and "Geen BIG-registratie gevonden." in mail.body
    # decisions are final once published
    assert admin.post(f"{url}/{daan_ref}", all_met).status_code == 409
    actions = [e["action"] for e in audit.entries(session, procedure.reference)]
    assert actions.count("letter_round.decided") == 2 and "letter_round.published" in actions
    assert all(
        "Geen BIG" not in json.dumps(e["data"]) for e in audit.entries(session, procedure.reference)
    )


def test_diversity_answers_stay_apart_and_small_groups_are_hidden(
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    for number in range(6):
        fresh(session)  # end the read snapshot before the factory writes
        user = factory.user(f"Sollicitant {number}")
        browser = new_browser()
        reference = apply(browser, session, procedure, user)
        answers = {"gender": "woman" if number < 5 else "man", "first_generation": "yes"}
        assert browser.post(f"/applications/{reference}/diversity", answers).status_code == 303
    assert (
        browser.post(f"/applications/{reference}/diversity", {"gender": "martian"}).status_code
        == 422
    )
    fresh(session)
    assert len(session.execute(select(DiversityResponse)).all()) == 6
    summary = letter_round.diversity_summary(session, procedure)
    # One man: not shown, not even as "< 5"; and the five women neither, since with the
    # total of six (from the other question) they would give his answer away.
    assert summary["gender"] == []
    assert summary["first_generation"] == [("yes", "6")]
    admin = new_browser()
    admin.login(factory.user(platform_admin=True).email)
    page = admin.get(f"/manage/procedures/{procedure.reference}/letter-round")
    assert page.status_code == 200 and "&lt; 5" not in page.text and "< 5" not in page.text
    entries = json.dumps(list(audit.entries(session, procedure.reference)))
    assert "woman" not in entries


def test_an_applicant_downloads_everything_and_can_have_it_erased(
    app: FastAPI,
    browser: Browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    user = factory.user("Sanne Jansen")
    user_id = user.id
    reference = apply(browser, session, procedure, user)
    download = browser.get("/account/export")
    assert download.status_code == 200 and download.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(download.content))
    data = json.loads(archive.read("data.json"))
    assert data["account"]["email"] == user.email
    assert data["applications"][0]["reference"] == reference
    assert len([n for n in archive.namelist() if n.startswith("documents/")]) == 2
    assert len(kept_documents(app, session)) == 2

    assert browser.post("/account/erase", {}).status_code == 422
    erased = browser.post("/account/erase", {"confirm": "yes"})
    assert erased.status_code == 303
    fresh(session)
    assert session.execute(select(Application)).first() is None
    assert session.execute(select(Document)).first() is None
    assert kept_documents(app, session) == set()  # the bytes went with the rows
    assert session.get(User, user_id) is None
    assert browser.get("/account").status_code == 303
    actions = [e["action"] for e in audit.entries(session, procedure.reference)]
    assert "application.erased" in actions
    assert audit.verify_stored(session, procedure.reference).ok


def test_purge_erases_after_the_retention_period_and_keeps_counts(
    browser: Browser,
    factory: Factory,
    session: Session,
    app,  # type: ignore[no-untyped-def]
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    keeper = factory.user("Keeper")
    short = factory.user("Short")
    apply(browser, session, procedure, short)
    other = Browser(app, factory.settings)
    other.login(keeper.email)
    url = f"/procedures/{procedure.reference}/apply"
    other.post(
        url,
        {**form(session, procedure), "retention_consent": "yes", "action": "save"},
        files=pdfs(),
    )
    other.post(url, {**form(session, procedure), "retention_consent": "yes", "action": "submit"})
    fresh(session)
    procedure = session.get(Procedure, procedure.id)  # type: ignore[assignment]
    procedure.phase = Phase.RESULTS
    session.commit()
    storage = app.state.storage
    assert procedure.final_result_at is not None
    assert privacy.purge(session, storage, now=procedure.final_result_at + timedelta(weeks=3)) == 0
    assert privacy.purge(session, storage, now=procedure.final_result_at + timedelta(weeks=5)) == 1
    fresh(session)
    remaining = session.execute(select(Application)).scalars().all()
    assert [a.retention_consent for a in remaining] == [True]
    assert session.get(Procedure, procedure.id).erased_counts == {"submitted": 1}  # type: ignore[union-attr]
    assert privacy.purge(session, storage, now=procedure.final_result_at + timedelta(weeks=53)) == 1
    fresh(session)
    assert session.execute(select(Application)).first() is None
    assert kept_documents(app, session) == set()
