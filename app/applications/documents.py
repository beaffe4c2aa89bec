"""The documents of an application: strict upload checks (type, size, the PDF's budget),
stored by their SHA-256, and removal from a draft."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from sqlmodel import Session

from app.applications import pdf
from app.applications.models import Application, Document
from app.applications.queries import documents
from app.applications.storage import Storage, TooLarge
from app.applications.vocabulary import ApplicationStatus, DocumentKind
from app.config import Settings
from app.downloads import safe_name as display_name
from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.i18n import gettext as _

MAX_OTHER_DOCUMENTS = 5


@dataclass
class Upload:
    kind: str
    filename: str
    stream: BinaryIO


def store_uploads(
    session: Session,
    storage: Storage,
    settings: Settings,
    application: Application,
    uploads: list[Upload],
    replaced: list[str],
    refused: list[DomainError],
) -> list[Document]:
    """Keep the valid uploads in the session's transaction (the store's bytes with them:
    nothing stays of them unless it commits); a replaced CV or letter goes at the commit."""
    existing = documents(session, application)
    others = sum(d.kind == DocumentKind.OTHER for d in existing)
    stored: list[Document] = []
    for upload in uploads:
        try:
            others = _store_one(
                session, storage, settings, application, upload, existing, others, stored, replaced
            )
        except DomainError as problem:  # this file only; the others and the form stay
            problem.field = problem.field or f"document-{upload.kind}"
            refused.append(problem)
    session.flush()
    return stored


def _store_one(
    session: Session,
    storage: Storage,
    settings: Settings,
    application: Application,
    upload: Upload,
    existing: list[Document],
    others: int,
    stored: list[Document],
    replaced: list[str],
) -> int:
    """Check and keep one upload, or raise why not; returns the count of other documents."""
    max_bytes = settings.max_document_mb * 1024 * 1024
    if upload.kind not in {k.value for k in DocumentKind}:
        raise InvalidInput(_("Unknown kind of document."), field="documents")
    verdict = pdf.check(upload.stream, pdf_limits(settings))
    if not verdict.accepted:
        raise InvalidInput(
            pdf_refusal(verdict, display_name(upload.filename), settings),
            field=f"document-{upload.kind}",
        )
    if upload.kind == DocumentKind.OTHER and others >= MAX_OTHER_DOCUMENTS:
        raise InvalidInput(
            _("At most %(n)s other documents.", n=MAX_OTHER_DOCUMENTS),
            field="document-other",
        )
    try:
        saved = storage.save(session, upload.stream, max_bytes=max_bytes)
    except TooLarge:
        raise InvalidInput(
            _(
                "%(file)s is larger than %(mb)s MB.",
                file=display_name(upload.filename),
                mb=settings.max_document_mb,
            ),
            field=f"document-{upload.kind}",
        ) from None
    assert application.id is not None
    document = Document(
        application_id=application.id,
        kind=upload.kind,
        filename=display_name(upload.filename),
        storage_key=saved.key,
        size=saved.size,
        sha256=saved.sha256,
    )
    if upload.kind != DocumentKind.OTHER:
        for old in existing:
            if old.kind == upload.kind and old.storage_key not in replaced:
                session.delete(old)
                storage.delete(session, old.storage_key)
                replaced.append(old.storage_key)
    session.add(document)
    stored.append(document)
    return others + (upload.kind == DocumentKind.OTHER)


def pdf_limits(settings: Settings) -> pdf.Limits:
    return pdf.Limits(max_pages=settings.pdf_max_pages, seconds=settings.pdf_check_seconds)


def pdf_refusal(verdict: pdf.Verdict, file: str, settings: Settings) -> str:
    """Why the upload named `file` was refused, in the applicant's language."""
    match verdict.reason:
        case pdf.Reason.NOT_PDF:
            return _(
                "%(file)s is not a PDF file. Save it as PDF (in your word processor: Save as, "
                "PDF) and try again.",
                file=file,
            )
        case pdf.Reason.ENCRYPTED:
            return _(
                "%(file)s is protected with a password, so the committee could not open it. "
                "Save it as PDF without a password and try again.",
                file=file,
            )
        case pdf.Reason.NO_PAGES:
            return _("%(file)s has no pages.", file=file)
        case pdf.Reason.TOO_MANY_PAGES:
            return _(
                "%(file)s has more than %(pages)s pages; send a shorter document.",
                file=file,
                pages=settings.pdf_max_pages,
            )
        case pdf.Reason.TOO_COMPLEX | pdf.Reason.TOO_SLOW:
            return _(
                "%(file)s is built in too complicated a way to check it safely. Print it to a "
                "new PDF (Print, Save as PDF) and try again.",
                file=file,
            )
    return _(
        "%(file)s is not a readable PDF. Save it as PDF (without a password) and try again.",
        file=file,
    )


def remove_document(
    session: Session, storage: Storage, *, application: Application, document_id: int
) -> None:
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application has been submitted and can no longer be changed."))
    document = session.get(Document, document_id)
    if document is None or document.application_id != application.id:
        raise NotFound(_("This document does not exist (any more)."))
    session.delete(document)
    storage.delete(session, document.storage_key)
    session.commit()
