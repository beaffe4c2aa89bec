"""The applicant's use cases: start, save a draft, upload documents, declare acquaintances,
submit before the deadline (once, however often the button is pressed), and withdraw."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import BinaryIO

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import User
from app.applications import pdf
from app.applications.models import (
    Application,
    ApplicationStatus,
    Declaration,
    DiversityResponse,
    Document,
    DocumentKind,
    Relation,
)
from app.applications.storage import Storage, TooLarge
from app.audit.service import actor_id, record
from app.config import Settings
from app.db import utcnow
from app.downloads import safe_name as display_name
from app.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from app.i18n import gettext as _
from app.procedures import lifecycle
from app.procedures.models import Phase, Procedure, ProcedureMember, Requirement

MAX_OTHER_DOCUMENTS = 5
BIG_NUMBER = re.compile(r"^\d{11}$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{8,20}$")


@dataclass
class Upload:
    kind: str
    filename: str
    stream: BinaryIO


def for_applicant(session: Session, procedure: Procedure, user: User) -> Application | None:
    return session.execute(
        select(Application).where(
            Application.procedure_id == procedure.id, Application.applicant_id == user.id
        )
    ).scalar_one_or_none()


def by_reference(session: Session, reference: str) -> Application:
    application = session.execute(
        select(Application).where(Application.reference == reference)
    ).scalar_one_or_none()
    if application is None:
        raise NotFound(_("This page does not exist."))
    return application


def of_applicant(session: Session, user: User) -> list[tuple[Application, Procedure]]:
    rows = session.execute(
        select(Application, Procedure)
        .join(Procedure, col(Procedure.id) == col(Application.procedure_id))
        .where(Application.applicant_id == user.id)
        .order_by(col(Application.created_at).desc())
    ).all()
    return [(application, procedure) for application, procedure in rows]


def documents(session: Session, application: Application) -> list[Document]:
    return list(
        session.execute(
            select(Document)
            .where(Document.application_id == application.id)
            .order_by(col(Document.id))
        ).scalars()
    )


def declarations(session: Session, application: Application) -> dict[int, Declaration]:
    rows = session.execute(
        select(Declaration).where(Declaration.application_id == application.id)
    ).scalars()
    return {row.member_id: row for row in rows}


class ApplicationsClosed(Conflict):
    """The published times say no: applications have not opened yet, or the deadline has
    passed. The form is then replaced by a page that says when."""


def _open_for_applications(procedure: Procedure, now: datetime) -> None:
    if lifecycle.takes_applications(procedure, now):
        return
    if procedure.closes_at and now >= procedure.closes_at:
        raise ApplicationsClosed(
            _("This procedure does not accept applications (any more): the deadline has passed.")
        )
    raise ApplicationsClosed(_("This procedure is not open for applications."))


def _keeping_drafts(procedure: Procedure, now: datetime) -> None:
    """Open, or just past the deadline: a draft is still kept (it cannot be submitted)."""
    if not lifecycle.keeps_late_drafts(procedure, now):
        _open_for_applications(procedure, now)


def start(
    session: Session, *, procedure: Procedure, applicant: User, now: datetime | None = None
) -> Application:
    """The applicant's draft for this procedure, made on first use (also just after the
    deadline, so that what a late applicant sent is kept)."""
    existing = for_applicant(session, procedure, applicant)
    if existing is not None:
        return existing
    _keeping_drafts(procedure, now or utcnow())
    if applicant.email_verified_at is None:
        raise Forbidden(
            _("Confirm your e-mail address before you apply: open the link we sent you.")
        )
    # Numbers count up per procedure; the write transaction (SQLite) or the row lock
    # (PostgreSQL) keeps two applicants from taking the same one.
    session.execute(
        select(Procedure.id).where(Procedure.id == procedure.id).with_for_update()
    ).first()
    count = session.execute(
        select(func.count())
        .select_from(Application)
        .where(Application.procedure_id == procedure.id)
    ).scalar_one()
    assert procedure.id is not None and applicant.id is not None
    application = Application(
        procedure_id=procedure.id,
        applicant_id=applicant.id,
        reference=f"{procedure.reference}-{count + 1:04d}",
    )
    session.add(application)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(applicant.id),
        action="application.started",
        subject=f"application:{application.reference}",
    )
    session.commit()
    return application


def save_draft(
    session: Session,
    storage: Storage,
    settings: Settings,
    *,
    application: Application,
    procedure: Procedure,
    phone: str | None,
    big_number: str | None,
    answers: dict[int, str],
    retention_consent: bool,
    acquaintances: dict[int, tuple[str, str]],
    uploads: list[Upload],
    now: datetime | None = None,
) -> list[DomainError]:
    """Keep everything that is valid of what the applicant typed and sent, and return what
    was refused: a bad value or file is refused on its own (its message names its field),
    so one unreadable PDF never costs the phone number, the answers or the other PDF.
    A value that was not sent (None, or an answer not in the form) stays as it was.
    Checks that need a complete form wait for submit."""
    if application.status == ApplicationStatus.WITHDRAWN:
        raise Conflict(_("This application has been withdrawn."))
    if application.status == ApplicationStatus.SUBMITTED:
        raise Conflict(_("This application has been submitted and can no longer be changed."))
    _keeping_drafts(procedure, now or utcnow())
    refused: list[DomainError] = []
    phone = application.phone if phone is None else phone.strip()
    big_number = application.big_number if big_number is None else big_number.strip()
    big_number = big_number.replace(" ", "")
    if phone and not PHONE.match(phone):
        refused.append(
            InvalidInput(
                _("Enter a phone number like 06 12345678 or +31 6 12345678."), field="phone"
            )
        )
        phone = application.phone
    if big_number and not BIG_NUMBER.match(big_number):
        refused.append(InvalidInput(_("A BIG number has 11 digits."), field="big_number"))
        big_number = application.big_number
    requirement_ids = {
        r.id
        for r in session.execute(
            select(Requirement).where(Requirement.procedure_id == procedure.id)
        ).scalars()
    }
    kept_answers = dict(application.answers)
    for requirement_id, text in answers.items():
        if requirement_id not in requirement_ids:
            refused.append(
                InvalidInput(_("This question is not part of the procedure."), field="answers")
            )
        elif len(text) > 5000:
            refused.append(
                InvalidInput(
                    _("An answer is at most 5000 characters."), field=f"answer-{requirement_id}"
                )
            )
        else:
            kept_answers[str(requirement_id)] = text
    members = {
        m.id: m
        for m in session.execute(
            select(ProcedureMember).where(ProcedureMember.procedure_id == procedure.id)
        ).scalars()
    }
    kept_acquaintances: dict[int, tuple[str, str]] = {}
    for member_id, (relation, note) in acquaintances.items():
        if member_id not in members:
            refused.append(
                InvalidInput(_("This person is not on the committee."), field="declarations")
            )
        elif relation and relation not in {r.value for r in Relation}:
            refused.append(
                InvalidInput(_("Choose how you know this person."), field=f"relation-{member_id}")
            )
        elif len(note) > 1000:
            refused.append(
                InvalidInput(
                    _("The explanation is at most 1000 characters."), field=f"note-{member_id}"
                )
            )
        else:
            kept_acquaintances[member_id] = (relation, note)
    replaced: list[str] = []
    stored = _store_uploads(session, storage, settings, application, uploads, replaced, refused)
    try:
        _keep(session, procedure, application, stored, phone, big_number, kept_answers,
              retention_consent, kept_acquaintances)  # fmt: skip
    except BaseException:
        for document in stored:  # the row is gone with the transaction; the bytes go too
            storage.delete(document.storage_key)
        raise
    for key in replaced:  # a newer CV or letter took their place, committed
        storage.delete(key)
    return refused


def _keep(
    session: Session,
    procedure: Procedure,
    application: Application,
    stored: list[Document],
    phone: str,
    big_number: str,
    answers: dict[str, str],
    retention_consent: bool,
    acquaintances: dict[int, tuple[str, str]],
) -> None:
    application.phone = phone
    application.big_number = big_number
    application.answers = {k: v.strip() for k, v in answers.items() if v.strip()}
    application.retention_consent = retention_consent
    application.updated_at = utcnow()
    _save_declarations(session, application, acquaintances)
    for document in stored:
        record(
            session,
            chain=procedure.reference,
            actor=actor_id(application.applicant_id),
            action="document.uploaded",
            subject=f"application:{application.reference}",
            data={"kind": document.kind, "sha256": document.sha256, "size": document.size},
        )
    session.commit()


def _store_uploads(
    session: Session,
    storage: Storage,
    settings: Settings,
    application: Application,
    uploads: list[Upload],
    replaced: list[str],
    refused: list[DomainError],
) -> list[Document]:
    existing = documents(session, application)
    others = sum(d.kind == DocumentKind.OTHER for d in existing)
    stored: list[Document] = []
    try:
        for upload in uploads:
            try:
                others = _store_one(
                    session,
                    storage,
                    settings,
                    application,
                    upload,
                    existing,
                    others,
                    stored,
                    replaced,
                )
            except DomainError as problem:  # this file only; the others and the form stay
                problem.field = problem.field or f"document-{upload.kind}"
                refused.append(problem)
    except BaseException:
        for document in stored:
            storage.delete(document.storage_key)
        raise
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
        saved = storage.save(upload.stream, max_bytes=max_bytes)
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


def _save_declarations(
    session: Session, application: Application, acquaintances: dict[int, tuple[str, str]]
) -> None:
    current = declarations(session, application)
    for member_id, (relation, note) in acquaintances.items():
        row = current.get(member_id)
        if not relation:
            if row is not None:
                session.delete(row)
            continue
        if row is None:
            assert application.id is not None
            session.add(
                Declaration(
                    application_id=application.id,
                    member_id=member_id,
                    relation=relation,
                    note=note.strip(),
                )
            )
        else:
            row.relation, row.note = relation, note.strip()


def remove_document(
    session: Session, storage: Storage, *, application: Application, document_id: int
) -> None:
    if application.status != ApplicationStatus.DRAFT:
        raise Conflict(_("This application has been submitted and can no longer be changed."))
    document = session.get(Document, document_id)
    if document is None or document.application_id != application.id:
        raise NotFound(_("This document does not exist (any more)."))
    session.delete(document)
    session.commit()
    storage.delete(document.storage_key)


def problems_before_submit(
    session: Session, application: Application, procedure: Procedure
) -> list[str]:
    """What is still missing; the form shows it, and submit refuses while it is not empty."""
    problems = []
    if not application.phone:
        problems.append(_("Your phone number is missing."))
    if not application.big_number:
        problems.append(_("Your BIG number is missing."))
    kinds = {d.kind for d in documents(session, application)}
    if DocumentKind.CV not in kinds:
        problems.append(_("Your CV (PDF) is missing."))
    if DocumentKind.MOTIVATION not in kinds:
        problems.append(_("Your motivation letter (PDF) is missing."))
    for requirement in session.execute(
        select(Requirement).where(Requirement.procedure_id == procedure.id)
    ).scalars():
        if not application.answers.get(str(requirement.id)):
            problems.append(_("No answer yet for: %(question)s", question=requirement.text))
    return problems


def submit(
    session: Session,
    settings: Settings,
    *,
    application: Application,
    procedure: Procedure,
    applicant: User,
    now: datetime | None = None,
) -> bool:
    """Submit once. A second press (double click, retry) finds it submitted and changes nothing;
    returns whether this call was the one that submitted."""
    if application.status == ApplicationStatus.SUBMITTED:
        return False
    if application.status == ApplicationStatus.WITHDRAWN:
        raise Conflict(_("This application has been withdrawn."))
    now = now or utcnow()
    _open_for_applications(procedure, now)
    problems = problems_before_submit(session, application, procedure)
    if problems:
        raise InvalidInput(_("Not complete yet: %(problems)s", problems=" ".join(problems)))
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    application.updated_at = now
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(applicant.id),
        action="application.submitted",
        subject=f"application:{application.reference}",
        data={
            "documents": sorted(d.sha256 for d in documents(session, application)),
            "declarations": len(declarations(session, application)),
        },
    )
    mail.send(
        session,
        settings,
        to=applicant.email,
        subject=_("Receipt: your application %(reference)s", reference=application.reference),
        body=_(
            "Dear %(name)s,\n\nWe received your application for %(procedure)s.\n"
            "Your application reference: %(reference)s\nReceived: %(when)s (UTC)\n\n"
            "Follow its status at %(url)s",
            name=applicant.name,
            procedure=procedure.title,
            reference=application.reference,
            when=now.strftime("%Y-%m-%d %H:%M:%S"),
            url=f"{settings.base_url}/applications/{application.reference}",
        ),
    )
    session.commit()
    return True


def withdraw(
    session: Session,
    settings: Settings,
    *,
    application: Application,
    procedure: Procedure,
    applicant: User,
) -> None:
    if application.status == ApplicationStatus.WITHDRAWN:
        return
    if Phase(procedure.phase) in (Phase.RESULTS, Phase.ARCHIVED):
        raise Conflict(_("The results are out; there is nothing left to withdraw from."))
    application.status = ApplicationStatus.WITHDRAWN
    application.withdrawn_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(applicant.id),
        action="application.withdrawn",
        subject=f"application:{application.reference}",
    )
    mail.send(
        session,
        settings,
        to=applicant.email,
        subject=_("You withdrew application %(reference)s", reference=application.reference),
        body=_(
            "Dear %(name)s,\n\nYou withdrew your application %(reference)s for %(procedure)s.",
            name=applicant.name,
            reference=application.reference,
            procedure=procedure.title,
        ),
    )
    session.commit()


DIVERSITY_OPTIONS = {
    "gender": ("woman", "man", "other", "rather_not"),
    "migration_background": ("none", "western", "non_western", "rather_not"),
    "first_generation": ("yes", "no", "rather_not"),
}


def diversity_response(session: Session, application: Application) -> DiversityResponse | None:
    return session.execute(
        select(DiversityResponse).where(DiversityResponse.application_id == application.id)
    ).scalar_one_or_none()


def save_diversity(session: Session, *, application: Application, answers: dict[str, str]) -> None:
    """Voluntary: every answer may be left empty. Not in the audit chain (no diversity data)."""
    for question, answer in answers.items():
        if answer and answer not in DIVERSITY_OPTIONS.get(question, ()):
            raise InvalidInput(
                _("Choose one of the answers, or leave the question open."), field=question
            )
    response = diversity_response(session, application)
    if response is None:
        assert application.id is not None
        response = DiversityResponse(
            procedure_id=application.procedure_id, application_id=application.id
        )
        session.add(response)
    response.gender = answers.get("gender", "")
    response.migration_background = answers.get("migration_background", "")
    response.first_generation = answers.get("first_generation", "")
    session.commit()
