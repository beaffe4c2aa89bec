"""Outgoing mail: every message is stored in the caller's transaction; with SMTP settings a
job to send it is deferred in that same transaction, and the worker sends it with retries.

So no message goes out for a change that rolled back, and none is lost for one that
committed. Each message has a Message-ID made when it is stored, the same on every attempt,
so a receiving system can tell a repeat (after a worker died between the SMTP server's
answer and marking it sent) from a new message. Without SMTP settings the stored messages
are the outbox that the platform admin reads in the browser, which is how a demo or a test
sees invitations and reset links.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import update
from sqlmodel import Session, col

from app import jobs
from app.accounts.models import Mail, MailState
from app.config import Settings
from app.db import Database, utcnow

log = logging.getLogger(__name__)

# Attempts in all before a message is failed (the admin can send it again): with the first
# retry after 30 s and each next wait doubled, the last is tried about two hours later.
MAX_ATTEMPTS = 9
SEND_MAIL = "send_mail"


@dataclass(frozen=True)
class Letter:
    """A message as it will be sent: what a confirmation step previews is what goes out."""

    to: str
    subject: str
    body: str
    # The application it is about, so a preview never shows one the reader may not see.
    about: int | None = None


class NotSent(RuntimeError):
    """The SMTP server could not be reached or refused the message; the job tries again."""


def deliver(session: Session, settings: Settings, letter: Letter) -> Mail:
    return send(session, settings, to=letter.to, subject=letter.subject, body=letter.body)


def send(session: Session, settings: Settings, *, to: str, subject: str, body: str) -> Mail:
    """Store the message in the caller's transaction and, with SMTP, defer its sending."""
    mail = Mail(
        recipient=to,
        subject=subject,
        body=body,
        message_id=make_msgid(domain=_domain(settings.mail_from)),
        state=MailState.QUEUED if settings.smtp_host else MailState.KEPT,
    )
    session.add(mail)
    if settings.smtp_host:
        session.flush()
        jobs.defer(session, SEND_MAIL, mail_id=mail.id)
    return mail


def send_again(session: Session, mail: Mail) -> None:
    """A failed message queued once more (the platform admin's button); the caller commits."""
    mail.state = MailState.QUEUED
    mail.attempts = 0
    session.add(mail)
    session.flush()
    jobs.defer(session, SEND_MAIL, mail_id=mail.id)


@jobs.task(SEND_MAIL, max_attempts=MAX_ATTEMPTS, first_retry_seconds=30)
def send_mail_job(context: jobs.Context, mail_id: int) -> None:
    send_stored(context.database, context.settings, mail_id)


def send_stored(database: Database, settings: Settings, mail_id: int) -> None:
    """One attempt to send a stored message; raises NotSent when it should be tried again."""
    with database.session() as session:
        mail = session.get(Mail, mail_id)
    if mail is None or mail.state != MailState.QUEUED or not settings.smtp_host:
        return
    error: str | None = None
    try:
        _smtp_send(settings, mail)
    except (OSError, smtplib.SMTPException) as failure:
        error = f"{type(failure).__name__}: {failure}"[:500]
        log.warning("mail %s to %s not sent: %s", mail.id, mail.recipient, error)
    attempts = mail.attempts + 1
    if error is None:
        values: dict[str, object] = {"state": MailState.SENT, "sent_at": utcnow()}
    elif attempts >= MAX_ATTEMPTS:
        values = {"state": MailState.FAILED, "error": error}
    else:
        values = {"error": error}
    with database.session(write=True) as session:
        session.execute(
            update(Mail).where(col(Mail.id) == mail_id).values(attempts=attempts, **values)
        )
        session.commit()
    if error is not None and attempts < MAX_ATTEMPTS:
        raise NotSent(error)


def _smtp_send(settings: Settings, mail: Mail) -> None:
    message = EmailMessage()
    message["From"] = settings.mail_from
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Message-ID"] = mail.message_id
    message["Date"] = format_datetime(mail.created_at)
    message.set_content(mail.body)
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        if settings.smtp_starttls:
            smtp.starttls()
        if settings.smtp_user:
            smtp.login(settings.smtp_user, settings.smtp_password)
        smtp.send_message(message)


def _domain(address: str) -> str:
    return address.rpartition("@")[2] or "localhost"
