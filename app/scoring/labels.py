"""The words shown for the scoring's stored values, in the reader's language."""

from __future__ import annotations

from app.i18n import gettext as _
from app.scoring.vocabulary import SheetStatus


def sheet_status_label(status: str) -> str:
    labels = {
        "not_started": _("Not started"),
        SheetStatus.DRAFT: _("Draft"),
        SheetStatus.SUBMITTED: _("Submitted"),
        SheetStatus.VOID: _("Void (conflict of interest)"),
    }
    return labels.get(status, status)


def agreement_label(verdict: str) -> str:
    labels = {
        "good": _("Reliable"),
        "tentative": _("Tentative"),
        "poor": _("Low: discuss how the anchors are read"),
        "unknown": _("Not enough data yet"),
    }
    return labels.get(verdict, verdict)
