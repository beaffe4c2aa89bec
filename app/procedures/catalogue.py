"""The public catalogue of procedures, with its filters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import case, func
from sqlmodel import Session, col

from app import permissions
from app.db import utcnow
from app.procedures import checks
from app.procedures.models import Organisation, Procedure
from app.procedures.queries import phase_now_column
from app.procedures.vocabulary import Phase

# The public catalogue ------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueFilter:
    text: str = ""
    specialty: str = ""
    region: str = ""
    status: str = ""
    closes_before: date | None = None


def catalogue(
    session: Session, query: CatalogueFilter, now: datetime | None = None
) -> list[tuple[Procedure, Organisation]]:
    statement = (
        permissions.public_procedures()
        .join(Organisation, col(Organisation.id) == col(Procedure.organisation_id))
        .add_columns(Organisation)
    )
    # contains(..., autoescape=True): a typed % or _ is a character, not a LIKE wildcard.
    if words := query.text.strip().lower():
        statement = statement.where(
            func.lower(Procedure.title).contains(words, autoescape=True)
            | func.lower(Procedure.specialty).contains(words, autoescape=True)
            | func.lower(Procedure.region).contains(words, autoescape=True)
            | func.lower(Organisation.name).contains(words, autoescape=True)
            | func.lower(Procedure.reference).contains(words, autoescape=True)
        )
    if query.specialty:
        statement = statement.where(col(Procedure.specialty) == query.specialty)
    if region := query.region.strip().lower():
        statement = statement.where(func.lower(Procedure.region).contains(region, autoescape=True))
    phase = phase_now_column(now or utcnow())
    if query.status:
        statement = statement.where(phase == query.status)
    if query.closes_before:
        limit = datetime.combine(query.closes_before, datetime.max.time(), tzinfo=UTC)
        statement = statement.where(col(Procedure.closes_at) <= limit)
    statement = statement.order_by(
        case((phase == Phase.OPEN, 0), (phase == Phase.PUBLISHED, 1), else_=2),
        col(Procedure.closes_at).desc(),
    )
    return [
        (procedure, organisation) for procedure, organisation in session.execute(statement).all()
    ]


def specialties(session: Session) -> list[str]:
    rows = session.execute(
        permissions.public_procedures().with_only_columns(col(Procedure.specialty)).distinct()
    ).scalars()
    return sorted(set(rows))


def published_findings(procedure: Procedure) -> list[checks.Finding]:
    """The warnings the guideline check gave at publication, as published."""
    by_name = {check.name: check for check in checks.CHECKS}
    return [
        checks.Finding(
            check=name,
            severity=by_name[name].severity,
            title=by_name[name].title(),
            source=by_name[name].source,
            quote=by_name[name].quote(),
        )
        for name in procedure.published_warnings or []
        if name in by_name
    ]
