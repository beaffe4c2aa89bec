"""The words a score sheet's stored values are spelled in. A plain enum, no database."""

from __future__ import annotations

from enum import StrEnum


class SheetStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    # The member declared a conflict after starting: the sheet no longer counts.
    VOID = "void"
