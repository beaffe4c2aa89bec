"""Faults: kill -9 the server in the middle of a submission storm, restart it, and check that
every submission that got a receipt is there with both files, and that every chain verifies.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.audit import service as audit
from app.audit.models import AuditHead
from bench import deadline_rush as rush

pytestmark = pytest.mark.e2e


def run(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: Playwright keeps an event loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def storm(
    base: str, sessions: list, reference: str, cv: bytes, letter: bytes, process
) -> list:  # type: ignore[no-untyped-def, type-arg]
    async def one(cookies: httpx.Cookies, token: str) -> tuple[float, str | None, str]:
        client = httpx.AsyncClient(
            base_url=base, cookies=cookies, timeout=60, follow_redirects=False
        )
        try:
            return await rush.one_submission(client, token, reference, cv, letter)
        except httpx.HTTPError as error:
            return 0.0, None, type(error).__name__

    async def killer() -> None:
        await asyncio.sleep(1.5)
        os.kill(process.pid, signal.SIGKILL)

    tasks = [one(cookies, token) for cookies, token, problem in sessions if not problem]
    results = await asyncio.gather(*tasks, killer())
    return [r for r in results if r is not None]


def test_kill_9_during_a_submission_storm_loses_nothing_that_was_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    for name in ("VAR_DIR", "DATABASE_URL", "BENCH_REQUIREMENTS"):  # prepare() sets these
        monkeypatch.setenv(name, "")
    reference, emails = rush.prepare(tmp_path, database_url, 60)
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": database_url}
    port = rush.free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    server = rush.start(command, env, port)
    base = f"http://127.0.0.1:{port}"
    sessions = run(rush.log_everyone_in(base, emails))
    cv, letter = rush.make_pdf(1, "CV"), rush.make_pdf(1, "Brief")
    started = time.monotonic()
    results = run(storm(base, sessions, reference, cv, letter, server))
    server.wait(timeout=10)
    assert server.returncode == -signal.SIGKILL
    acknowledged = [ref for _t, ref, problem in results if ref and not problem]
    interrupted = [problem for _t, ref, problem in results if problem]
    print(f"acknowledged {len(acknowledged)}, interrupted {len(interrupted)}")
    assert acknowledged, "the kill came before any submission finished; nothing was tested"
    assert interrupted, f"the storm ended before the kill ({time.monotonic() - started:.1f} s)"

    restarted = rush.start(command, env, port)  # the server comes back on the same files
    try:
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        restarted.terminate()
        restarted.wait(timeout=20)
    lost = rush.verify(
        tmp_path, database_url, acknowledged,
        hashlib.sha256(cv).hexdigest(), hashlib.sha256(letter).hexdigest(),
    )  # fmt: skip
    assert lost == 0
    from app.db import connect

    database = connect(database_url)
    with database.session() as session:
        chains = session.execute(select(AuditHead.chain)).scalars().all()
        for chain in chains:
            verdict = audit.verify_stored(session, chain)
            assert verdict.ok, (chain, verdict.describe())
        assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    database.dispose()
