"""The round report as PDF is made by a job, off the request path, and kept per chain head,
view and language: the page answers at once, says when the PDF is ready, and a change to
the round makes the next ask render it again."""

from __future__ import annotations

import html
import io
from typing import Any

import pytest
from pypdf import PdfReader
from sqlmodel import Session, select

from app.audit import service as audit
from app.i18n import set_language
from app.jobs import local
from app.oversight.models import ReportPdf
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser
from tests.app.test_jobs import run_jobs
from tests.app.test_oversight import world

__all__ = ["world"]  # the fixture, shared with the oversight tests

try:
    import weasyprint  # noqa: F401

    HAS_PANGO = True
except OSError:
    HAS_PANGO = False


def text_of(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.skipif(not HAS_PANGO, reason="WeasyPrint needs Pango")
def test_the_pdf_is_made_by_a_job_and_kept_until_the_round_changes(
    world: tuple[Procedure, dict[str, Browser]], session: Session, app: Any
) -> None:
    procedure, browsers = world
    observer = browsers["observer"]
    url = f"/procedures/{procedure.reference}/report.pdf"
    # The move into the deliberation deferred one already, for the head of that moment.
    before = len(session.execute(select(ReportPdf)).scalars().all())
    first = observer.get(url)
    assert first.status_code == 202 and "is being made" in html.unescape(first.text)
    assert 'data-hx-get="' + url + '?check=true"' in first.text
    # Asked again before the worker ran: still one job, one row.
    assert observer.get(f"{url}?check=true").status_code == 202
    session.rollback()
    assert len(session.execute(select(ReportPdf)).scalars().all()) == before + 1

    run_jobs(app.state.jobs)
    ready = observer.get(f"{url}?check=true")
    assert ready.status_code == 200 and "The PDF is ready." in ready.text
    assert "<html" not in ready.text  # the fragment only
    pdf = observer.get(url)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    assert procedure.reference in text_of(pdf.content)

    # A remark is an entry in the chain: the PDF kept is no longer the round as it stands.
    remark = observer.post(
        f"/observer/procedures/{procedure.reference}/remarks",
        {"text": "De tweede ronde begon een kwartier te laat."},
    )
    assert remark.status_code == 303
    assert observer.get(url).status_code == 202
    run_jobs(app.state.jobs)
    again = observer.get(url)
    assert again.status_code == 200 and "een kwartier te laat" in text_of(again.content)
    session.rollback()
    # Only the newest PDF of the procedure is kept.
    assert [row.state for row in session.execute(select(ReportPdf)).scalars()] == ["ready"]


def test_a_job_for_a_head_that_moved_on_is_dropped(
    world: tuple[Procedure, dict[str, Browser]], session: Session, app: Any
) -> None:
    procedure, browsers = world
    observer = browsers["observer"]
    url = f"/procedures/{procedure.reference}/report.pdf"
    assert observer.get(url).status_code == 202
    observer.post(
        f"/observer/procedures/{procedure.reference}/remarks", {"text": "Nog een opmerking."}
    )
    if not app.state.database.is_sqlite:
        pytest.skip("the local queue's bookkeeping; procrastinate runs the same task")
    assert local.run_pending(app.state.jobs) == 2  # this one and the deliberation's
    session.rollback()
    assert session.execute(select(ReportPdf)).scalars().all() == []  # nothing rendered


@pytest.mark.skipif(not HAS_PANGO, reason="WeasyPrint needs Pango")
def test_the_pdf_is_made_as_the_round_enters_a_phase_in_which_it_is_read(
    factory: Any, session: Session, new_browser: Any, app: Any
) -> None:
    """Archiving is a phase change: the PDF of the whole round is deferred with it, so the
    observer who asks after the worker ran gets it at once."""
    from app.conduct import transition

    procedure = factory.procedure(phase=Phase.RESULTS, applicants=2)
    people = factory.committee(procedure)
    session.rollback()
    set_language("en")  # the observer reads in English here (the PDF is made in the mover's)
    transition.transition(session, actor="system", procedure=procedure, action="archive")
    session.rollback()
    head = audit.head(session, procedure.reference)
    assert head is not None
    [made] = (
        session.execute(select(ReportPdf).where(ReportPdf.head_seq == head.seq)).scalars().all()
    )
    assert made.state == "rendering"
    run_jobs(app.state.jobs)
    observer = new_browser()
    observer.login(people["observer"].email)
    pdf = observer.get(f"/procedures/{procedure.reference}/report.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
