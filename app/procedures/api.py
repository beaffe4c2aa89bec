"""Open data for other websites: the catalogue and each procedure as JSON, and the
deadlines and interview days as an iCalendar feed. Only what the public page shows."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from icalendar import Calendar, Event
from pydantic import BaseModel, Field

from app import permissions
from app.deps import CurrentPrincipal, DbSession
from app.downloads import attachment
from app.procedures import catalogue as procedure_catalogue
from app.procedures import queries
from app.procedures.models import Organisation, Procedure
from app.procedures.vocabulary import Phase

router = APIRouter(prefix="", tags=["open data"])


class ProcedureSummary(BaseModel):
    reference: str = Field(examples=["ANE-UTR-2027-1"])
    title: str
    organisation: str
    specialty: str
    region: str
    places: int
    status: Phase
    opens_at: datetime | None
    closes_at: datetime | None
    url: str


EMPTY_MEANS = "the English version; empty when there is none (the Dutch is then shown)"


class Requirement(BaseModel):
    kind: str = Field(description="minimum (a gate in the letter round) or criterion")
    text: str
    rationale: str
    text_en: str = Field(description=EMPTY_MEANS)
    rationale_en: str = Field(description=EMPTY_MEANS)


class Plus(BaseModel):
    kind: str = Field(description="phd, anios, regional, languages or other")
    description: str
    description_en: str = Field(description=EMPTY_MEANS)


class CommitteeMember(BaseModel):
    name: str
    role: str = Field(description="member, chair or observer")
    function: str = Field(description="opleider, staff, aios, nurse, other; empty for the observer")


class Correction(BaseModel):
    at: datetime
    subject: str
    text: str
    justification: str


class Warning(BaseModel):
    check: str
    title: str
    guideline: str


class Rubric(BaseModel):
    id: str
    version: int
    content_hash: str = Field(description="SHA-256 of the canonical JSON of the content")
    content: dict[str, Any]


class ProcedureDetail(ProcedureSummary):
    description: str
    description_en: str = Field(description=EMPTY_MEANS)
    method: str
    method_en: str = Field(description=EMPTY_MEANS)
    letter_round_result_at: datetime | None
    interview_days: list[date]
    final_result_at: datetime | None
    quorum: int
    ranking_rule: str
    retention_weeks: int | None
    requirements: list[Requirement]
    pluses: list[Plus]
    rubric: Rubric | None
    committee: list[CommitteeMember]
    guideline_warnings: list[Warning]
    corrections: list[Correction]


def _summary(request: Request, procedure: Procedure, organisation: Organisation) -> dict[str, Any]:
    return {
        "reference": procedure.reference,
        "title": procedure.title,
        "organisation": organisation.name,
        "specialty": procedure.specialty,
        "region": procedure.region,
        "places": procedure.places,
        "status": queries.phase_now(procedure).value,
        "opens_at": procedure.opens_at,
        "closes_at": procedure.closes_at,
        "url": str(request.url_for("procedure", reference=procedure.reference)),
    }


@router.get("/api/procedures", response_model=list[ProcedureSummary], summary="The catalogue")
def list_procedures(
    request: Request,
    session: DbSession,
    q: Annotated[str, Query(max_length=200, description="words in title, region, ...")] = "",
    specialty: Annotated[str, Query(max_length=100)] = "",
    region: Annotated[str, Query(max_length=200)] = "",
    status: Annotated[Phase | None, Query()] = None,
    closes_before: Annotated[date | None, Query()] = None,
) -> list[dict[str, Any]]:
    """Every published procedure, filtered like the catalogue page."""
    query = procedure_catalogue.CatalogueFilter(
        text=q,
        specialty=specialty,
        region=region,
        status=status.value if status else "",
        closes_before=closes_before,
    )
    return [_summary(request, p, o) for p, o in procedure_catalogue.catalogue(session, query)]


@router.get(
    "/api/procedures/{reference}",
    response_model=ProcedureDetail,
    summary="One procedure, with everything its public page shows",
    responses={404: {"description": "No published procedure with this reference"}},
)
def get_procedure(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> dict[str, Any]:
    procedure = queries.get_procedure(session, reference)
    permissions.require_visible(permissions.can_read_open_data(procedure))
    organisation = session.get(Organisation, procedure.organisation_id)
    assert organisation is not None
    rubric = queries.pinned_rubric(procedure)
    return _summary(request, procedure, organisation) | {
        "description": procedure.description,
        "description_en": procedure.description_en,
        "method": procedure.method,
        "method_en": procedure.method_en,
        "letter_round_result_at": procedure.letter_round_result_at,
        "interview_days": procedure.interview_days,
        "final_result_at": procedure.final_result_at,
        "quorum": procedure.quorum,
        "ranking_rule": procedure.ranking_rule,
        "retention_weeks": procedure.retention_weeks,
        "requirements": [
            {
                "kind": r.kind,
                "text": r.text,
                "rationale": r.rationale,
                "text_en": r.text_en,
                "rationale_en": r.rationale_en,
            }
            for r in queries.requirements(session, procedure)
        ],
        "pluses": [
            {"kind": p.kind, "description": p.description, "description_en": p.description_en}
            for p in queries.pluses(session, procedure)
        ],
        "rubric": {
            "id": rubric.id,
            "version": rubric.version,
            "content_hash": procedure.rubric_hash,
            "content": procedure.rubric_content,
        }
        if rubric
        else None,
        "committee": [
            {"name": user.name, "role": member.role, "function": member.function}
            for member, user in queries.members(session, procedure)
        ],
        "guideline_warnings": [
            {"check": f.check, "title": f.title, "guideline": f.quote}
            for f in procedure_catalogue.published_findings(procedure)
        ],
        "corrections": [
            {
                "at": c.created_at,
                "subject": c.subject,
                "text": c.text,
                "justification": c.justification,
            }
            for c in queries.corrections(session, procedure)
        ],
    }


def _calendar(procedures: list[tuple[Procedure, Organisation]], base_url: str) -> bytes:
    calendar = Calendar()
    calendar.add("prodid", "-//Selectieplatform//NL")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", "Selectieprocedures")
    stamp = datetime.now(UTC)
    for procedure, organisation in procedures:
        url = f"{base_url}/procedures/{procedure.reference}"
        moments: list[tuple[str, datetime | date | None]] = [
            ("opens", procedure.opens_at),
            ("closes", procedure.closes_at),
            ("letter-round-result", procedure.letter_round_result_at),
            *[(f"interview-{day}", date.fromisoformat(day)) for day in procedure.interview_days],
            ("final-result", procedure.final_result_at),
        ]
        names = {
            "opens": "Sollicitatie opent",
            "closes": "Deadline sollicitatie",
            "letter-round-result": "Uitslag brievenronde",
            "final-result": "Einduitslag",
        }
        for key, moment in moments:
            if moment is None:
                continue
            event = Event()
            event.add("uid", f"{procedure.reference}-{key}@selectieplatform")
            event.add("dtstamp", stamp)
            label = names.get(key, "Gespreksdag")
            event.add("summary", f"{label}: {procedure.title}")
            event.add("description", f"{organisation.name}\n{url}")
            event.add("url", url)
            if isinstance(moment, datetime):
                event.add("dtstart", moment)
                event.add("dtend", moment + timedelta(minutes=30))
            else:
                event.add("dtstart", moment)
                event.add("dtend", moment + timedelta(days=1))
            calendar.add_component(event)
    return calendar.to_ical()


@router.get(
    "/procedures.ics",
    summary="Deadlines and interview days of every published procedure (iCalendar)",
    response_class=Response,
)
def calendar_feed(request: Request, session: DbSession) -> Response:
    rows = [
        (p, o)
        for p, o in procedure_catalogue.catalogue(session, procedure_catalogue.CatalogueFilter())
        if p.phase != Phase.ARCHIVED
    ]
    body = _calendar(rows, request.app.state.settings.base_url)
    return Response(body, media_type="text/calendar; charset=utf-8")


@router.get(
    "/procedures/{reference}/calendar.ics",
    summary="Deadlines and interview days of one procedure (iCalendar)",
    response_class=Response,
)
def procedure_calendar(request: Request, session: DbSession, reference: str) -> Response:
    procedure = queries.get_procedure(session, reference)
    permissions.require_visible(permissions.can_read_open_data(procedure))
    organisation = session.get(Organisation, procedure.organisation_id)
    assert organisation is not None
    body = _calendar([(procedure, organisation)], request.app.state.settings.base_url)
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers=attachment(f"{procedure.reference}.ics"),
    )
