"""The words a draw's stored values are spelled in. A plain enum, no database."""

from __future__ import annotations

from enum import StrEnum


class DrawStatus(StrEnum):
    # Collecting the contributors' commitments; nothing is fixed yet.
    PREPARING = "preparing"
    # Candidates, places and commitments fixed and chained; secrets being revealed.
    ANNOUNCED = "announced"
    DRAWN = "drawn"
    # A contributor did not reveal (or the draw was stopped): it stays in the record.
    VOID = "void"


class DrawPurpose(StrEnum):
    # Between the candidates tied at the last place, for the places left (the deliberation).
    TIE = "tie"
    # Over every candidate of a placement, places equal to the candidates: the drawn order is
    # the placement's priority (shared/spec/placement.md).
    ORDERING = "ordering"
