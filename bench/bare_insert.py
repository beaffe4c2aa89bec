"""The baseline for the scoring benchmark: a bare FastAPI endpoint that parses the same form
and inserts one row, on the same database with the same engine settings as the app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.responses import PlainTextResponse
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, insert
from starlette.concurrency import run_in_threadpool

from app.db import connect

database = connect(os.environ["DATABASE_URL"])
metadata = MetaData()
rows = Table(
    "bench_row",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("member", String(40), nullable=False),
    Column("body", Text, nullable=False),
)
metadata.create_all(database.engine)


@asynccontextmanager
async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
    # FastAPI as it comes runs sync work in anyio's pool of 40 threads; BARE_THREADS (for a
    # comparison only, not the benchmark's baseline) gives it the pool size the app's
    # sheets get.
    if os.environ.get("BARE_THREADS"):
        limiter = anyio.to_thread.current_default_thread_limiter()
        limiter.total_tokens = int(os.environ["BARE_THREADS"])
    yield


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _insert(member: str, body: str) -> None:
    with database.session(write=True) as session:
        session.execute(insert(rows).values(member=member, body=body))
        session.commit()


@app.post("/insert")
async def insert_row(request: Request) -> PlainTextResponse:
    form = await request.form()
    body = "&".join(f"{k}={v}" for k, v in form.items() if isinstance(v, str))
    await run_in_threadpool(_insert, str(form.get("member", "")), body)
    return PlainTextResponse("ok")
