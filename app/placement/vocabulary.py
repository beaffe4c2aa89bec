"""The words a placement's stored values are spelled in. A plain enum, no database."""

from __future__ import annotations

from enum import StrEnum


class OfferStatus(StrEnum):
    # Waiting for the candidate's answer, until the round's deadline.
    OPEN = "open"
    # Accepted: this place, or a better one on the candidate's own list in a later round.
    ACCEPTED = "accepted"
    DECLINED = "declined"
    # Not answered before the deadline: counts as declined, as the offer said.
    LAPSED = "lapsed"
