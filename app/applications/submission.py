"""Applying: a draft that keeps what was typed, its declarations of conflicts, the checks
before submitting, the submit itself (a receipt in the chain) and withdrawing."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import func
from sqlmodel import Session, select

from app.accounts import mail
from app.accounts.models import User
from app.applications.documents import Upload, store_uploads
from app.applications.models import Application, Declaration, Document
from app.applications.queries import declarations, documents, for_applicant
from app.applications.storage import Storage
from app.applications.vocabulary import ApplicationStatus, DocumentKind, Relation
from app.audit.service import actor_id, checkpoint_note, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, DomainError, Forbidden, InvalidInput
from app.i18n import gettext as _
from app.procedures import lifecycle
from app.procedures.models import Procedure, ProcedureMember, Requirement
from app.procedures.vocabulary import Phase

BIG_NUMBER = re.compile(r"^\d{11}$")
PHONE = re.compile(r"^\+?[0-9 ()\-]{8,20}$")


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
    institution: str | None = None,
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
    if institution is not None:
        institution = " ".join(institution.split())
        if len(institution) > 200:
            refused.append(
                InvalidInput(
                    _("The name of your institution is at most 200 characters."),
                    field="institution",
                )
            )
        else:
            application.institution = institution
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
    # The bytes belong to this transaction: if _keep fails they go with the rows, and the
    # replaced CV or letter is removed only once the newer one is committed.
    stored = store_uploads(session, storage, settings, application, uploads, replaced, refused)
    _keep(session, procedure, application, stored, phone, big_number, kept_answers,
          retention_consent, kept_acquaintances)  # fmt: skip
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
        )
        + checkpoint_note(session, settings.base_url, procedure.reference, sign=True),
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
        )
        + checkpoint_note(session, settings.base_url, procedure.reference, sign=True),
    )
    session.commit()
