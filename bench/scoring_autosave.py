"""Scoring storm: M committee members autosave their score sheets at once, one POST per change.

Starts a real server (uvicorn) on 127.0.0.1 with a fresh SQLite database (or DATABASE_URL)
and a procedure in its interviews with M scoring members, and beside it a bare FastAPI
endpoint that parses the same form and inserts one row (bench/bare_insert.py), measured in
the same run with the same load. Each member sends S saves in a row, as htmx does (the next
change waits for the answer to the last, and carries the version it returned). Reports
errors, lost updates (every acknowledged save must be in the stored sheet: its version
counts them and its content is the last one sent), p50/p95 latency and throughput.
Bounded: M x S requests, loopback.

    .venv/bin/python bench/scoring_autosave.py --members 50 --saves 40             # saturation
    .venv/bin/python bench/scoring_autosave.py --members 50 --saves 40 --pace 1    # members' pace
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.deadline_rush import free_port, percentile, start  # noqa: E402

PASSWORD = "bench password 123"  # noqa: S105 (a throwaway database)
VERSION = re.compile(r'id="sheet-version" value="(\d+)"')


def bench_committee(session: Any, members: int) -> list[tuple[Any, str, str]]:
    """A chair and `members` - 1 members (every third an aios) who log in with PASSWORD, and
    an observer without a login: the committee of the scoring benchmarks."""
    from app.accounts.service import create_user

    committee = [
        (create_user(session, email="chair@example.org", name="Voorzitter", password=PASSWORD),
         "chair", "opleider"),
        (create_user(session, email="observer@example.org", name="Waarnemer", password=None),
         "observer", ""),
    ]  # fmt: skip
    for number in range(members - 1):
        user = create_user(
            session, email=f"member{number}@example.org", name=f"Lid {number}",
            password=PASSWORD,
        )  # fmt: skip
        committee.append((user, "member", "aios" if number % 3 == 0 else "staff"))
    return committee


def prepare(
    var_dir: Path, database_url: str, members: int
) -> tuple[str, str, list[tuple[str, int]]]:
    """A procedure in its interviews with `members` scorers and one invited applicant."""
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    from app.config import Settings
    from app.db import connect
    from app.migrate import upgrade
    from app.procedures import organisations

    settings = Settings()
    upgrade(settings.database_url)
    database = connect(settings.database_url)
    with database.session(write=True) as session:
        organisation = organisations.create_organisation(
            session, actor="system", slug="nva", name="NVA", short_name="NVA"
        )
        committee = bench_committee(session, members)
        application, scorers = interviews_procedure(
            session, settings, organisation, committee, "BENCH-2026-1"
        )
    database.dispose()
    return "BENCH-2026-1", application, scorers


def interviews_procedure(
    session: Any,
    settings: Any,
    organisation: Any,
    committee: list[tuple[Any, str, str]],
    reference: str,
) -> tuple[str, list[tuple[str, int]]]:
    """A procedure in its interviews (scoring) with one invited applicant: the applicant's
    application and the scoring members (e-mail, member id); the criteria go to
    BENCH_CRITERIA."""
    from sqlmodel import select

    from app import demo
    from app.accounts.models import User
    from app.accounts.service import create_user
    from app.db import utcnow
    from app.procedures.models import ProcedureMember
    from app.procedures.vocabulary import Phase

    applicant = create_user(session, email=f"applicant-{reference.lower()}@example.org",
                            name="Kandidaat", password=PASSWORD)  # fmt: skip
    spec = demo.DemoProcedure("nva", reference, Phase.INTERVIEWS, 4, "Bench",
                              "Anesthesiologie", "Utrecht", "", -30)  # fmt: skip
    procedure = demo.complete_procedure(
        session, settings, organisation=organisation, spec=spec, committee=committee,
        actor="system", now=utcnow(), applicants=(applicant,),
    )  # fmt: skip
    rows = session.execute(
        select(User.email, ProcedureMember.id)
        .join(ProcedureMember, ProcedureMember.user_id == User.id)
        .where(ProcedureMember.procedure_id == procedure.id, ProcedureMember.role != "observer")
    ).all()
    assert procedure.rubric_content is not None
    os.environ["BENCH_CRITERIA"] = ",".join(c["id"] for c in procedure.rubric_content["criteria"])
    return f"{reference}-0001", [(email, member_id) for email, member_id in rows]


def changes(member: int, saves: int) -> list[dict[str, str]]:
    """What a member does: pick a level, type a bit of a reason, change their mind..."""
    criteria = os.environ["BENCH_CRITERIA"].split(",")
    rng = random.Random(member)
    result = []
    for step in range(saves):
        criterion = criteria[step % len(criteria)]
        if step % 2 == 0:
            result.append({f"level-{criterion}": str(rng.randint(1, 5))})
        else:
            result.append({f"reason-{criterion}": f"Voorbeeld {step} van lid {member}: STARR."})
    return result


async def log_in(base: str, email: str) -> tuple[httpx.Cookies, str]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        page = await client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        login = await client.post(
            "/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
        )
        assert login.status_code == 303, login.status_code
        return client.cookies, token


async def member_storm(
    base: str,
    url: str,
    cookies: httpx.Cookies,
    token: str,
    member: int,
    saves: int,
    pace: float,
) -> tuple[list[float], list[str], int, dict[str, str]]:
    """One member's saves in a row; returns latencies, errors, acknowledged saves, last state."""
    latencies, errors, acknowledged = [], [], 0
    version = "0"
    state: dict[str, str] = {}
    headers = {"HX-Request": "true", "X-Fragment": "status", "X-CSRF-Token": token}
    rng = random.Random(member)
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client:
        for change in changes(member, saves):
            if pace:  # a member thinking between changes: `pace` seconds on average
                await asyncio.sleep(pace * rng.uniform(0.5, 1.5))
            started = time.perf_counter()
            response = await client.post(url, data={"version": version, **change}, headers=headers)
            latencies.append(time.perf_counter() - started)
            found = VERSION.search(response.text)
            if response.status_code != 200 or not found:
                errors.append(str(response.status_code))
                continue
            version = found.group(1)
            acknowledged += 1
            state.update(change)
    return latencies, errors, acknowledged, state


