"""The baseline for the reviewer's loop (bench/reviewer_loop.py): a bare FastAPI + sqlite3
pair. GET reads one sheet row and renders a small form with a token and the version; POST
parses the form, checks the token and the version, and updates the row. WAL, one
connection per thread; no ORM, no templates, no sessions, no audit chain."""

from __future__ import annotations

import hmac
import json
import os
import sqlite3
import threading

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, PlainTextResponse
from starlette.concurrency import run_in_threadpool

PATH = os.environ["BARE_DATABASE"]
TOKEN = "bare-token-0123456789abcdef"  # noqa: S105 (a benchmark's fixed form token)
_local = threading.local()


def connection() -> sqlite3.Connection:
    connection = getattr(_local, "connection", None)
    if connection is None:
        connection = sqlite3.connect(PATH, timeout=30, isolation_level=None)
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        _local.connection = connection
    return connection


def _create() -> None:
    database = connection()
    database.execute(
        "CREATE TABLE IF NOT EXISTS sheet (member INTEGER, application TEXT, levels TEXT, "
        "version INTEGER, PRIMARY KEY (member, application))"
    )
    members = int(os.environ.get("BARE_MEMBERS", "20"))
    applications = os.environ.get("BARE_APPLICANTS", "").split(",")
    database.executemany(
        "INSERT OR IGNORE INTO sheet VALUES (?, ?, '{}', 0)",
        [(m, a) for m in range(members) for a in applications if a],
    )


_create()
app = FastAPI()
CRITERIA = os.environ.get("BARE_CRITERIA", "a,b,c,d,e,f").split(",")


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@app.get("/bare/{member}/{application}")
def sheet(member: int, application: str) -> HTMLResponse:
    row = (
        connection()
        .execute(
            "SELECT levels, version FROM sheet WHERE member = ? AND application = ?",
            (member, application),
        )
        .fetchone()
    )
    if row is None:
        return HTMLResponse("not found", status_code=404)
    levels = json.loads(row[0])
    fields = "".join(
        f'<label>{c} <input name="level-{c}" value="{levels.get(c, "")}"></label>' for c in CRITERIA
    )
    return HTMLResponse(
        f'<form method="post"><input type="hidden" name="csrf_token" value="{TOKEN}">'
        f'<input type="hidden" name="version" id="sheet-version" value="{row[1]}">'
        f"{fields}</form>"
    )


def _save(member: int, application: str, fields: dict[str, str]) -> tuple[int, str]:
    """One autocommitted UPDATE that holds the version check: it takes SQLite's write lock
    once and only for itself."""
    levels = {k[6:]: v for k, v in fields.items() if k.startswith("level-")}
    version = fields.get("version", "")
    if not version.isdigit():
        return 422, "version"
    changed = connection().execute(
        "UPDATE sheet SET levels = json_patch(levels, ?), version = version + 1 "
        "WHERE member = ? AND application = ? AND version = ?",
        (json.dumps(levels), member, application, int(version)),
    )
    if changed.rowcount != 1:
        return 409, "stale or unknown"
    new = int(version) + 1
    return 200, f'<input type="hidden" name="version" id="sheet-version" value="{new}">'


@app.post("/bare/{member}/{application}")
async def save(request: Request, member: int, application: str) -> PlainTextResponse:
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    if not hmac.compare_digest(fields.get("csrf_token", ""), TOKEN):
        return PlainTextResponse("bad token", status_code=403)
    status, body = await run_in_threadpool(_save, member, application, fields)
    return PlainTextResponse(body, status_code=status)
