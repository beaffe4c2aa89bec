"""The application form keeps everything it can: a refused value or file is refused on its
own, with its message at its field, and everything else that was sent is kept in the draft
(accepted files too, so they need not be uploaded again). A late submit is kept as a draft."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.applications.models import Application, Declaration, Document
from app.db import utcnow
from app.procedures import queries
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_applications import form, fresh, make_pdf

NOT_A_PDF = b"Dit is een tekstbestand met de extensie .pdf.\n" * 20


@pytest.fixture
def open_procedure(factory: Factory) -> Procedure:
    return factory.procedure(phase=Phase.OPEN)


def field_block(html: str, control_id: str) -> str:
    """The markup of the form field that holds the control with id `control_id`."""
    start = html.index(f'id="{control_id}"')
    begin = html.rindex('<div class="field', 0, start)
    return html[begin : html.index("</div>", start)]


def chair_of(session: Session, procedure: Procedure) -> int:
    chair = next(m for m, _u in queries.members(session, procedure) if m.role == "chair")
    assert chair.id is not None
    return chair.id


def test_a_bad_pdf_beside_a_good_one_costs_only_itself(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    chair = chair_of(session, open_procedure)
    data = form(
        session,
        open_procedure,
        **{f"relation-{chair}": "colleague", f"note-{chair}": "Zelfde afdeling", "action": "save"},
    )
    letter = make_pdf(title="Brief")
    response = browser.post(
        url,
        data,
        files=[
            ("cv", ("cv-als-tekst.pdf", NOT_A_PDF, "application/pdf")),
            ("motivation", ("brief.pdf", letter, "application/pdf")),
        ],
    )
    assert response.status_code == 422
    # the message sits at the CV input, which points to it
    cv_field = field_block(response.text, "f-cv")
    assert "cv-als-tekst.pdf is not a PDF file" in cv_field
    assert 'aria-invalid="true"' in cv_field and 'aria-describedby="error-document-cv' in cv_field
    assert "is not a PDF file" not in field_block(response.text, "f-motivation")
    # everything else is kept: the fields, the answers, the declaration and the good PDF
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.phone == "06 12345678" and application.big_number == "19012345601"
    assert set(application.answers.values()) == {"Zo voldoe ik hieraan."}
    assert len(application.answers) == len(queries.requirements(session, open_procedure))
    declaration = session.execute(select(Declaration)).scalar_one()
    assert (declaration.member_id, declaration.relation) == (chair, "colleague")
    [kept] = session.execute(select(Document)).scalars().all()
    assert kept.kind == "motivation" and kept.sha256 == hashlib.sha256(letter).hexdigest()
    # ... and shown as kept, with a way to remove it
    motivation_field = field_block(response.text, "f-motivation")
    assert "Already uploaded" in motivation_field and "brief.pdf" in motivation_field
    assert f'form="remove-document-{kept.id}"' in motivation_field
    assert 'value="06 12345678"' in response.text and "Zelfde afdeling" in response.text

    # the applicant sends only a readable CV and submits: the letter need not come again
    submitted = browser.post(
        url,
        {**data, "action": "submit"},
        files=[("cv", ("cv.pdf", make_pdf(title="CV"), "application/pdf"))],
    )
    assert submitted.status_code == 303, submitted.text
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.status == "submitted"
    kinds = sorted(d.kind for d in session.execute(select(Document)).scalars())
    assert kinds == ["cv", "motivation"]


def test_a_refused_value_is_shown_as_typed_and_the_rest_is_kept(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    data = form(session, open_procedure, big_number="1234", action="save")
    response = browser.post(
        url, data, files=[("cv", ("cv.pdf", make_pdf(title="CV"), "application/pdf"))]
    )
    assert response.status_code == 422
    big_field = field_block(response.text, "f-big")
    assert "A BIG number has 11 digits." in big_field and 'value="1234"' in big_field
    summary = response.text[response.text.index('id="form-error"') :]
    assert re.search(r'<a href="#f-big">A BIG number has 11 digits.</a>', summary)
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.phone == "06 12345678" and application.big_number == ""
    assert len(application.answers) == len(queries.requirements(session, open_procedure))
    assert [d.kind for d in session.execute(select(Document)).scalars()] == ["cv"]


def test_a_value_that_was_not_sent_stays_as_it_was(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    assert browser.post(url, form(session, open_procedure, action="save")).status_code == 303
    # a request with one field (an old page, a script) changes that field only
    assert browser.post(url, {"phone": "0201234567", "action": "save"}).status_code == 303
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.phone == "0201234567" and application.big_number == "19012345601"
    assert len(application.answers) == len(queries.requirements(session, open_procedure))


def test_a_late_submit_is_kept_as_a_draft(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    assert browser.get(url).status_code == 200  # the form, while open
    procedure = session.get(Procedure, open_procedure.id)
    assert procedure is not None
    procedure.closes_at = utcnow() - timedelta(seconds=1)  # the deadline passes meanwhile
    session.commit()
    letter = make_pdf(title="Brief")
    late = browser.post(
        url,
        form(session, open_procedure, action="submit"),
        files=[("motivation", ("brief.pdf", letter, "application/pdf"))],
    )
    assert late.status_code == 409
    assert "Applications are closed" in late.text and "kept as a draft" in late.text
    fresh(session)
    application = session.execute(select(Application)).scalar_one()
    assert application.status == "draft" and application.submitted_at is None
    assert application.phone == "06 12345678" and application.big_number == "19012345601"
    [document] = session.execute(select(Document)).scalars().all()
    assert document.sha256 == hashlib.sha256(letter).hexdigest()
