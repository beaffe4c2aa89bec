"""The voluntary, separately kept diversity questions: never shown to the committee, only
reported in groups large enough not to identify anyone."""

from __future__ import annotations

from sqlmodel import Session

from app.applications.models import (
    Application,
    DiversityResponse,
)
from app.applications.queries import diversity_response
from app.errors import InvalidInput
from app.i18n import gettext as _

DIVERSITY_OPTIONS = {
    "gender": ("woman", "man", "other", "rather_not"),
    "migration_background": ("none", "western", "non_western", "rather_not"),
    "first_generation": ("yes", "no", "rather_not"),
}


def save_diversity(session: Session, *, application: Application, answers: dict[str, str]) -> None:
    """Voluntary: every answer may be left empty. Not in the audit chain (no diversity data)."""
    for question, answer in answers.items():
        if answer and answer not in DIVERSITY_OPTIONS.get(question, ()):
            raise InvalidInput(
                _("Choose one of the answers, or leave the question open."), field=question
            )
    response = diversity_response(session, application)
    if response is None:
        assert application.id is not None
        response = DiversityResponse(
            procedure_id=application.procedure_id, application_id=application.id
        )
        session.add(response)
    response.gender = answers.get("gender", "")
    response.migration_background = answers.get("migration_background", "")
    response.first_generation = answers.get("first_generation", "")
    session.commit()
