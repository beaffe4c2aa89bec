"""The words shown for an application's stored values, in the reader's language."""

from __future__ import annotations

from app.i18n import gettext as _


def application_status_label(status: str) -> str:
    return {
        "draft": _("Draft, not submitted"),
        "submitted": _("Submitted"),
        "withdrawn": _("Withdrawn"),
    }.get(status, status)


def document_kind_label(kind: str) -> str:
    return {"cv": _("CV"), "motivation": _("Motivation letter"), "other": _("Other document")}.get(
        kind, kind
    )


def relation_label(relation: str) -> str:
    return {
        "family": _("Family"),
        "friend": _("Friend"),
        "supervised": _("Supervised me or I supervised them"),
        "colleague": _("Direct colleague"),
        "other": _("Otherwise"),
    }.get(relation, relation)


def diversity_label(answer: str) -> str:
    return {
        "gender": _("Gender"),
        "migration_background": _("Migration background"),
        "first_generation": _("First in the family to study"),
        "woman": _("Woman"),
        "man": _("Man"),
        "other": _("Other"),
        "rather_not": _("I would rather not say"),
        "none": _("None"),
        "western": _("Western"),
        "non_western": _("Non-western"),
        "yes": _("Yes"),
        "no": _("No"),
        "unanswered": _("Not answered"),
    }.get(answer, answer)
