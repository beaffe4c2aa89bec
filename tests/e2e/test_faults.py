"""Faults: kill -9 the server in the middle of a submission storm and of a scoring storm,
restart it, and check that every submission that got a receipt is there with both files,
that every acknowledged save is in its sheet, and that every chain verifies.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlmodel import select

from app.audit import service as audit
from app.audit.models import AuditHead
from bench import deadline_rush as rush
from bench import scoring_autosave as scoring

pytestmark = pytest.mark.e2e


def run(coroutine):  # type: ignore[no-untyped-def]
    """asyncio.run in a thread of its own: Playwright keeps an event loop in this one."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def _when(condition: Callable[[], bool], limit: float = 120.0) -> None:
    """Wait until `condition` holds (checked every 10 ms), at most `limit` seconds."""
    deadline = time.monotonic() + limit
    while not condition() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


async def storm(
    base: str, sessions: list, reference: str, cv: bytes, letter: bytes, process
) -> list:  # type: ignore[no-untyped-def, type-arg]
    receipts = 0

    async def one(cookies: httpx.Cookies, token: str) -> tuple[float, str | None, str]:
        nonlocal receipts
        client = httpx.AsyncClient(
            base_url=base, cookies=cookies, timeout=60, follow_redirects=False
        )
        try:
            result = await rush.one_submission(client, token, reference, cv, letter)
        except httpx.HTTPError as error:
            return 0.0, None, type(error).__name__
        receipts += 1 if result[1] and not result[2] else 0
        return result

    async def killer() -> None:
        # Mid-storm on a fast or a slow machine: once the first receipts are out.
        await _when(lambda: receipts >= 5)
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


async def scoring_storm(
    base: str, members: list, sessions: list, reference: str, application: str, process
) -> list:  # type: ignore[no-untyped-def, type-arg]
    """Every member saves back to back until the server dies; returns per member the changes
    acknowledged and the one in flight when it died."""

    saves = 0

    async def one(index: int, member_id: int, cookies: httpx.Cookies, token: str) -> tuple:  # type: ignore[type-arg]
        nonlocal saves
        url = f"/committee/{reference}/applicants/{application}/sheets/{member_id}"
        headers = {"HX-Request": "true", "X-Fragment": "status", "X-CSRF-Token": token}
        acknowledged: list[dict[str, str]] = []
        version = "0"
        async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=30) as client:
            for change in scoring.changes(index, 400):
                try:
                    response = await client.post(
                        url, data={"version": version, **change}, headers=headers
                    )
                except httpx.HTTPError:
                    return member_id, acknowledged, change
                found = scoring.VERSION.search(response.text)
                if response.status_code != 200 or not found:
                    return member_id, acknowledged, change
                version = found.group(1)
                acknowledged.append(change)
                saves += 1
        return member_id, acknowledged, None

    async def killer() -> None:
        await _when(lambda: saves >= 200)
        os.kill(process.pid, signal.SIGKILL)

    tasks = [
        one(index, member_id, cookies, token)
        for index, ((_email, member_id), (cookies, token)) in enumerate(
            zip(members, sessions, strict=True)
        )
    ]
    results = await asyncio.gather(*tasks, killer())
    return [r for r in results if r is not None]


def _apply(changes: list[dict[str, str]]) -> tuple[dict[str, int], dict[str, str]]:
    state: dict[str, str] = {}
    for change in changes:
        state.update(change)
    levels = {k.removeprefix("level-"): int(v) for k, v in state.items() if k.startswith("level-")}
    reasons = {k.removeprefix("reason-"): v for k, v in state.items() if k.startswith("reason-")}
    return levels, reasons


def test_kill_9_during_a_scoring_storm_loses_no_acknowledged_save(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database_url = f"sqlite:///{tmp_path / 'app.db'}"
    for name in ("VAR_DIR", "DATABASE_URL", "BENCH_CRITERIA"):  # prepare() sets these
        monkeypatch.setenv(name, "")
    reference, application, members = scoring.prepare(tmp_path, database_url, 30)
    env = {**os.environ, "VAR_DIR": str(tmp_path), "DATABASE_URL": database_url}
    port = rush.free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    server = rush.start(command, env, port)
    base = f"http://127.0.0.1:{port}"
    sessions = run(_gather([scoring.log_in(base, email) for email, _m in members]))
    results = run(scoring_storm(base, members, sessions, reference, application, server))
    server.wait(timeout=10)
    assert server.returncode == -signal.SIGKILL
    saved = sum(len(acknowledged) for _m, acknowledged, _f in results)
    cut = sum(1 for _m, _a, in_flight in results if in_flight is not None)
    print(f"acknowledged saves {saved}, members cut off mid-save {cut}")
    assert saved and cut, "the kill did not fall in the middle of the storm"

    restarted = rush.start(command, env, port)
    try:
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        restarted.terminate()
        restarted.wait(timeout=20)
    from app.db import connect
    from app.scoring.models import ScoreSheet

    database = connect(database_url)
    with database.session() as session:
        sheets = {s.member_id: s for s in session.execute(select(ScoreSheet)).scalars()}
        for member_id, acknowledged, in_flight in results:
            if not acknowledged:
                continue
            sheet = sheets[member_id]
            stored = (sheet.levels, sheet.reasons)
            # The save in flight may have committed before the kill, never more than that.
            allowed = [_apply(acknowledged)]
            if in_flight is not None:
                allowed.append(_apply([*acknowledged, in_flight]))
            assert stored in allowed, f"member {member_id}: an acknowledged save is missing"
            # A save that changed nothing adds no version: never more versions than saves.
            assert sheet.version <= len(acknowledged) + 1
        for chain in session.execute(select(AuditHead.chain)).scalars().all():
            verdict = audit.verify_stored(session, chain)
            assert verdict.ok, (chain, verdict.describe())
        assert session.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    database.dispose()


async def _gather(tasks: list) -> list:  # type: ignore[type-arg]
    return await asyncio.gather(*tasks)