async def bare_storm(
    base: str, member: int, saves: int, pace: float
) -> tuple[list[float], list[str]]:
    latencies, errors = [], []
    rng = random.Random(member)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        for change in changes(member, saves):
            if pace:
                await asyncio.sleep(pace * rng.uniform(0.5, 1.5))
            started = time.perf_counter()
            response = await client.post("/insert", data={"member": str(member), **change})
            latencies.append(time.perf_counter() - started)
            if response.status_code != 200:
                errors.append(str(response.status_code))
    return latencies, errors


def lost_updates(database_url: str, results: dict[int, tuple[int, dict[str, str]]]) -> int:
    """Members whose stored sheet lacks an acknowledged save."""
    from sqlmodel import select

    from app.db import connect
    from app.scoring.models import ScoreSheet

    database = connect(database_url)
    lost = 0
    with database.session() as session:
        sheets = {s.member_id: s for s in session.execute(select(ScoreSheet)).scalars()}
        for member_id, (acknowledged, state) in results.items():
            sheet = sheets.get(member_id)
            if acknowledged == 0:
                continue
            levels = {
                k.removeprefix("level-"): int(v) for k, v in state.items() if k.startswith("level-")
            }
            reasons = {
                k.removeprefix("reason-"): v for k, v in state.items() if k.startswith("reason-")
            }
            # A save that changed nothing adds no version, so never more versions than saves.
            if (
                sheet is None
                or sheet.levels != levels
                or sheet.reasons != reasons
                or sheet.version > acknowledged
            ):
                lost += 1
    database.dispose()
    return lost


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=50)
    parser.add_argument("--saves", type=int, default=40)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument(
        "--pace", type=float, default=0.0,
        help="seconds a member thinks between changes, on average (0: save back to back)",
    )  # fmt: skip
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="scoring-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'app.db'}"
    bare_url = os.environ.get("BARE_DATABASE_URL") or f"sqlite:///{work / 'bare.db'}"
    reference, application, members = prepare(work, database_url, args.members)
    env = {**os.environ, "VAR_DIR": str(work), "DATABASE_URL": database_url}
    port, bare_port = free_port(), free_port()
    server = start([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port",
                    str(port), "--workers", str(args.workers), "--log-level", "warning"], env, port)  # fmt: skip
    bare = start([sys.executable, "-m", "uvicorn", "bench.bare_insert:app", "--port", str(bare_port),
                  "--workers", str(args.workers), "--log-level", "warning"],
                 {**env, "DATABASE_URL": bare_url}, bare_port)  # fmt: skip
    base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    try:
        sessions = asyncio.run(_gather([log_in(base, email) for email, _m in members]))

        async def storm() -> list[tuple[list[float], list[str], int, dict[str, str]]]:
            return await asyncio.gather(*(
                member_storm(base, f"/committee/{reference}/applicants/{application}/sheets/{member_id}",
                             cookies, token, index, args.saves, args.pace)
                for index, ((_email, member_id), (cookies, token)) in enumerate(zip(members, sessions, strict=True))
            ))  # fmt: skip

        async def bare_all() -> list[tuple[list[float], list[str]]]:
            return await asyncio.gather(
                *(
                    bare_storm(bare_base, index, args.saves, args.pace)
                    for index in range(len(members))
                )
            )

        started = time.perf_counter()
        results = asyncio.run(storm())
        wall = time.perf_counter() - started
        started = time.perf_counter()
        bare_results = asyncio.run(bare_all())
        bare_wall = time.perf_counter() - started
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait(timeout=20)

    latencies = [t for result in results for t in result[0]]
    errors = [e for result in results for e in result[1]]
    bare_latencies = [t for result in bare_results for t in result[0]]
    bare_errors = [e for result in bare_results for e in result[1]]
    lost = lost_updates(
        database_url,
        {
            member_id: (result[2], result[3])
            for (_e, member_id), result in zip(members, results, strict=True)
        },
    )
    throughput = len(latencies) / wall
    bare_throughput = len(bare_latencies) / bare_wall
    kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    mode = f"a change every {args.pace:g} s on average" if args.pace else "back to back"
    print(f"{len(members)} members x {args.saves} saves ({mode}), {args.workers} worker(s), {kind}")
    print(f"errors {len(errors)} {sorted(set(errors))[:5]}; lost updates {lost}")
    print(f"autosave p50 {statistics.median(latencies) * 1000:.1f} ms, "
          f"p95 {percentile(latencies, 0.95) * 1000:.1f} ms, {throughput:.0f} saves/s")  # fmt: skip
    print(f"bare insert p50 {statistics.median(bare_latencies) * 1000:.1f} ms, "
          f"p95 {percentile(bare_latencies, 0.95) * 1000:.1f} ms, {bare_throughput:.0f} requests/s; "
          f"errors {len(bare_errors)}")  # fmt: skip
    print(f"throughput ratio {throughput / bare_throughput:.2f}")
    return 0 if not errors and lost == 0 else 1


async def _gather(tasks: list) -> list:  # type: ignore[type-arg]
    return await asyncio.gather(*tasks)


if __name__ == "__main__":
    sys.exit(main())
