"""The lottery's pages: the admin's ranking and draws, the contributors' commit and reveal,
the public draw records (HTML and JSON), and a verify page anyone can use."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel
from sqlmodel import select
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app import forms, permissions
from app.applications import letter_round
from app.audit.service import actor_id
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.errors import DomainError
from app.i18n import gettext as _
from app.lottery import ceremony, results
from app.lottery import draw as drawlib
from app.lottery import draws as lottery_draws
from app.lottery.models import Draw
from app.lottery.vocabulary import DrawPurpose
from app.permissions import Principal
from app.procedures import queries, roles
from app.scoring import round as scoring_round
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()
MAX_RECORD = 200_000


def _managed(session: DbSession, principal: Principal, reference: str) -> Procedure:
    return permissions.require_procedure(session, principal, reference, permissions.can_run_lottery)


def _ranking_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    standings = results.Standings.load(session, procedure) if procedure.rubric_hash else None
    all_draws, parties = (
        (standings.draws, standings.contributors)
        if standings
        else lottery_draws.with_contributors(session, procedure)
    )
    # An admin with a conflict: the applicant's rows are left out (a tie stays whole: the
    # draw is for exactly that group, and its record is public).
    hidden = scoring_round.hidden_references(
        session,
        procedure,
        scoring_round.view_of(
            session, principal, procedure, standings.round if standings else None
        ),
    )
    return render(
        request,
        "lottery/ranking.html",
        {
            "procedure": procedure,
            "candidates": standings.people if standings else [],
            "ranking": standings.ranked if standings else None,
            # The placement's ordering draw has its own page.
            "draws": [d for d in all_draws if d.purpose == DrawPurpose.TIE],
            "contributors": parties,
            "current": standings.current if standings else None,
            "result": results.final_result(session, procedure, standings) if standings else None,
            "problems": results.draw_problems(session, procedure, standings),
            "fixed": queries.fixing_draw(session, procedure),
            "outcomes_missing": scoring_round.round_facts_of(standings.round).outcomes_missing
            if standings
            else (),
            "hidden_references": hidden,
            "cluster": queries.is_cluster(session, procedure),
            "hidden_notice": roles.left_to_another_admin(
                session, procedure, principal.user_id, len(hidden)
            ),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/manage/procedures/{reference}/ranking", name="ranking")
def ranking_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return _ranking_page(request, session, principal, _managed(session, principal, reference))


@router.post("/manage/procedures/{reference}/draws")
async def prepare_draw(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    form = await request.form()
    chosen = [value for value in form.getlist("candidate") if isinstance(value, str)]
    places = form.get("places")
    return await run_in_threadpool(
        _prepare, request, session, principal, reference, chosen,
        places if isinstance(places, str) else "",
    )  # fmt: skip


def _prepare(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    chosen: list[str],
    places: str,
) -> Response:
    procedure = _managed(session, principal, reference)
    try:
        lottery_draws.prepare(
            session,
            actor=actor_id(principal.user_id),
            procedure=procedure,
            chosen=chosen,
            places=forms.integer(places, "places", _("the number of places")),
        )
    except DomainError as error:
        session.rollback()
        return _ranking_page(
            request, session, principal, procedure, error=error, status_code=error.status_code
        )
    return RedirectResponse(f"/manage/procedures/{reference}/ranking#draws", status_code=303)


def _admin_draw_action(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    number: forms.Id,
    action: str,
    value: str,
) -> Response:
    procedure = _managed(session, principal, reference)
    draw = lottery_draws.get_draw(session, procedure, number)
    actor = actor_id(principal.user_id)
    try:
        if action == "announce":
            ceremony.announce(
                session, actor=actor, procedure=procedure, draw=draw, beacon_name=value
            )
        elif action == "beacon":
            ceremony.enter_beacon(session, actor=actor, procedure=procedure, draw=draw, value=value)
        else:
            lottery_draws.void(session, actor=actor, procedure=procedure, draw=draw, reason=value)
    except DomainError as error:
        session.rollback()
        return _ranking_page(
            request, session, principal, procedure, error=error, status_code=error.status_code
        )
    return RedirectResponse(f"/manage/procedures/{reference}/ranking#draws", status_code=303)


@router.post("/manage/procedures/{reference}/draws/{number}/announce")
def announce_draw(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    beacon: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return _admin_draw_action(request, session, principal, reference, number, "announce", beacon)


@router.post("/manage/procedures/{reference}/draws/{number}/beacon")
def beacon_value(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    value: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return _admin_draw_action(request, session, principal, reference, number, "beacon", value)


@router.post("/manage/procedures/{reference}/draws/{number}/void")
def void_draw(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _admin_draw_action(request, session, principal, reference, number, "void", reason)


@router.post("/manage/procedures/{reference}/ranking/{application_reference}/decline")
def decline_place(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    procedure = _managed(session, principal, reference)
    application = letter_round.invited_application(session, procedure, application_reference)
    # An admin with a conflict leaves the applicant's place to another admin.
    view = scoring_round.view_of(session, principal, procedure, None)
    permissions.require_visible(
        permissions.can_act_on_applicant(principal, procedure, view, application.id)
    )
    try:
        results.decline(
            session, settings, actor=actor_id(principal.user_id), procedure=procedure,
            application=application,
        )  # fmt: skip
    except DomainError as error:
        session.rollback()
        return _ranking_page(
            request, session, principal, procedure, error=error, status_code=error.status_code
        )
    return RedirectResponse(f"/manage/procedures/{reference}/ranking#result", status_code=303)


# The contributors: the observer and the chair ------------------------------------------------


def _contributor(
    session: DbSession, principal: Principal, reference: str, number: forms.Id
) -> tuple[Procedure, Draw, Any]:
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_procedure
    )
    draw = lottery_draws.get_draw(session, procedure, number)
    permissions.require(principal, permissions.can_contribute_to_draw(principal, procedure))
    member = queries.member_of(session, procedure, principal.user_id)
    return procedure, draw, member


def _contribute_page(
    request: Request,
    session: DbSession,
    procedure: Procedure,
    draw: Draw,
    member: Any,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    parties = lottery_draws.contributors(session, draw)
    mine = next((c for c in parties if member and c.member_id == member.id), None)
    return render(
        request,
        "lottery/contribute.html",
        {
            "procedure": procedure,
            "draw": draw,
            "parties": parties,
            "mine": mine,
            "record": lottery_draws.announced_record(session, draw),
            "error": error,
        },
        status_code=status_code,
    )


@router.get("/procedures/{reference}/draws/{number}/contribute", name="contribute")
def contribute_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
) -> Response:
    procedure, draw, member = _contributor(session, principal, reference, number)
    return _contribute_page(request, session, procedure, draw, member)


@router.post("/procedures/{reference}/draws/{number}/commit")
def commit(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    commitment: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    procedure, draw, member = _contributor(session, principal, reference, number)
    try:
        ceremony.commit(
            session, procedure=procedure, draw=draw, member=member, commitment=commitment
        )
    except DomainError as error:
        session.rollback()
        return _contribute_page(
            request, session, procedure, draw, member, error=error, status_code=error.status_code
        )
    return RedirectResponse(f"/procedures/{reference}/draws/{number}/contribute", status_code=303)


@router.post("/procedures/{reference}/draws/{number}/reveal")
def reveal(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    secret: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    procedure, draw, member = _contributor(session, principal, reference, number)
    try:
        ceremony.reveal(session, procedure=procedure, draw=draw, member=member, secret=secret)
    except DomainError as error:
        session.rollback()
        return _contribute_page(
            request, session, procedure, draw, member, error=error, status_code=error.status_code
        )
    return RedirectResponse(f"/procedures/{reference}/draws/{number}/contribute", status_code=303)


# Public: the records and the verifier ---------------------------------------------------------


def _public_procedure(session: DbSession, principal: Principal, reference: str) -> Procedure:
    procedure = queries.get_procedure(session, reference)
    permissions.require_visible(permissions.can_view_procedure(principal, procedure))
    return procedure


@router.get("/procedures/{reference}/draws", name="draw_records")
def draw_records(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _public_procedure(session, principal, reference)
    records = lottery_draws.published(session, procedure)
    return render(
        request,
        "lottery/records.html",
        {
            "procedure": procedure,
            "records": records,
            "texts": [json.dumps(r, indent=2, ensure_ascii=False) for r in records],
            "voided": {d.draw_id: d.voided_at for d in lottery_draws.draws(session, procedure)},
        },
    )


class DrawRecord(BaseModel):
    """A draw record as shared/spec/lottery.md publishes it, with its status."""

    version: str
    draw_id: str
    status: str
    candidates: list[str]
    places: int
    contributors: list[dict[str, str | None]]
    beacon: dict[str, str | None] | None
    seed: str | None = None
    order: list[str] | None = None
    winners: list[str] | None = None
    reserve: list[str] | None = None
    void_reason: str | None = None
    voided_at: str | None = None


@router.get(
    "/api/procedures/{reference}/draws",
    response_model=list[DrawRecord],
    summary="The procedure's draw records",
    tags=["open data"],
)
def draw_records_json(
    session: DbSession, principal: CurrentPrincipal, reference: str
) -> JSONResponse:
    """Every announced draw: references only, no names; the secrets, the seed and the order
    once drawn; a void draw with the reason and moment it was voided. Recompute any record
    as shared/spec/lottery.md describes, or on /lottery/verify."""
    procedure = _public_procedure(session, principal, reference)
    return JSONResponse(lottery_draws.published(session, procedure))


@router.get("/lottery/verify", name="verify_lottery")
def verify_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    text = ""
    wanted = request.query_params.get("draw", "")
    if wanted:
        found = session.execute(select(Draw).where(Draw.draw_id == wanted)).scalar_one_or_none()
        procedure = queries.procedure_by_id(session, found.procedure_id) if found else None
        if found and procedure and permissions.can_view_procedure(principal, procedure):
            record = next(
                (r for r in lottery_draws.published(session, procedure) if r["draw_id"] == wanted),
                None,
            )
            if record:
                for key in ("status", "void_reason", "voided_at"):
                    record.pop(key, None)
                text = json.dumps(record, indent=2, ensure_ascii=False)
    return _verify(request, text)


def _verify(request: Request, text: str, status_code: int = 200) -> Response:
    verdict, problem = None, None
    if text.strip():
        try:
            verdict = drawlib.verify(drawlib.parse(text))
        except ValueError as error:
            problem = str(error)
    return render(
        request,
        "lottery/verify.html",
        {"text": text, "verdict": verdict, "problem": problem},
        status_code=422 if problem else status_code,
    )


@router.post("/lottery/verify")
async def verify_upload(request: Request) -> Response:
    form = await request.form()
    text = form.get("record")
    upload = form.get("file")
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_RECORD + 1)
        if len(raw) > MAX_RECORD:
            return _verify_problem(request, _("The file is larger than 200 kB; a record is not."))
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            return _verify_problem(request, _("The file is not UTF-8 text."))
    if not isinstance(text, str) or not text.strip():
        return _verify_problem(request, _("Paste a draw record or choose its file."))
    return _verify(request, text[:MAX_RECORD])


def _verify_problem(request: Request, message: str) -> Response:
    return render(
        request,
        "lottery/verify.html",
        {"text": "", "verdict": None, "problem": message},
        status_code=422,
    )
