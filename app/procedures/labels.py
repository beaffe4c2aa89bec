"""The words shown for a procedure's stored values, in the reader's language."""

from __future__ import annotations

from app.i18n import gettext as _
from app.procedures.vocabulary import Phase, ProcedureRole


def phase_label(phase: str) -> str:
    labels = {
        Phase.DRAFT: _("Draft"),
        Phase.PUBLISHED: _("Published"),
        Phase.OPEN: _("Open for applications"),
        Phase.CLOSED: _("Closed"),
        Phase.LETTER_ROUND: _("Letter round"),
        Phase.INTERVIEWS: _("Interviews"),
        Phase.DELIBERATION: _("Deliberation"),
        Phase.RESULTS: _("Results"),
        Phase.ARCHIVED: _("Archived"),
    }
    return labels.get(Phase(phase), phase)


def role_label(role: str) -> str:
    labels = {
        ProcedureRole.MEMBER: _("committee member"),
        ProcedureRole.CHAIR: _("chair"),
        ProcedureRole.OBSERVER: _("observer"),
    }
    return labels.get(ProcedureRole(role), role)


def function_label(function: str) -> str:
    labels = {
        "opleider": _("programme director (opleider)"),
        "staff": _("staff specialist"),
        "aios": _("trainee (aios)"),
        "nurse": _("nurse"),
        "other": _("other"),
    }
    return labels.get(function, function)


def ranking_rule_label(rule: str) -> str:
    labels = {
        "lottery_among_suitable": _(
            "Everyone found suitable is equal; when there are more suitable candidates than "
            "places, a verifiable lottery decides the order (published pluses first decide "
            "between them, as published)."
        ),
        "score_then_lottery_at_cut": _(
            "Suitable candidates are ranked by their weighted total score; a verifiable lottery "
            "decides between candidates who tie at the last place."
        ),
    }
    return labels.get(rule, _("No rule chosen yet."))


def requirement_kind_label(kind: str) -> str:
    return {
        "minimum": _("Minimum requirement"),
        "criterion": _("Letter-round criterion"),
    }.get(kind, kind)


def plus_label(kind: str) -> str:
    return {
        "phd": _("PhD (doctorate)"),
        "anios": _("Experience as anios"),
        "regional": _("Experience in the region"),
        "languages": _("Extra languages"),
        "other": _("Other plus"),
    }.get(kind, kind)


def correction_subject_label(subject: str) -> str:
    return {
        "criteria": _("Criteria"),
        "rubric": _("Interview matrix"),
        "pluses": _("Pluses"),
        "method": _("Method"),
        "timeline": _("Timeline"),
        "places": _("Places"),
        "committee": _("Committee"),
        "observer": _("Observer"),
        "other": _("Other"),
    }.get(subject, subject)
