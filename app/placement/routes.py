"""The placement's public verify page: anyone pastes or uploads a round's record, and
optionally the previous round's and the ordering draw's, and sees every step recomputed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app import permissions
from app.applications import queries as application_queries
from app.applications.routes import show_application
from app.deps import CurrentPrincipal, DbSession
from app.errors import DomainError, InvalidInput
from app.i18n import gettext as _
from app.permissions import Principal
from app.placement import messages, preferences
from app.placement import verify as verifylib
from app.placement.match import PlacementError
from app.procedures import queries
from app.web import render

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
def verify_page(request: Request) -> Response:
    return _page(request, {name: "" for name in INPUTS})


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
