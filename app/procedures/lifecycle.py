"""The life cycle of a procedure as an explicit state machine, with each step's preconditions.

draft → published → open → closed → letter round → interviews → deliberation → results →
archived. Opening and closing follow the published times: `phase_at` says which phase the
clock puts a procedure in (a deadline that has passed is closed even before the scheduled job
has moved it), and `clock_step` is the step that job takes next. Every other step is a
deliberate admin action; `blockers` says why one cannot be taken yet. Pure code: it reads
plain facts, not the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from app.i18n import gettext as _
from app.i18n import ngettext
from app.procedures import checks
from app.procedures.vocabulary import Phase


@dataclass(frozen=True)
class Transition:
    action: str
    source: Phase
    target: Phase


TRANSITIONS = (
    Transition("publish", Phase.DRAFT, Phase.PUBLISHED),
    Transition("open", Phase.PUBLISHED, Phase.OPEN),
    Transition("close", Phase.OPEN, Phase.CLOSED),
    Transition("start_letter_round", Phase.CLOSED, Phase.LETTER_ROUND),
    Transition("start_interviews", Phase.LETTER_ROUND, Phase.INTERVIEWS),
    Transition("start_deliberation", Phase.INTERVIEWS, Phase.DELIBERATION),
    Transition("publish_results", Phase.DELIBERATION, Phase.RESULTS),
    Transition("archive", Phase.RESULTS, Phase.ARCHIVED),
)
BY_ACTION = {t.action: t for t in TRANSITIONS}


def next_transition(phase: str) -> Transition | None:
    return next((t for t in TRANSITIONS if t.source == phase), None)


class Timed(Protocol):
    """What the clock needs of a procedure."""

    phase: str
    opens_at: datetime | None
    closes_at: datetime | None


def phase_at(procedure: Timed, now: datetime) -> Phase:
    """The phase the published times put the procedure in at `now`: published becomes open
    at the opening time, open becomes closed at the deadline, whether or not the scheduled
    job has taken the step yet. Later phases are admin actions and stay as stored."""
    phase = Phase(procedure.phase)
    if phase == Phase.PUBLISHED and procedure.opens_at is not None and procedure.opens_at <= now:
        phase = Phase.OPEN
    if phase == Phase.OPEN and procedure.closes_at is not None and procedure.closes_at <= now:
        phase = Phase.CLOSED
    return phase


def takes_applications(procedure: Timed, now: datetime) -> bool:
    """Whether an application can be started, saved and submitted at `now`. The one rule
    every page, form and service asks."""
    return phase_at(procedure, now) == Phase.OPEN


def keeps_late_drafts(procedure: Timed, now: datetime) -> bool:
    """After the deadline, until the letter round starts, what an applicant still sends
    (a form open in a tab past the deadline) is kept as a draft instead of thrown away;
    it can no longer be submitted."""
    return phase_at(procedure, now) == Phase.CLOSED and procedure.phase in (
        Phase.PUBLISHED,
        Phase.OPEN,
        Phase.CLOSED,
    )


def clock_step(procedure: Timed, now: datetime) -> Transition | None:
    """The next step the published times call for (open, then close), or None."""
    if phase_at(procedure, now) == Phase(procedure.phase):
        return None
    return next_transition(procedure.phase)


def action_label(action: str) -> str:
    labels = {
        "publish": _("Publish"),
        "open": _("Open for applications"),
        "close": _("Close applications"),
        "start_letter_round": _("Start the letter round"),
        "start_interviews": _("Start the interviews"),
        "start_deliberation": _("Start the deliberation"),
        "publish_results": _("Publish the results"),
        "archive": _("Archive"),
    }
    return labels[action]


def blockers(
    transition: Transition,
    phase: str,
    facts: checks.ProcedureFacts,
    now: datetime,
    format_time: object = str,
) -> list[str]:
    """Why `transition` cannot be taken now; empty when it can."""
    show = format_time if callable(format_time) else str
    if phase != transition.source:
        return [_("This step is not possible in the current phase.")]
    reasons: list[str] = []
    if transition.action == "publish":
        failing = checks.errors(checks.run(facts, now))
        reasons += [
            _("The guideline check fails: %(check)s.", check=finding.title) for finding in failing
        ]
    elif transition.action == "open":
        if facts.opens_at is None:
            reasons.append(_("The opening date is not set."))
        elif facts.opens_at > now:
            reasons.append(
                _("Applications open on %(when)s, not before.", when=show(facts.opens_at))
            )
    elif transition.action == "close":
        if facts.closes_at is not None and facts.closes_at > now:
            reasons.append(
                _(
                    "The deadline is %(when)s; until then applications can still come in.",
                    when=show(facts.closes_at),
                )
            )
    elif transition.action == "start_interviews":
        if facts.letter_round_unpublished:
            reasons.append(
                ngettext(
                    "The letter-round result has not been published for %(num)s application.",
                    "The letter-round result has not been published for %(num)s applications.",
                    facts.letter_round_unpublished,
                )
            )
        observer = facts.observer
        if observer is None:
            reasons.append(_("The interviews cannot start without an observer."))
        elif not observer.ties_declared:
            reasons.append(_("The observer has not yet declared their ties."))
        elif observer.ties.strip():
            reasons.append(_("The observer has declared a personal tie; appoint another."))
        undeclared = [
            m.name or role_name(m.role)
            for m in facts.members
            if m.role in ("member", "chair") and not m.ties_declared
        ]
        if undeclared:
            reasons.append(
                _(
                    "These committee members have not yet declared whom of the applicants "
                    "they know: %(names)s.",
                    names=", ".join(undeclared),
                )
            )
        if len(facts.scorers) < facts.quorum:
            reasons.append(
                _(
                    "The committee has %(count)s scoring members; the quorum is %(quorum)s.",
                    count=len(facts.scorers),
                    quorum=facts.quorum,
                )
            )
        reasons += _short_of_quorum(facts)
    elif transition.action == "start_deliberation":
        reasons += _short_of_quorum(facts)
        if facts.sheets_missing:
            reasons.append(
                _(
                    "Not every score sheet is in for these applicants: %(references)s.",
                    references=", ".join(facts.sheets_missing),
                )
            )
    elif transition.action == "publish_results":
        if facts.outcomes_missing:
            reasons.append(
                _(
                    "The joint outcome is not yet recorded for these applicants: %(references)s.",
                    references=", ".join(facts.outcomes_missing),
                )
            )
        reasons += facts.draw_problems
        if facts.draw_missing and not facts.draw_problems:
            reasons.append(
                _(
                    "More suitable candidates are tied at the last place than there are "
                    "places: the draw has to take place first."
                )
            )
    return reasons


def role_name(role: str) -> str:
    return {"member": _("a committee member"), "chair": _("the chair")}.get(role, role)


def _short_of_quorum(facts: checks.ProcedureFacts) -> list[str]:
    if not facts.short_of_quorum:
        return []
    return [
        _(
            "These applicants have fewer scorers without a conflict of interest than the "
            "quorum of %(quorum)s: %(references)s. Assign a reserve member.",
            quorum=facts.quorum,
            references=", ".join(facts.short_of_quorum),
        )
    ]
