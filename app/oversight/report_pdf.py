"""The round report as PDF, off the request path: rendering one takes seconds to minutes
(WeasyPrint lays out every applicant's table), so a job renders it and keeps it for the
chain head it was asked at, the reader's view and language. The page that asks for it
answers at once: with the PDF when it is ready, otherwise with a page that says it is being
made and checks again.

Every change to a round is an entry in its procedure's chain, so a PDF kept for the current
head is the report as it stands; a job whose head has moved on by the time it runs is
dropped (a newer request renders the newer report), so the worker never renders a pile of
outdated ones.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from app import jobs, permissions
from app.audit import service as audit
from app.db import Database, utcnow
from app.i18n import current_language, set_language
from app.oversight import service as oversight
from app.oversight.models import ReportPdf
from app.procedures.models import Procedure

log = logging.getLogger(__name__)

RENDER = "render_report_pdf"


@dataclass(frozen=True)
class Asked:
    """What the reader asked: the PDF when it is ready, or the state of its making."""

    state: str  # rendering, ready or failed
    pdf: bytes | None = None
    error: str | None = None


def key_of(procedure: Procedure, head_seq: int, head_hash: str, view: permissions.RoundView,
           language: str) -> str:  # fmt: skip
    parts = [
        str(procedure.id),
        str(head_seq),
        head_hash,
        ",".join(str(i) for i in sorted(view.hidden)),
        ",".join(str(i) for i in sorted(view.sealed)),
        language,
    ]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def ask(
    database: Database, procedure: Procedure, view: permissions.RoundView, *, retry: bool = True
) -> Asked:
    """The PDF for the current head, view and language; when there is none (or it failed,
    and `retry`), a job to render it is deferred, once however often it is asked."""
    with database.session(write=True) as session:
        return _ask(session, procedure, view, retry)


def _ask(session: Session, procedure: Procedure, view: permissions.RoundView, retry: bool) -> Asked:
    language = current_language()
    key, head_seq = _key_now(session, procedure, view, language)
    kept = session.execute(select(ReportPdf).where(col(ReportPdf.key) == key)).scalar()
    if kept is not None and kept.state == "ready":
        return Asked("ready", pdf=kept.data)
    if kept is not None and kept.state == "rendering":
        return Asked("rendering")
    if kept is not None and not retry:
        return Asked("failed", error=kept.error)
    error = kept.error if kept is not None else None
    try:
        _defer(session, procedure, view, language, key, head_seq, again=kept)
        session.commit()
    except IntegrityError:  # another request asked for it at the same moment
        session.rollback()
        return Asked("rendering")
    return Asked("rendering", error=error)


def prepare(session: Session, procedure: Procedure) -> None:
    """Have the PDF made for those who read the whole round (the observer, the admins who
    are not members), in the language of whoever moved the round on, as soon as it reaches
    a phase in which the report is read; in the caller's transaction (it commits)."""
    view, language = permissions.EVERYTHING, current_language()
    key, head_seq = _key_now(session, procedure, view, language)
    if session.execute(select(ReportPdf.id).where(col(ReportPdf.key) == key)).first():
        return
    _defer(session, procedure, view, language, key, head_seq, again=None)


def _key_now(
    session: Session, procedure: Procedure, view: permissions.RoundView, language: str
) -> tuple[str, int]:
    head = audit.head(session, procedure.reference)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, "")
    return key_of(procedure, head_seq, head_hash, view, language), head_seq


def _defer(
    session: Session,
    procedure: Procedure,
    view: permissions.RoundView,
    language: str,
    key: str,
    head_seq: int,
    *,
    again: ReportPdf | None,
) -> None:
    if again is not None:  # failed: asked again, rendered again
        session.execute(
            update(ReportPdf).where(col(ReportPdf.id) == again.id).values(state="rendering")
        )
    else:
        session.add(ReportPdf(key=key, procedure_id=procedure.id or 0, head_seq=head_seq))
    session.flush()
    jobs.defer(
        session,
        RENDER,
        key=key,
        procedure_id=procedure.id,
        head_seq=head_seq,
        hidden=sorted(view.hidden),
        sealed=sorted(view.sealed),
        language=language,
    )


@jobs.task(RENDER)
def render(
    context: jobs.Context,
    *,
    key: str,
    procedure_id: int,
    head_seq: int,
    hidden: list[int],
    sealed: list[int],
    language: str,
) -> None:
    database = context.database
    with database.session() as session:
        procedure = session.get(Procedure, procedure_id)
        head = audit.head(session, procedure.reference) if procedure else None
        if procedure is None or head is None or head.seq != head_seq:
            _drop(database, key)  # the round moved on: a newer request renders it
            return
        view = permissions.RoundView(hidden=frozenset(hidden), sealed=frozenset(sealed))
        before = current_language()
        set_language(language)
        try:
            document = document_html(session, procedure, view)
        finally:
            set_language(before)
    try:
        pdf = to_pdf(document)
    except (OSError, ValueError) as failure:
        log.exception("the report PDF of %s failed", procedure.reference)
        _finish(database, key, error=f"{type(failure).__name__}: {failure}"[:500])
        return
    _finish(database, key, pdf=pdf, procedure_id=procedure_id)


def document_html(session: Session, procedure: Procedure, view: permissions.RoundView) -> str:
    from app.web import templates

    template = templates.env.get_template("oversight/report_document.html")
    return template.render(
        report=oversight.report(session, procedure, view),
        procedure=procedure,
        lang=current_language(),
    )


def to_pdf(document: str) -> bytes:
    """WeasyPrint, which needs Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0); the
    document's styles are its own, so nothing is fetched."""
    from weasyprint import HTML

    return bytes(HTML(string=document).write_pdf())


def _finish(
    database: Database,
    key: str,
    *,
    pdf: bytes | None = None,
    error: str | None = None,
    procedure_id: int | None = None,
) -> None:
    with database.session(write=True) as session:
        if pdf is None:
            values: dict[str, object] = {"state": "failed", "error": error}
        else:
            values = {"state": "ready", "data": pdf, "error": None, "ready_at": utcnow()}
        session.execute(update(ReportPdf).where(col(ReportPdf.key) == key).values(**values))
        if pdf is not None and procedure_id is not None:
            # Only the newest of a procedure is worth keeping once it is ready.
            session.execute(
                delete(ReportPdf).where(
                    col(ReportPdf.procedure_id) == procedure_id,
                    col(ReportPdf.key) != key,
                    col(ReportPdf.state) != "rendering",
                )
            )
        session.commit()


def _drop(database: Database, key: str) -> None:
    with database.session(write=True) as session:
        session.execute(delete(ReportPdf).where(col(ReportPdf.key) == key))
        session.commit()
