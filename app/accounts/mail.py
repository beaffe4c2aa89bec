"""Outgoing mail: every message is stored; with SMTP settings it is also sent.

Without SMTP settings the stored messages are the outbox that the platform admin reads in
the browser, which is how a demo or a test sees invitations and reset links.
"""

from __future__ import annotations

import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage

from sqlmodel import Session

from app.accounts.models import Mail
from app.config import Settings
from app.db import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Letter:
    """A message as it will be sent: what a confirmation step previews is what goes out."""

    to: str
    subject: str
    body: str
    # The application it is about, so a preview never shows one the reader may not see.
    about: int | None = None


def deliver(session: Session, settings: Settings, letter: Letter) -> Mail:
    return send(session, settings, to=letter.to, subject=letter.subject, body=letter.body)


def send(session: Session, settings: Settings, *, to: str, subject: str, body: str) -> Mail:
    """Store the message in the caller's transaction; send it now when SMTP is configured."""
    mail = Mail(recipient=to, subject=subject, body=body)
    session.add(mail)
    if settings.smtp_host:
        message = EmailMessage()
        message["From"] = settings.mail_from
        message["To"] = to
        message["Subject"] = subject
        message.set_content(body)
        try:
            with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
                if settings.smtp_starttls:
                    smtp.starttls()
                if settings.smtp_user:
                    smtp.login(settings.smtp_user, settings.smtp_password)
                smtp.send_message(message)
            mail.sent_at = utcnow()
        except (OSError, smtplib.SMTPException) as error:
            # The message stays in the outbox with the error, for the admin to see.
            log.warning("mail to %s failed: %s", to, error)
            mail.error = str(error)[:500]
    return mail
