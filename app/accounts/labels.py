"""The words shown for the accounts' stored values, in the reader's language."""

from __future__ import annotations

from app.accounts.models import MailState
from app.i18n import gettext as _


def mail_state_label(state: str) -> str:
    labels: dict[str, str] = {
        MailState.KEPT: _("Kept in the outbox (no SMTP)"),
        MailState.QUEUED: _("Waiting to be sent"),
        MailState.SENT: _("Sent"),
        MailState.FAILED: _("Failed"),
    }
    return labels.get(state, state)
