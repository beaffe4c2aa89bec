"""The chain for anyone: a published procedure's public export and checkpoints, the
platform's public keys, and the page that verifies an export (public or full) against a
checkpoint. The full export is the observer's and the admins' (app/oversight/routes.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from starlette.datastructures import UploadFile

from app import permissions
from app.audit import chain as chainlib
from app.audit import checkpoint as checkpoints
from app.audit import service as audit
from app.audit.labels import problem_label
from app.deps import DbSession
from app.downloads import attachment
from app.errors import NotFound
from app.i18n import gettext as _
from app.procedures import queries
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()
MAX_CHAIN = 50 * 1024 * 1024
MAX_SMALL_FILE = 1024 * 1024  # a checkpoint or a keys file
TEMPLATE = "audit/verify.html"


def _published(session: DbSession, reference: str) -> Procedure:
    """Anyone may read a published procedure's chain in public form; a draft is nobody's
    business (404, as its page)."""
    procedure = queries.get_procedure(session, reference)
    permissions.require_visible(permissions.can_read_open_data(procedure))
    return procedure


@router.get(
    "/procedures/{reference}/audit.public.jsonl",
    name="audit_public_export",
    summary="The public form of a published procedure's audit chain (JSON Lines)",
    response_class=StreamingResponse,
    responses={404: {"description": "No published procedure with a version-2 chain"}},
)
def public_export(session: DbSession, reference: str) -> Response:
    procedure = _published(session, reference)
    if audit.chain_version(session, procedure.reference) != chainlib.VERSION_2:
        raise NotFound(
            _(
                "This procedure's audit chain was begun before chains had a public form; "
                "the admins and the observer verify it with the full export."
            )
        )
    lines = list(audit.public_export_lines(session, procedure.reference))
    return StreamingResponse(
        iter(lines),
        media_type="application/jsonl; charset=utf-8",
        headers=attachment(f"{procedure.reference}-audit.public.jsonl"),
    )


@router.get(
    "/procedures/{reference}/checkpoints.json",
    name="audit_checkpoints",
    summary="Every signed checkpoint of a published procedure's audit chain",
    responses={404: {"description": "No published procedure with this reference"}},
)
def procedure_checkpoints(session: DbSession, reference: str) -> Response:
    procedure = _published(session, reference)
    return JSONResponse(
        {
            "chain": procedure.reference,
            "checkpoints": audit.all_checkpoints(session, procedure.reference),
        }
    )


@router.get(
    "/audit/keys.json",
    name="audit_keys",
    summary="The platform's public keys that sign checkpoints, with the time each was in use",
)
def published_keys(request: Request) -> Response:
    return JSONResponse(request.app.state.keyring.document())


# Verify an exported chain in the browser, with or without a checkpoint ----------------------


@router.get("/audit/verify", name="verify_audit")
def verify_chain_page(request: Request) -> Response:
    return render(request, TEMPLATE, {"verdict": None})


@router.post("/audit/verify")
async def verify_chain(request: Request) -> Response:
    form = await request.form()
    upload = form.get("file")
    pasted = form.get("checkpoint")
    values = {"checkpoint": pasted if isinstance(pasted, str) else ""}

    def refuse(message: str, status_code: int = 422) -> Response:
        return render(
            request,
            TEMPLATE,
            {"verdict": None, "problem": message, "values": values},
            status_code=status_code,
        )

    if not isinstance(upload, UploadFile) or not upload.filename:
        return refuse(_("Choose an exported chain (a .jsonl file)."))
    raw = await upload.read(MAX_CHAIN + 1)
    if len(raw) > MAX_CHAIN:
        return refuse(_("The file is larger than 50 MB."), 413)
    checkpoint: dict[str, Any] | None = None
    keys = request.app.state.keyring.published()
    try:
        checkpoint_text = await _text_of(form.get("checkpoint_file")) or values["checkpoint"]
        if checkpoint_text.strip():
            checkpoint = checkpoints.parse_checkpoint(checkpoint_text)
        keys_text = await _text_of(form.get("keys_file"))
        if keys_text:
            keys = checkpoints.parse_keys(keys_text)
    except checkpoints.FormatError as error:
        return refuse(problem_label(error.problem))
    except _TooLarge:
        return refuse(_("A checkpoint or keys file is larger than 1 MB."), 413)
    text = raw.decode("utf-8", errors="replace")
    report = checkpoints.verify(text.splitlines(keepends=True), checkpoint, keys)
    return render(
        request,
        TEMPLATE,
        {
            "verdict": report.chain,
            "report": report,
            "checkpoint_at": checkpoints.moment(checkpoint["at"]) if checkpoint else None,
            "name": upload.filename,
            "values": values,
        },
    )


class _TooLarge(Exception):
    pass


async def _text_of(upload: object) -> str:
    """The text of an optional small upload ('' when none was chosen)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return ""
    raw = await upload.read(MAX_SMALL_FILE + 1)
    if len(raw) > MAX_SMALL_FILE:
        raise _TooLarge
    return raw.decode("utf-8", errors="replace")
