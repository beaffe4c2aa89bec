"""The placement's public verify page: anyone pastes or uploads a round's record, and
optionally the previous round's and the ordering draw's, and sees every step recomputed."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app import forms, permissions
from app.accounts.service import user_by_id
from app.applications import queries as application_queries
from app.applications.routes import show_application
from app.audit.service import actor_id
from app.db import utcnow
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.downloads import attachment
from app.errors import DomainError, InvalidInput
from app.i18n import gettext as _
from app.lottery import ceremony
from app.lottery import draws as lottery_draws
from app.permissions import Principal
from app.placement import messages, preferences, priority, rounds
from app.placement import verify as verifylib
from app.placement.match import PlacementError
from app.procedures import queries
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()


@router.post("/applications/{application_reference}/preferences")
async def state_preferences(
    request: Request, session: DbSession, principal: CurrentPrincipal, application_reference: str
) -> Response:
    """One change to the candidate's list, as the buttons on the application page send it:
    the list as shown (`code`, in order) and what to do (`action`: up, down, remove or add,
    a colon, and an institution's code). Works without JavaScript, by keyboard and touch."""
    form = await request.form()
    shown = [value for value in form.getlist("code") if isinstance(value, str)][:100]
    action = form.get("action")
    return await run_in_threadpool(
        _state, request, session, principal, application_reference, shown,
        action if isinstance(action, str) else "",
    )  # fmt: skip


def _state(
    request: Request,
    session: DbSession,
    principal: Principal,
    application_reference: str,
    shown: list[str],
    action: str,
) -> Response:
    permissions.require_login(principal)
    application = application_queries.by_reference(session, application_reference)
    permissions.require_visible(permissions.can_state_preferences(principal, application))
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    try:
        codes = changed_list(shown, action)
        preferences.save(session, procedure=procedure, application=application, codes=codes)
    except DomainError as error:
        session.rollback()
        return show_application(
            request, session, principal, application_reference,
            preference_error=error, status_code=error.status_code,
        )  # fmt: skip
    moved = action.partition(":")[2]
    return RedirectResponse(
        f"/applications/{application_reference}?moved={quote(moved)}#pref-{quote(moved)}",
        status_code=303,
    )


def changed_list(shown: list[str], action: str) -> list[str]:
    """The list after one button: move a code up or down, take it off, or put it at the end."""
    verb, _sep, code = action.partition(":")
    codes = list(shown)
    if verb not in ("up", "down", "remove", "add") or not code:
        raise InvalidInput(_("Choose what to do with which institution."), field="preferences")
    if verb == "add":
        return [*codes, code]
    if code not in codes:
        raise InvalidInput(
            _("%(code)s is not on your list (any more); reload the page.", code=code),
            field="preferences",
        )
    at = codes.index(code)
    if verb == "remove":
        return codes[:at] + codes[at + 1 :]
    to = at - 1 if verb == "up" else at + 1
    if 0 <= to < len(codes):
        codes[at], codes[to] = codes[to], codes[at]
    return codes


MAX_RECORD = 2_000_000
INPUTS = ("record", "previous", "draw")


def _input_label(name: str) -> str:
    return {
        "record": _("Round record"),
        "previous": _("Previous round"),
        "draw": _("Draw record"),
    }[name]


@router.get("/placement/verify", name="verify_placement")
def verify_page(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    """Empty, or filled with a published round, the round before it and its ordering draw
    (`?placement=ID&round=N`), ready to verify."""
    texts = {name: "" for name in INPUTS}
    wanted = request.query_params.get("placement", "")
    number = request.query_params.get("round", "")
    if wanted and number.isascii() and number.isdigit() and len(number) < 6:
        procedure, found = rounds.record_of(session, wanted, int(number))
        if procedure and found and permissions.can_view_procedure(principal, procedure):
            texts["record"] = _json(found)
            if int(number) > 1:
                _p, before = rounds.record_of(session, wanted, int(number) - 1)
                texts["previous"] = _json(before) if before else ""
            source = found.get("priority_from") or {}
            # With several tie-breaking draws the first is filled in; any can be pasted.
            named = source.get("draw") or next(iter(source.get("draws") or []), None)
            drawn = next(
                (d for d in lottery_draws.published(session, procedure) if d["draw_id"] == named),
                None,
            )
            if drawn:
                for key in ("status", "void_reason", "voided_at"):
                    drawn.pop(key, None)
                texts["draw"] = _json(drawn)
    return _page(request, texts)


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@router.post("/placement/verify")
async def verify_upload(request: Request) -> Response:
    form = await request.form()
    texts: dict[str, str] = {}
    problems: list[str] = []
    for name in INPUTS:
        text, problem = await _read(form, name)
        texts[name] = text
        if problem:
            problems.append(f"{_input_label(name)}: {problem}")
    if not problems and not texts["record"].strip():
        problems.append(_("Paste the record of a placement round or choose its file."))
    parsed: dict[str, Mapping[str, Any] | None] = {}
    for name in INPUTS:
        parsed[name] = None
        if problems or not texts[name].strip():
            continue
        try:
            parsed[name] = verifylib.parse(texts[name])
        except PlacementError as error:
            problems.append(f"{_input_label(name)}: {messages.error_message(error)}")
    if problems:
        return _page(request, texts, problems=problems, status_code=422)
    record = parsed["record"]
    assert record is not None
    verdict = await run_in_threadpool(verifylib.verify, record, parsed["previous"], parsed["draw"])
    return _page(
        request,
        texts,
        verdict=verdict,
        without_previous=parsed["previous"] is None and record.get("round") != 1,
        without_draw=parsed["draw"] is None,
    )


async def _read(form: FormData, name: str) -> tuple[str, str | None]:
    """The text of one input, from its file when one was chosen; or why it cannot be read."""
    upload = form.get(f"{name}_file")
    text = form.get(name)
    if isinstance(upload, UploadFile) and upload.filename:
        raw = await upload.read(MAX_RECORD + 1)
        if len(raw) > MAX_RECORD:
            return "", _("The file is larger than 2 MB; a record is not.")
        try:
            return raw.decode("utf-8"), None
        except UnicodeDecodeError:
            return "", _("The file is not UTF-8 text.")
    # A pasted text has at most 1 MB: Starlette refuses a larger form field.
    return (text if isinstance(text, str) else ""), None


def _page(
    request: Request,
    texts: dict[str, str],
    *,
    problems: list[str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> Response:
    return render(
        request,
        "placement/verify.html",
        {
            "texts": texts,
            "problems": problems or [],
            "verdict": context.pop("verdict", None),
            "step_label": messages.step_label,
            "explain": messages.explain,
            **context,
        },
        status_code=status_code,
    )


# The admin's placement page: the ordering draw, the rounds, the close ---------------------------


def _run(session: DbSession, principal: Principal, reference: str) -> Procedure:
    return permissions.require_procedure(
        session, principal, reference, permissions.can_run_placement
    )


def _admin_page(
    request: Request,
    session: DbSession,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    current = rounds.state(session, procedure)
    every = priority.ordering_draws(session, procedure)
    stated = len(current.priority.lists)
    suitable = preferences.suitable_count(session, procedure)
    now = utcnow()
    return render(
        request,
        "placement/manage.html",
        {
            "procedure": procedure,
            "state": current,
            "draws": every,
            "contributors": {d.id: lottery_draws.contributors(session, d) for d in every},
            "stated": stated,
            "suitable": suitable,
            "waiting": current.waiting(now),
            "gone": current.gone(now),
            "by_application": _references_by_id(session, procedure),
            "error": error,
        },
        status_code=status_code,
    )


def _references_by_id(session: DbSession, procedure: Procedure) -> dict[int, str]:
    return application_queries.references_of(session, procedure)


@router.get("/manage/procedures/{reference}/placement", name="placement_admin")
def manage_placement(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return _admin_page(request, session, _run(session, principal, reference))


def _act(
    request: Request,
    session: DbSession,
    principal: Principal,
    reference: str,
    step: Callable[[Procedure, str], object],
    anchor: str,
) -> Response:
    procedure = _run(session, principal, reference)
    try:
        step(procedure, actor_id(principal.user_id))
    except DomainError as error:
        session.rollback()
        return _admin_page(request, session, procedure, error=error, status_code=error.status_code)
    return RedirectResponse(f"/manage/procedures/{reference}/placement#{anchor}", status_code=303)


@router.post("/manage/procedures/{reference}/placement/draw")
def prepare_ordering_draws(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: priority.prepare_draws(session, actor=actor, procedure=procedure),
        "priority",
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/placement/draws/{number}/announce")
def announce_ordering_draw(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    beacon: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: ceremony.announce(
            session, actor=actor, procedure=procedure,
            draw=priority.ordering_draw(session, procedure, number), beacon_name=beacon,
        ),
        "priority",
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/placement/draws/{number}/beacon")
def ordering_draw_beacon(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    value: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: ceremony.enter_beacon(
            session, actor=actor, procedure=procedure,
            draw=priority.ordering_draw(session, procedure, number), value=value,
        ),
        "priority",
    )  # fmt: skip


@router.post("/manage/procedures/{reference}/placement/draws/{number}/void")
def void_ordering_draw(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    number: forms.Id,
    reason: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    return _act(
        request, session, principal, reference,
        lambda procedure, actor: priority.void_draw(
            session, actor=actor, procedure=procedure,
            draw=priority.ordering_draw(session, procedure, number), reason=reason,
        ),
        "priority",
    )  # fmt: skip


def _confirmed(value: str, what: str) -> None:
    if value != "1":
        raise InvalidInput(what, field="confirmed")


@router.post("/manage/procedures/{reference}/placement/rounds")
def publish_round(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def step(procedure: Procedure, actor: str) -> object:
        _confirmed(
            confirmed,
            _("Tick the box to confirm: the round is published and every candidate is e-mailed."),
        )
        return rounds.publish_next(session, settings, actor=actor, procedure=procedure)

    return _act(request, session, principal, reference, step, "rounds")


@router.post("/manage/procedures/{reference}/placement/close")
def close_placement(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    def step(procedure: Procedure, actor: str) -> object:
        _confirmed(
            confirmed,
            _("Tick the box to confirm: the last round becomes final and nobody moves any more."),
        )
        rounds.close(session, settings, actor=actor, procedure=procedure)
        return None

    return _act(request, session, principal, reference, step, "rounds")


# The candidate's offer and statement -----------------------------------------------------------


@router.post("/applications/{application_reference}/offer")
def answer_offer(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    application_reference: str,
    answer: Annotated[str, Form(max_length=20)] = "",
    sure: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    permissions.require_login(principal)
    application = application_queries.by_reference(session, application_reference)
    permissions.require_visible(permissions.can_answer_offer(principal, application))
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    try:
        accept = rounds.check_answer(answer)
        if not accept and sure != "1":
            raise InvalidInput(
                _("Tick the box to confirm that you decline: you then leave the placement."),
                field="sure",
            )
        rounds.answer(
            session, settings, procedure=procedure, application=application, accept=accept
        )
    except DomainError as error:
        session.rollback()
        return show_application(
            request, session, principal, application_reference,
            offer_error=error, status_code=error.status_code,
        )  # fmt: skip
    return RedirectResponse(f"/applications/{application_reference}#placement", status_code=303)


@router.get("/applications/{application_reference}/placement-statement.pdf")
def placement_statement(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    application_reference: str,
) -> Response:
    """For a candidate found suitable but not placed, once the placement is closed: a
    statement that says so, with the procedure and the date."""
    permissions.require_login(principal)
    application = application_queries.by_reference(session, application_reference)
    permissions.require_visible(permissions.can_answer_offer(principal, application))
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    mine = rounds.mine(session, procedure, application)
    permissions.require_visible(mine is not None and mine.statement)
    assert mine is not None
    user = user_by_id(session, application.applicant_id)
    page = render(
        request,
        "placement/statement.html",
        {
            "procedure": procedure,
            "application": application,
            "applicant": user,
            "mine": mine,
            "closed_at": procedure.placement_closed_at,
            "organisation": queries.organisation_of(session, procedure),
            "base_url": settings.base_url,
        },
    )
    try:
        from weasyprint import HTML  # needs Pango (Debian: libpango-1.0-0 libpangoft2-1.0-0)
    except OSError:
        return render(
            request,
            "errors/error.html",
            {"status": 503, "message": _("PDF export needs Pango on this server.")},
            status_code=503,
        )
    pdf = HTML(string=bytes(page.body).decode("utf-8"), base_url=str(request.base_url))
    return Response(
        pdf.write_pdf(),
        media_type="application/pdf",
        headers=attachment(f"{application.reference}-statement.pdf"),
    )


# Public: the rounds' records ---------------------------------------------------------------------


def _public_procedure(session: DbSession, principal: Principal, reference: str) -> Procedure:
    procedure = queries.get_procedure(session, reference)
    permissions.require_visible(permissions.can_view_procedure(principal, procedure))
    return procedure


@router.get("/procedures/{reference}/placements", name="placement_records")
def placement_records(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _public_procedure(session, principal, reference)
    records = rounds.published(session, procedure)
    return render(
        request,
        "placement/records.html",
        {
            "procedure": procedure,
            "records": records,
            "texts": [json.dumps(r, indent=2, ensure_ascii=False) for r in records],
            "closed_at": procedure.placement_closed_at,
            "institutions": queries.institutions(session, procedure),
        },
    )


@router.get(
    "/api/procedures/{reference}/placements",
    summary="The procedure's placement rounds",
    tags=["open data"],
)
def placement_records_json(
    session: DbSession, principal: CurrentPrincipal, reference: str
) -> JSONResponse:
    """Every published round's `selection-placement/v1` record, in order: application
    references only, no names. Recompute any round as shared/spec/placement.md describes,
    with `python -m app verify-placement`, or on /placement/verify."""
    procedure = _public_procedure(session, principal, reference)
    return JSONResponse(rounds.published(session, procedure))
