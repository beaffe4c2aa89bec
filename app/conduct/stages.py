"""Where one application stands: its five stages (sent, letter round, interview, outcome,
placement), what each says, what happens next and when.

Pure code over plain facts (`ApplicationFacts`), so every state an applicant can be in is
tested with values: a draft, a withdrawal, a deadline missed, not invited, not suitable,
placed, on the reserve list, and a cluster's placement from the preferences to the offer.
The facts are gathered by `app.conduct.dashboard`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from app.forms import AMSTERDAM
from app.i18n import gettext as _

# The phases in order, as `app.procedures.vocabulary.Phase` spells them.
PHASES = (
    "draft",
    "published",
    "open",
    "closed",
    "letter_round",
    "interviews",
    "deliberation",
    "results",
    "archived",
)


class State(StrEnum):
    DONE = "done"  # happened, and it went on
    CURRENT = "current"  # where the application is now
    UPCOMING = "upcoming"  # still to come
    ENDED = "ended"  # the application stopped here (withdrawn, not invited, not suitable, ...)
    SKIPPED = "skipped"  # not reached, because an earlier stage ended it


@dataclass(frozen=True)
class Preferences:
    """A suitable candidate's list in a cluster (`app.placement.preferences.Choice`)."""

    open: bool
    fixed: bool
    listed: int


@dataclass(frozen=True)
class Placement:
    """The candidate's part of the last published placement round
    (`app.placement.rounds.MyPlacement`)."""

    round: int
    offer: str | None  # open, accepted, declined or lapsed; None without an offer
    place: str  # the offered institution, "name, city"
    answers_due: datetime | None
    can_answer: bool
    withdrawn: bool
    unplaced: bool
    closed: bool


@dataclass(frozen=True)
class ApplicationFacts:
    reference: str
    procedure: str  # the procedure's reference
    status: str  # draft, submitted, withdrawn
    phase: str  # the procedure's phase by the clock
    opens_at: datetime | None = None
    closes_at: datetime | None = None
    letter_round_result_at: datetime | None = None
    interview_days: tuple[date, ...] = ()
    final_result_at: datetime | None = None
    preference_deadline: datetime | None = None
    submitted_at: datetime | None = None
    withdrawn_at: datetime | None = None
    letter_round_outcome: str | None = None  # invited or not_invited, once published
    # The published result: placed, reserve, declined, not_placed or not_suitable.
    standing: str | None = None
    reserve_position: int | None = None
    cluster: bool = False  # a placement over two institutions or more
    preferences: Preferences | None = None
    placement: Placement | None = None

    def reached(self, phase: str) -> bool:
        return PHASES.index(self.phase) >= PHASES.index(phase)


@dataclass(frozen=True)
class Stage:
    key: str  # application, letter_round, interview, outcome, placement
    name: str
    state: State
    text: str


@dataclass(frozen=True)
class Next:
    """The next date that matters to the applicant."""

    label: str
    moment: datetime | date

    @property
    def day(self) -> bool:
        """A whole day (an interview day) rather than a moment."""
        return not isinstance(self.moment, datetime)


@dataclass(frozen=True)
class Action:
    label: str
    href: str


@dataclass(frozen=True)
class Progress:
    stages: tuple[Stage, ...]
    next: Next | None
    action: Action | None

    @property
    def now(self) -> Stage:
        """The stage that says where the application stands: the current one, else the
        one where it ended, else the last one that happened."""
        for state in (State.CURRENT, State.ENDED):
            found = [s for s in self.stages if s.state == state]
            if found:
                return found[0]
        done = [s for s in self.stages if s.state == State.DONE]
        return done[-1] if done else self.stages[0]

    @property
    def ended(self) -> bool:
        return any(s.state == State.ENDED for s in self.stages)


def state_label(state: str) -> str:
    """What a stage's marker says, for those who do not see its shape and colour."""
    return {
        State.DONE: _("done"),
        State.CURRENT: _("now"),
        State.UPCOMING: _("still to come"),
        State.ENDED: _("ended here"),
        State.SKIPPED: _("not reached"),
    }.get(State(state), state)


