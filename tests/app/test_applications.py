"""Applying as an applicant does it: draft, documents, declarations, submit, receipt, withdraw."""

from __future__ import annotations

import hashlib
import io
from datetime import timedelta

import pytest
from pypdf import PdfWriter
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import Mail
from app.applications.models import Application, Declaration, Document
from app.audit import service as audit
from app.config import Settings
from app.db import utcnow
from app.main import create_app
from app.procedures import queries
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory, kept_documents


def make_pdf(padding: int = 0, title: str = "CV") -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title, "/Padding": "x" * padding})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def fresh(session: Session) -> None:
    session.rollback()
    session.expire_all()


@pytest.fixture
def open_procedure(factory: Factory) -> Procedure:
    return factory.procedure(phase=Phase.OPEN)


def form(session: Session, procedure: Procedure, **extra: str) -> dict[str, str]:
    data = {"phone": "06 12345678", "big_number": "19012345601"}
    for requirement in queries.requirements(session, procedure):
        data[f"answer-{requirement.id}"] = "Zo voldoe ik hieraan."
    data.update(extra)
    return data


def pdfs(
    cv: bytes | None = None, letter: bytes | None = None
) -> list[tuple[str, tuple[str, bytes, str]]]:
    return [
        ("cv", ("cv.pdf", cv if cv is not None else make_pdf(title="CV"), "application/pdf")),
        (
            "motivation",
            (
                "brief.pdf",
                letter if letter is not None else make_pdf(title="Brief"),
                "application/pdf",
            ),
        ),
    ]


def test_apply_with_two_pdfs_get_a_receipt_and_withdraw(
    browser: Browser,
    factory: Factory,
    session: Session,
    open_procedure: Procedure,
    settings: Settings,
) -> None:
    applicant = factory.user("Sanne Jansen")
    browser.login(applicant.email)
    url = f"/procedures/{open_procedure.reference}/apply"
    assert browser.get(url).status_code == 200
    chair = next(m for m, _u in queries.members(session, open_procedure) if m.role == "chair")
    cv, letter = make_pdf(title="CV Sanne"), make_pdf(title="Brief Sanne")
    data = form(
        session,
        open_procedure,
        **{f"relation-{chair.id}": "supervised", f"note-{chair.id}": "Stage 2024"},
    )
    saved = browser.post(url, {**data, "action": "save"}, files=pdfs(cv, letter))
    assert saved.status_code == 303, saved.text
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.reference == f"{open_procedure.reference}-0001"
    assert application.status == "draft" and application.phone == "06 12345678"
    stored = session.execute(select(Document).order_by(Document.kind)).scalars().all()
    assert {d.kind: d.sha256 for d in stored} == {
        "cv": hashlib.sha256(cv).hexdigest(),
        "motivation": hashlib.sha256(letter).hexdigest(),
    }
    declaration = session.execute(select(Declaration)).scalar_one()
    assert declaration.member_id == chair.id and declaration.relation == "supervised"

    submitted = browser.post(url, {**data, "action": "submit"})
    assert submitted.status_code == 303
    assert submitted.headers["location"] == f"/applications/{application.reference}?received=1"
    receipt = browser.get(submitted.headers["location"])
    assert receipt.status_code == 200 and application.reference in receipt.text
    # a double click, or a retry after a timeout: still one application, submitted once
    again = browser.post(url, {**data, "action": "submit"})
    assert again.status_code == 303
    fresh(session)
    assert len(session.execute(select(Application)).all()) == 1
    actions = [e["action"] for e in audit.entries(session, open_procedure.reference)]
    assert actions.count("application.submitted") == 1
    assert actions.count("document.uploaded") == 2
    mails = session.execute(select(Mail).where(Mail.recipient == applicant.email)).scalars().all()
    assert any(application.reference in m.subject for m in mails)

    document = stored[0]
    download = browser.get(f"/applications/{application.reference}/documents/{document.id}")
    assert download.status_code == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.headers["x-content-type-options"] == "nosniff"
    assert download.headers["content-disposition"].startswith("attachment")
    assert hashlib.sha256(download.content).hexdigest() == document.sha256

    withdrawn = browser.post(f"/applications/{application.reference}/withdraw")
    assert withdrawn.status_code == 303
    fresh(session)
    assert session.get(Application, application.id).status == "withdrawn"  # type: ignore[union-attr]
    assert "application.withdrawn" in [
        e["action"] for e in audit.entries(session, open_procedure.reference)
    ]


