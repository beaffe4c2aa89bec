"""The words an application's stored values are spelled in. Plain enums, no database."""

from __future__ import annotations

from enum import StrEnum


class ApplicationStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    WITHDRAWN = "withdrawn"


class DocumentKind(StrEnum):
    CV = "cv"
    MOTIVATION = "motivation"
    OTHER = "other"


class Relation(StrEnum):
    FAMILY = "family"
    FRIEND = "friend"
    SUPERVISED = "supervised"
    COLLEAGUE = "colleague"
    OTHER = "other"