Format = Callable[[datetime], str]
FormatDay = Callable[[date], str]


def progress(
    facts: ApplicationFacts,
    now: datetime,
    format_time: Format = str,
    format_date: FormatDay = str,
) -> Progress:
    today = now.astimezone(AMSTERDAM).date()
    days = ", ".join(format_date(day) for day in facts.interview_days)
    stages = [
        _application(facts, now, format_time),
        _letter_round(facts, now, format_time),
        _interview(facts, today, days),
        _outcome(facts, now, format_time),
        _placement(facts, format_time),
    ]
    # Once a stage ends the application, the stages after it are not reached.
    for index, stage in enumerate(stages):
        if stage.state == State.ENDED:
            stages[index + 1 :] = [
                Stage(s.key, s.name, State.SKIPPED, "") for s in stages[index + 1 :]
            ]
            break
    return Progress(tuple(stages), _next(facts, now, today), _action(facts))


def _when(
    moment: datetime | None,
    now: datetime,
    format_time: Format,
    planned: str,
    late: str,
    unknown: str,
) -> str:
    """A sentence about a planned moment: ahead, passed without the step, or not known."""
    if moment is None:
        return unknown
    return (planned if moment > now else late) % {"when": format_time(moment)}


def _application(facts: ApplicationFacts, now: datetime, format_time: Format) -> Stage:
    name = _("Application")
    sent = format_time(facts.submitted_at) if facts.submitted_at else ""
    if facts.status == "withdrawn":
        when = format_time(facts.withdrawn_at) if facts.withdrawn_at else ""
        return Stage(
            "application",
            name,
            State.ENDED,
            _("You withdrew your application on %(when)s: it no longer takes part.", when=when),
        )
    if facts.status == "submitted":
        return Stage("application", name, State.DONE, _("Sent on %(when)s.", when=sent))
    if not facts.reached("open"):
        text = (
            _("A draft. Applications open on %(when)s.", when=format_time(facts.opens_at))
            if facts.opens_at
            else _("A draft. The opening date is not published yet.")
        )
        return Stage("application", name, State.CURRENT, text)
    if facts.phase == "open":
        text = (
            _(
                "A draft, not sent yet. Send it before the deadline: %(when)s.",
                when=format_time(facts.closes_at),
            )
            if facts.closes_at
            else _("A draft, not sent yet.")
        )
        return Stage("application", name, State.CURRENT, text)
    return Stage(
        "application",
        name,
        State.ENDED,
        _(
            "Not sent before the deadline (%(when)s): the draft does not take part.",
            when=format_time(facts.closes_at) if facts.closes_at else "—",
        ),
    )


def _letter_round(facts: ApplicationFacts, now: datetime, format_time: Format) -> Stage:
    name = _("Letter round")
    if facts.letter_round_outcome == "invited":
        return Stage(
            "letter_round",
            name,
            State.DONE,
            _("You meet every minimum requirement and are invited to an interview."),
        )
    if facts.letter_round_outcome == "not_invited":
        return Stage(
            "letter_round",
            name,
            State.ENDED,
            _(
                "You are not invited to an interview. Your application's page says "
                "which requirement was not met, and why."
            ),
        )
    text = _when(
        facts.letter_round_result_at,
        now,
        format_time,
        _(
            "Every application is checked against the published minimum requirements; "
            "everyone who meets them is invited. The result is expected on %(when)s."
        ),
        _("The result was planned for %(when)s and is not published yet."),
        _(
            "Every application is checked against the published minimum requirements; "
            "everyone who meets them is invited."
        ),
    )
    current = facts.status == "submitted" and facts.reached("closed")
    return Stage("letter_round", name, State.CURRENT if current else State.UPCOMING, text)


