"""The words shown for a placement's stored values, in the reader's language."""

from __future__ import annotations

from datetime import datetime

from app.db import utcnow
from app.i18n import gettext as _
from app.placement.vocabulary import OfferStatus


def offer_status_label(status: str, due: datetime | None = None) -> str:
    """An offer's answer; an open offer past its deadline reads as not answered in time."""
    if status == OfferStatus.OPEN and due is not None and utcnow() >= due:
        status = OfferStatus.LAPSED
    labels: dict[str, str] = {
        OfferStatus.OPEN: _("waiting for an answer"),
        OfferStatus.ACCEPTED: _("accepted"),
        OfferStatus.DECLINED: _("declined"),
        OfferStatus.LAPSED: _("not answered in time"),
    }
    return labels.get(status, status)
