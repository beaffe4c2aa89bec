"""The facts of a procedure across its phases, and the guideline check over them: the
procedure's own facts (`app.procedures.facts`) with what the letter round, the scoring and
the lottery add."""

from __future__ import annotations

from dataclasses import replace

from sqlmodel import Session

from app.applications import letter_round
from app.db import utcnow
from app.lottery import results
from app.procedures import checks
from app.procedures.facts import procedure_facts
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from app.scoring import round as scoring_round


def facts_for(
    session: Session, procedure: Procedure, round_: scoring_round.Round | None = None
) -> checks.ProcedureFacts:
    """Everything the guideline check and the life cycle's steps look at; the round (loaded
    here unless the caller has it) is handed to the lottery's checks."""
    facts = procedure_facts(session, procedure)
    if procedure.rubric_content is None:
        return replace(facts, letter_round_unpublished=letter_round.unpublished(session, procedure))
    round_ = round_ or scoring_round.load_round(session, procedure)
    scoring_facts = scoring_round.round_facts_of(round_)
    drawing = procedure.phase == Phase.DELIBERATION and not scoring_facts.outcomes_missing
    standings = results.Standings.load(session, procedure, round_) if drawing else None
    return replace(
        facts,
        letter_round_unpublished=letter_round.unpublished(session, procedure),
        short_of_quorum=scoring_facts.short_of_quorum,
        sheets_missing=scoring_facts.sheets_missing,
        outcomes_missing=scoring_facts.outcomes_missing,
        draw_missing=results.draw_missing(
            session, procedure, scoring_facts.outcomes_missing, standings
        )
        if drawing
        else False,
        draw_problems=tuple(results.draw_problems(session, procedure, standings))
        if drawing
        else (),
    )


def guideline_check(session: Session, procedure: Procedure) -> list[checks.Finding]:
    return checks.run(facts_for(session, procedure), utcnow())