def _interview(facts: ApplicationFacts, today: date, days: str) -> Stage:
    name = _("Interview")
    invited = facts.letter_round_outcome == "invited"
    if invited and facts.reached("deliberation"):
        text = _("The interviews were held on %(days)s.", days=days) if days else ""
        return Stage("interview", name, State.DONE, text)
    if not days:
        return Stage(
            "interview", name, State.UPCOMING, _("The interview days are not published yet.")
        )
    if invited:
        return Stage(
            "interview",
            name,
            State.CURRENT,
            _(
                "Interview days: %(days)s. Each committee member scores you on the "
                "published matrix, with a reason per score.",
                days=days,
            ),
        )
    return Stage("interview", name, State.UPCOMING, _("Interview days: %(days)s.", days=days))


def _outcome(facts: ApplicationFacts, now: datetime, format_time: Format) -> Stage:
    name = _("Outcome")
    if facts.standing == "not_suitable":
        return Stage(
            "outcome",
            name,
            State.ENDED,
            _(
                "The committee found you not suitable in this round. Your application's "
                "page shows your score per criterion with the committee's reasons."
            ),
        )
    if facts.standing is not None:
        return Stage(
            "outcome",
            name,
            State.DONE,
            _(
                "The committee found you suitable. Your application's page shows your "
                "score per criterion with the committee's reasons."
            ),
        )
    current = facts.letter_round_outcome == "invited" and facts.phase == "deliberation"
    if not current:
        text = _when(
            facts.final_result_at,
            now,
            format_time,
            _("The final result is expected on %(when)s."),
            _("The result was planned for %(when)s and is not published yet."),
            "",
        )
        return Stage("outcome", name, State.UPCOMING, text)
    text = _when(
        facts.final_result_at,
        now,
        format_time,
        _(
            "The committee discusses the scores together and records the outcome. The result "
            "is expected on %(when)s."
        ),
        _("The result was planned for %(when)s and is not published yet."),
        _("The committee discusses the scores together and records the outcome."),
    )
    return Stage("outcome", name, State.CURRENT, text)


def _placement(facts: ApplicationFacts, format_time: Format) -> Stage:
    name = _("Placement")
    if facts.cluster:
        return _cluster_placement(facts, name, format_time)
    standing = facts.standing
    if standing == "placed":
        return Stage("placement", name, State.DONE, _("You have a training place."))
    if standing == "reserve":
        return Stage(
            "placement",
            name,
            State.CURRENT,
            _(
                "You are number %(position)s on the reserve list: if a place is "
                "declined, it is offered in that order.",
                position=facts.reserve_position,
            ),
        )
    if standing == "declined":
        return Stage("placement", name, State.ENDED, _("You were offered a place and declined it."))
    if standing == "not_placed":
        return Stage(
            "placement",
            name,
            State.ENDED,
            _("You are found suitable, but there is no place for you in this round."),
        )
    return Stage(
        "placement",
        name,
        State.UPCOMING,
        # Said where it is near: once the committee deliberates.
        _(
            "The suitable candidates are ranked by the published rule; where equally "
            "suitable candidates compete for fewer places, a verifiable lottery "
            "decides."
        )
        if facts.phase == "deliberation" and facts.letter_round_outcome == "invited"
        else "",
    )


