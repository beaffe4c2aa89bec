"""The guideline check: named checks run on every draft and shown beside it.

Each check cites the sentence of the national guideline (theme 3) it comes from. Errors
block publishing; warnings are published with the procedure so applicants can see them.
Pure code: it reads plain facts, not the database.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from itertools import pairwise

from app.i18n import N_
from app.i18n import gettext as _


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class RequirementFacts:
    kind: str  # minimum or criterion
    text: str
    rationale: str
    text_en: str = ""
    rationale_en: str = ""


@dataclass(frozen=True)
class PlusFacts:
    kind: str
    description: str
    description_en: str = ""


@dataclass(frozen=True)
class MemberFacts:
    role: str  # member, chair or observer
    function: str
    training_done: bool
    ties: str
    ties_declared: bool
    reserve: bool = False
    name: str = ""
    panel: str = ""  # the name of the panel they sit on, if the committee has panels


@dataclass(frozen=True)
class ProcedureFacts:
    """What the checks look at, copied out of the stored procedure."""

    opens_at: datetime | None
    closes_at: datetime | None
    letter_round_result_at: datetime | None
    interview_days: tuple[str, ...]
    final_result_at: datetime | None
    method: str
    quorum: int
    ranking_rule: str
    retention_weeks: int | None
    rubric_pinned: bool
    requirements: tuple[RequirementFacts, ...] = ()
    members: tuple[MemberFacts, ...] = ()
    # Submitted applications whose letter-round result has not been published yet.
    letter_round_unpublished: int = 0
    # Invited applicants (by reference) with fewer unconflicted scorers than the quorum,
    # with a sheet not yet submitted, and without a joint outcome.
    short_of_quorum: tuple[str, ...] = ()
    sheets_missing: tuple[str, ...] = ()
    outcomes_missing: tuple[str, ...] = ()
    # A tie at the last place that the lottery has not yet decided.
    draw_missing: bool = False
    # Why the standing draw no longer fits the ranking (which draw, and why), if it does not.
    draw_problems: tuple[str, ...] = ()
    # People who are both applicant and committee member or observer ("name (role)").
    role_overlaps: tuple[str, ...] = ()
    # The organisation's admins, how many of them are on the committee (or the observer:
    # only they can have a conflict), and applicants every one of them has a conflict with.
    organisation_admins: int = 1
    admins_on_committee: int = 0
    without_free_admin: tuple[str, ...] = ()
    # The places per institution (code, capacity) and the places of the procedure; with two
    # or more institutions the suitable state preferences before `preference_deadline`.
    places: int = 1
    institutions: tuple[tuple[str, int], ...] = ()
    preference_deadline: datetime | None = None
    # The published texts in Dutch and their English versions (empty: none).
    description: str = ""
    description_en: str = ""
    method_en: str = ""
    pluses: tuple[PlusFacts, ...] = ()
    # The names of the committee's panels, in order (none: every member scores everyone).
    panels: tuple[str, ...] = ()

    @property
    def scorers(self) -> list[MemberFacts]:
        """The regular scoring members; reserves score only where they are assigned."""
        return [m for m in self.members if m.role in ("member", "chair") and not m.reserve]

    @property
    def observer(self) -> MemberFacts | None:
        return next((m for m in self.members if m.role == "observer"), None)


@dataclass(frozen=True)
class Finding:
    check: str
    severity: Severity
    title: str
    source: str
    quote: str
    details: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class Check:
    name: str
    severity: Severity
    title: Callable[[], str]
    source: str
    quote: Callable[[], str]
    run: Callable[[ProcedureFacts, datetime], list[str] | bool]


# Words that make a minimum requirement a PhD, anios or regional gate (Dutch and English).
GATE_PATTERNS = {
    "phd": re.compile(r"\b(phd|promo(tie|veren|vendus)|gepromoveerd|proefschrift|doctora)", re.I),
    "anios": re.compile(r"\b(anios\w*|arts niet in opleiding|ani?o?s-?ervaring)", re.I),
    "regional": re.compile(r"\b(oor|in de regio|regionale ervaring|regional experience)\b", re.I),
}


def _rationale_missing(facts: ProcedureFacts, _now: datetime) -> list[str]:
    return [r.text for r in facts.requirements if not r.rationale.strip()]


def _no_requirements(facts: ProcedureFacts, _now: datetime) -> bool:
    return not any(r.kind == "minimum" for r in facts.requirements)


def _no_method(facts: ProcedureFacts, _now: datetime) -> bool:
    return not facts.method.strip()


def _no_rubric(facts: ProcedureFacts, _now: datetime) -> bool:
    return not facts.rubric_pinned


def _no_observer(facts: ProcedureFacts, _now: datetime) -> bool:
    return facts.observer is None


def _observer_tie(facts: ProcedureFacts, _now: datetime) -> list[str]:
    observer = facts.observer
    return [observer.ties.strip()] if observer and observer.ties.strip() else []


def _hard_gate(facts: ProcedureFacts, _now: datetime) -> list[str]:
    return [
        r.text
        for r in facts.requirements
        if r.kind == "minimum" and any(p.search(r.text) for p in GATE_PATTERNS.values())
    ]


def _no_lottery_rule(facts: ProcedureFacts, _now: datetime) -> bool:
    return not facts.ranking_rule


def _no_aios(facts: ProcedureFacts, _now: datetime) -> bool:
    return bool(facts.scorers) and not any(m.function == "aios" for m in facts.scorers)


def _panel_without_aios(facts: ProcedureFacts, _now: datetime) -> list[str]:
    # Every panel that interviews has a trainee on it (guideline 3.2, the model example).
    return [
        name
        for name in facts.panels
        if not any(m.function == "aios" and m.panel == name for m in facts.scorers)
    ]


def _one_function(facts: ProcedureFacts, _now: datetime) -> bool:
    return len(facts.scorers) > 1 and len({m.function for m in facts.scorers}) == 1


def _untrained(facts: ProcedureFacts, _now: datetime) -> list[str]:
    # The guideline asks it of those who assess (reserves too); the observer does not.
    assessors = [m for m in facts.members if m.role in ("member", "chair")]
    return [
        _("%(count)s of %(total)s committee members", count=count, total=len(assessors))
        for count in [sum(not m.training_done for m in assessors)]
        if count
    ]


def _timeline(facts: ProcedureFacts, now: datetime) -> list[str]:
    problems = []
    moments = [
        (_("applications open"), facts.opens_at),
        (_("applications close"), facts.closes_at),
        (_("letter-round result"), facts.letter_round_result_at),
    ]
    for label, moment in [*moments, (_("final result"), facts.final_result_at)]:
        if moment is None:
            problems.append(_("no date for: %(what)s", what=label))
    if not facts.interview_days:
        problems.append(_("no interview days"))
    if facts.closes_at is not None and facts.closes_at <= now:
        problems.append(_("the closing date has passed"))
    known = [(label, moment) for label, moment in moments if moment is not None]
    for (first, a), (second, b) in pairwise(known):
        if a >= b:
            problems.append(_("%(first)s is not before %(second)s", first=first, second=second))
    days = sorted(datetime.fromisoformat(day).date() for day in facts.interview_days)
    result = facts.letter_round_result_at
    if days and result is not None and result.date() > days[0]:
        problems.append(
            _(
                "%(first)s is not before %(second)s",
                first=_("letter-round result"),
                second=_("first interview day"),
            )
        )
    final = facts.final_result_at
    if days and final is not None and final.date() < days[-1]:
        problems.append(
            _(
                "%(first)s is not before %(second)s",
                first=_("last interview day"),
                second=_("final result"),
            )
        )
    return problems


def _quorum(facts: ProcedureFacts, _now: datetime) -> list[str]:
    if facts.quorum > len(facts.scorers):
        return [
            _(
                "quorum %(quorum)s, committee members who score: %(scorers)s",
                quorum=facts.quorum,
                scorers=len(facts.scorers),
            )
        ]
    return []


def _retention(facts: ProcedureFacts, _now: datetime) -> bool:
    return not facts.retention_weeks


def _role_overlap(facts: ProcedureFacts, _now: datetime) -> list[str]:
    return list(facts.role_overlaps)


def _no_second_admin(facts: ProcedureFacts, _now: datetime) -> list[str] | bool:
    if facts.without_free_admin:
        return [
            _("no admin without a conflict for %(reference)s", reference=reference)
            for reference in facts.without_free_admin
        ]
    # Only an admin who also holds a role here can have a conflict with an applicant.
    return facts.admins_on_committee > 0 and facts.admins_on_committee >= facts.organisation_admins


def _capacities(facts: ProcedureFacts, _now: datetime) -> list[str]:
    if not facts.institutions:
        return []
    total = sum(capacity for _code, capacity in facts.institutions)
    if total == facts.places:
        return []
    return [
        _(
            "the institutions offer %(total)s places, the procedure %(places)s",
            total=total,
            places=facts.places,
        )
    ]


def _preference_deadline(facts: ProcedureFacts, _now: datetime) -> list[str]:
    if len(facts.institutions) < 2:
        return []
    if facts.preference_deadline is None:
        return [_("no preference deadline")]
    if facts.final_result_at and facts.preference_deadline <= facts.final_result_at:
        return [
            _(
                "%(first)s is not before %(second)s",
                first=_("final result"),
                second=_("preference deadline"),
            )
        ]
    return []


def _english_missing(facts: ProcedureFacts, _now: datetime) -> list[str]:
    """Every published text that has no English version, so English visitors read it in
    Dutch (with a note that says so)."""
    missing = []
    if facts.description.strip() and not facts.description_en.strip():
        missing.append(_("About the training"))
    if facts.method.strip() and not facts.method_en.strip():
        missing.append(_("Method"))
    for requirement in facts.requirements:
        if requirement.text.strip() and not requirement.text_en.strip():
            missing.append(_("Requirement: %(text)s", text=requirement.text))
        elif requirement.rationale.strip() and not requirement.rationale_en.strip():
            missing.append(_("Why it is asked: %(text)s", text=requirement.text))
    for plus in facts.pluses:
        if plus.description.strip() and not plus.description_en.strip():
            missing.append(_("Plus: %(text)s", text=plus.description))
    return missing


Q_PLACEMENT = N_(
    "Everyone found suitable is taken into the placement procedure: a (computer) match on "
    "the basis of the stated preferred place and the available places."
)
Q_WHAT_AND_WHY = N_(
    "This concerns both the selection criteria (what is the framework and why?) and the "
    "method used to assess trainees against them."
)
Q_MATRIX = N_(
    "That can be done, for example, by working with a standard form or selection matrix "
    "combined with a scoring system."
)
Q_OBSERVER = N_(
    "Invite an independent controller to every application round, for example a doctor of "
    "another specialty or profile from another region who has no personal involvement with "
    "the members of the committee or with the applicants."
)
Q_PLUS = N_(
    "Anios experience, a PhD or experience in a specific training region can be included "
    "as a plus, but preferably not as hard requirements."
)
Q_LOTTERY = N_(
    "Choose a lottery system when there are several suitable, equivalent candidates for "
    "fewer places."
)
Q_MIX = N_(
    "That means the committee holds a mix of people with different functions (programme "
    "director, staff doctor, head of department, trainee, nurse, etc.), age and cultural and "
    "social background."
)
Q_TRAINING = N_(
    "For a fair selection process it makes sense to train all participants of the committee."
)
Q_FINDABLE = N_(
    "Make the application procedure transparent and complete for all candidates, and make "
    "sure it can be found on the website in time."
)
Q_UNIFORM = N_(
    "The assessment uses a uniform matrix, which every committee member fills in "
    "individually and which is then discussed together."
)
Q_LETTER = N_(
    "Describe the selection criteria for the letter round (e.g. experience within a profile, "
    "insight into the specialty, social involvement, what you have done since your medical "
    "degree, etc.)"
)
Q_RETENTION = N_(
    "Applicant data is kept no longer than the published retention period after the "
    "procedure ends: four weeks, or up to a year with the applicant's consent."
)

CHECKS: tuple[Check, ...] = (
    Check(
        "rationale_missing",
        Severity.ERROR,
        lambda: _("A criterion has no rationale"),
        "3.1",
        lambda: _(Q_WHAT_AND_WHY),
        _rationale_missing,
    ),
    Check(
        "no_minimum_requirements",
        Severity.ERROR,
        lambda: _("No minimum requirements for the letter round"),
        "3.3",
        lambda: _(Q_LETTER),
        _no_requirements,
    ),
    Check(
        "no_method",
        Severity.ERROR,
        lambda: _("The assessment method is not described"),
        "3.1",
        lambda: _(Q_WHAT_AND_WHY),
        _no_method,
    ),
    Check(
        "no_rubric",
        Severity.ERROR,
        lambda: _("No interview matrix is pinned"),
        "3.2",
        lambda: _(Q_MATRIX),
        _no_rubric,
    ),
    Check(
        "no_observer",
        Severity.ERROR,
        lambda: _("No independent observer"),
        "3.2",
        lambda: _(Q_OBSERVER),
        _no_observer,
    ),
    Check(
        "observer_tie",
        Severity.ERROR,
        lambda: _("The observer has declared a personal tie"),
        "3.2",
        lambda: _(Q_OBSERVER),
        _observer_tie,
    ),
    Check(
        "hard_requirement_plus",
        Severity.WARNING,
        lambda: _("A PhD, anios or regional experience is a hard requirement"),
        "3.3",
        lambda: _(Q_PLUS),
        _hard_gate,
    ),
    Check(
        "no_lottery_rule",
        Severity.ERROR,
        lambda: _("No ranking and lottery rule"),
        "3.3",
        lambda: _(Q_LOTTERY),
        _no_lottery_rule,
    ),
    Check(
        "no_aios",
        Severity.WARNING,
        lambda: _("No trainee (aios) on the committee"),
        "3.2",
        lambda: _(Q_MIX),
        _no_aios,
    ),
    Check(
        "panel_without_aios",
        Severity.WARNING,
        lambda: _("A panel has no trainee (aios)"),
        "3.2",
        lambda: _(Q_MIX),
        _panel_without_aios,
    ),
    Check(
        "one_function",
        Severity.WARNING,
        lambda: _("All committee members have the same function"),
        "3.2",
        lambda: _(Q_MIX),
        _one_function,
    ),
    Check(
        "untrained_members",
        Severity.WARNING,
        lambda: _("Members without selection training"),
        "3.2",
        lambda: _(Q_TRAINING),
        _untrained,
    ),
    Check(
        "timeline",
        Severity.ERROR,
        lambda: _("The timeline is incomplete, in the past or out of order"),
        "3.1",
        lambda: _(Q_FINDABLE),
        _timeline,
    ),
    Check(
        "quorum_too_large",
        Severity.ERROR,
        lambda: _("The quorum is larger than the committee"),
        "3.2",
        lambda: _(Q_UNIFORM),
        _quorum,
    ),
    Check(
        "role_overlap",
        Severity.ERROR,
        lambda: _("An applicant is also on the committee or the observer"),
        "3.2",
        lambda: _(Q_OBSERVER),
        _role_overlap,
    ),
    Check(
        "no_second_admin",
        Severity.WARNING,
        lambda: _(
            "No second admin to take over when an admin has a conflict of interest with an "
            "applicant"
        ),
        "3.2",
        lambda: _(Q_OBSERVER),
        _no_second_admin,
    ),
    Check(
        "capacities",
        Severity.ERROR,
        lambda: _("The places per institution do not add up to the places"),
        "3.3",
        lambda: _(Q_PLACEMENT),
        _capacities,
    ),
    Check(
        "preference_deadline",
        Severity.ERROR,
        lambda: _("No preference deadline after the final result"),
        "3.3",
        lambda: _(Q_PLACEMENT),
        _preference_deadline,
    ),
    Check(
        "english_missing",
        Severity.WARNING,
        lambda: _("A published text has no English version"),
        "3.1",
        lambda: _(Q_FINDABLE),
        _english_missing,
    ),
    Check(
        "retention_missing",
        Severity.ERROR,
        lambda: _("No retention period"),
        "privacy",
        lambda: _(Q_RETENTION),
        _retention,
    ),
)


def run(facts: ProcedureFacts, now: datetime) -> list[Finding]:
    findings = []
    for check in CHECKS:
        outcome = check.run(facts, now)
        if outcome:
            details = tuple(outcome) if isinstance(outcome, list) else ()
            findings.append(
                Finding(
                    check=check.name,
                    severity=check.severity,
                    title=check.title(),
                    source=check.source,
                    quote=check.quote(),
                    details=details,
                )
            )
    return findings


def errors(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.severity == Severity.ERROR]
