"""The placement's public verify page: anyone pastes or uploads a round's record, and
optionally the previous round's and the ordering draw's, and sees every step recomputed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app.i18n import gettext as _
from app.placement import messages
from app.placement import verify as verifylib
from app.placement.match import PlacementError
from app.web import render

router = APIRouter()
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