def _cluster_placement(facts: ApplicationFacts, name: str, format_time: Format) -> Stage:
    placement, preferences = facts.placement, facts.preferences
    if placement is None:
        if facts.standing is None or preferences is None:
            return Stage(
                "placement",
                name,
                State.UPCOMING,
                _(
                    "Everyone found suitable puts the institutions in order of "
                    "preference; a published match then assigns the places."
                ),
            )
        if preferences.open:
            text = _(
                "Put the institutions where you want to train in order before %(when)s.",
                when=format_time(facts.preference_deadline) if facts.preference_deadline else "—",
            )
            if not preferences.listed:
                text += " " + _("Your list is empty as yet: as it stands you want no place.")
            return Stage("placement", name, State.CURRENT, text)
        if facts.preference_deadline is None:
            return Stage(
                "placement",
                name,
                State.CURRENT,
                _(
                    "The preference deadline is not published yet: you can put the "
                    "institutions in order once it is."
                ),
            )
        return Stage(
            "placement",
            name,
            State.CURRENT,
            _(
                "Your list of preferences is fixed. The order of priority and the first "
                "round of the placement follow."
            ),
        )
    place = placement.place
    if placement.withdrawn:
        return Stage(
            "placement",
            name,
            State.ENDED,
            _(
                "You declined the place offered to you (or did not answer in time) and "
                "no longer take part in the placement."
            ),
        )
    if placement.offer == "open" and placement.can_answer:
        due = format_time(placement.answers_due) if placement.answers_due else "—"
        return Stage(
            "placement",
            name,
            State.CURRENT,
            _("You are offered a training place at %(place)s.", place=place)
            + " "
            + _(
                "Answer before %(due)s. An offer not answered by then counts as declined.", due=due
            ),
        )
    if placement.offer == "accepted":
        if placement.closed:
            return Stage(
                "placement", name, State.DONE, _("Your training place: %(place)s.", place=place)
            )
        return Stage(
            "placement",
            name,
            State.DONE,
            _(
                "You accepted a place at %(place)s. If a place higher on your own list "
                "frees up in a later round, you move up to it; you never move down.",
                place=place,
            ),
        )
    if placement.offer == "declined":
        return Stage(
            "placement", name, State.ENDED, _("You declined the place at %(place)s.", place=place)
        )
    if placement.offer in ("open", "lapsed"):
        return Stage(
            "placement",
            name,
            State.ENDED,
            _(
                "You did not answer the offer of %(place)s in time: it counts as declined.",
                place=place,
            ),
        )
    if placement.unplaced and placement.closed:
        return Stage(
            "placement",
            name,
            State.ENDED,
            _("You were found suitable, but no place on your list remained for you."),
        )
    return Stage(
        "placement",
        name,
        State.CURRENT,
        _(
            "There is no place for you in this round. If a candidate before you "
            "declines, a later round may still place you."
        ),
    )


def _next(facts: ApplicationFacts, now: datetime, today: date) -> Next | None:
    """The first date ahead that matters for this application where it stands."""
    if facts.status == "withdrawn":
        return None
    candidates: list[tuple[str, datetime | date | None]] = []
    if facts.status == "draft":
        candidates = [
            (_("Applications open"), facts.opens_at),
            (_("Deadline"), facts.closes_at),
        ]
    elif facts.letter_round_outcome is None:
        candidates = [(_("Letter-round result"), facts.letter_round_result_at)]
    elif facts.letter_round_outcome == "invited" and facts.standing is None:
        candidates = [(_("Interview day"), day) for day in facts.interview_days]
        candidates.append((_("Final result"), facts.final_result_at))
    elif facts.cluster and facts.standing not in (None, "not_suitable"):
        placement, preferences = facts.placement, facts.preferences
        if placement is not None and placement.offer == "open" and placement.can_answer:
            candidates = [(_("Answer the offer by"), placement.answers_due)]
        elif placement is None and preferences is not None and preferences.open:
            candidates = [(_("Preference deadline"), facts.preference_deadline)]
    for label, moment in candidates:
        if isinstance(moment, datetime) and moment > now:
            return Next(label, moment)
        if moment is not None and not isinstance(moment, datetime) and moment >= today:
            return Next(label, moment)
    return None


def _action(facts: ApplicationFacts) -> Action | None:
    """The one thing the applicant can do now, if there is one."""
    page = f"/applications/{facts.reference}"
    if facts.status == "withdrawn":
        return None
    if facts.status == "draft" and facts.phase == "open":
        return Action(_("Continue with your application"), f"/procedures/{facts.procedure}/apply")
    placement, preferences = facts.placement, facts.preferences
    if placement is not None and placement.offer == "open" and placement.can_answer:
        return Action(_("Answer the offer"), f"{page}#placement")
    if placement is None and preferences is not None and preferences.open:
        return Action(_("Put the institutions in order"), f"{page}#preferences")
    if facts.standing is not None and facts.status == "submitted":
        return Action(_("Read your result"), f"{page}#result")
    if facts.letter_round_outcome == "not_invited":
        return Action(_("Read why"), page)
    return None