def test_bad_documents_are_refused_and_the_draft_stays(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    first = browser.post(url, {**form(session, open_procedure), "action": "save"}, files=pdfs())
    assert first.status_code == 303
    fake = b"%PDF-1.7\n this is not really a pdf"
    refused = browser.post(
        url,
        {"phone": "0612345678", "action": "save"},
        files=[("cv", ("cv.pdf", fake, "application/pdf"))],
    )
    assert refused.status_code == 422 and "is not a readable PDF" in refused.text
    renamed = browser.post(
        url, {"action": "save"}, files=[("cv", ("cv.pdf", b"GIF89a....", "application/pdf"))]
    )
    assert renamed.status_code == 422
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    # the refused file only: the phone number sent beside it is kept, the old CV stays
    assert application.phone == "0612345678"
    assert len(session.execute(select(Document)).all()) == 2
    bad_big = browser.post(url, {"big_number": "123", "action": "save"})
    assert bad_big.status_code == 422 and "11 digits" in bad_big.text


def test_too_large_documents_are_refused(
    factory: Factory, session: Session, open_procedure: Procedure, settings: Settings
) -> None:
    small = settings.model_copy(update={"max_document_mb": 1})
    app = create_app(small)
    browser = Browser(app, small)
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    big = make_pdf(padding=1_200_000)
    response = browser.post(
        url, {"action": "save"}, files=[("cv", ("cv.pdf", big, "application/pdf"))]
    )
    assert response.status_code == 422 and "larger than 1 MB" in response.text
    huge = browser.post(
        url,
        {"action": "save"},
        files=[("cv", ("cv.pdf", b"x" * (6 * 1024 * 1024), "application/pdf"))],
    )
    assert huge.status_code == 413
    assert kept_documents(app, session) == set()  # nothing kept, on disk or in the database
    app.state.database.dispose()


def test_the_deadline_is_enforced_to_the_second_and_the_draft_stays(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    data = form(session, open_procedure)
    browser.post(url, {**data, "action": "save"}, files=pdfs())
    fresh(session)  # a SQLite read snapshot cannot become a write after the app has written
    procedure = session.get(Procedure, open_procedure.id)
    assert procedure is not None
    procedure.closes_at = utcnow() - timedelta(seconds=1)
    session.commit()
    late = browser.post(url, {**data, "action": "submit"})
    assert late.status_code == 409 and "Applications are closed" in late.text
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.status == "draft" and application.big_number == "19012345601"


def test_an_incomplete_application_is_not_submitted(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    response = browser.post(url, {"phone": "0612345678", "action": "submit"})
    assert response.status_code == 422
    assert "Your CV (PDF) is missing." in response.text and "BIG number is missing" in response.text
    fresh(session)
    assert session.execute(select(Application)).scalar_one().status == "draft"


def test_only_a_confirmed_address_may_apply_and_others_see_nothing(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,
    open_procedure: Procedure,  # type: ignore[no-untyped-def]
) -> None:
    browser.login(factory.user(verified=False).email)
    url = f"/procedures/{open_procedure.reference}/apply"
    response = browser.post(url, {"action": "save"})
    assert response.status_code == 403 and "Confirm your e-mail address" in response.text
    owner = new_browser()
    owner.login(factory.user().email)
    owner.post(url, {**form(session, open_procedure), "action": "save"}, files=pdfs())
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    document = session.execute(select(Document)).scalars().first()
    other = new_browser()
    other.login(factory.user().email)
    assert other.get(f"/applications/{application.reference}").status_code == 404
    assert (
        other.get(f"/applications/{application.reference}/documents/{document.id}").status_code
        == 404
    )  # type: ignore[union-attr]
    assert other.post(f"/applications/{application.reference}/withdraw").status_code == 404
