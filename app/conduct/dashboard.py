"""The applicant's overview: each of their applications with its stages and the next date,
read from every phase (the letter round, the results, the placement) once per application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlmodel import Session

from app.accounts.models import User
from app.applications import queries as application_queries
from app.applications.models import Application
from app.conduct import stages
from app.db import utcnow
from app.lottery import results
from app.placement import preferences
from app.placement import rounds as placement_rounds
from app.procedures import queries
from app.procedures.models import Procedure


@dataclass(frozen=True)
class Entry:
    application: Application
    procedure: Procedure
    progress: stages.Progress


def facts_of(
    session: Session, application: Application, procedure: Procedure, now: datetime
) -> stages.ApplicationFacts:
    """What the stages read of one application, from the procedure's own tables and the
    later phases' services (the same ones the application's page asks)."""
    phase = queries.phase_now(procedure, now)
    result = results.applicant_result(session, procedure, application)
    cluster = preferences.is_cluster(queries.institutions(session, procedure))
    choice = preferences.choice_for(session, procedure, application, now) if cluster else None
    mine = placement_rounds.mine(session, procedure, application, now) if cluster else None
    return stages.ApplicationFacts(
        reference=application.reference,
        procedure=procedure.reference,
        status=application.status,
        phase=phase.value,
        opens_at=procedure.opens_at,
        closes_at=procedure.closes_at,
        letter_round_result_at=procedure.letter_round_result_at,
        interview_days=tuple(date.fromisoformat(day) for day in procedure.interview_days),
        final_result_at=procedure.final_result_at,
        preference_deadline=procedure.preference_deadline,
        submitted_at=application.submitted_at,
        withdrawn_at=application.withdrawn_at,
        letter_round_outcome=application.letter_round_outcome,
        standing=result.standing if result else None,
        reserve_position=result.reserve_position if result else None,
        cluster=cluster,
        preferences=stages.Preferences(choice.open, choice.fixed, len(choice.codes))
        if choice
        else None,
        placement=_placement(mine) if mine else None,
    )


def _placement(mine: placement_rounds.MyPlacement) -> stages.Placement:
    place = mine.institution
    return stages.Placement(
        round=mine.round.number,
        offer=mine.offer.status if mine.offer else None,
        place=(place.name + (f", {place.city}" if place.city else "")) if place else "",
        answers_due=mine.round.answers_due,
        can_answer=mine.open,
        withdrawn=mine.withdrawn,
        unplaced=mine.unplaced,
        closed=mine.closed,
    )


def overview(
    session: Session,
    user: User,
    *,
    format_time: Callable[[datetime], str],
    format_date: Callable[[date], str],
    now: datetime | None = None,
) -> list[Entry]:
    """Every application of the user, the newest first, with where it stands."""
    moment = now or utcnow()
    return [
        Entry(
            application,
            procedure,
            stages.progress(
                facts_of(session, application, procedure, moment), moment, format_time, format_date
            ),
        )
        for application, procedure in application_queries.of_applicant(session, user)
    ]
