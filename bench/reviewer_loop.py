"""The reviewer's loop under load: open a score sheet (GET), save one score on it (an htmx
autosave POST carrying the page's CSRF token and version), next applicant.

Builds, through the service functions, a procedure in its interviews with M scoring members
and A invited applicants on a fresh SQLite database (or --database-url), starts the app with
2 uvicorn workers on 127.0.0.1 and beside it a bare FastAPI + sqlite3 pair
(bench/bare_sheet.py: GET reads a row and renders a small form, POST checks a token and
updates the row), and drives both with 1, 10 and 50 clients, interleaved in the same run.
Client i is member i mod M; it walks the applicants in an order of its own, so at 50 clients
two clients of one member now and then open the same sheet at once and one of them gets the
version check's 409 (expected, counted apart); any 5xx is a failure.

Per client count it reports pairs/s, median GET and POST latency, the server's CPU per
pair (parent and workers, from /proc), and the errors. Bounded: each measurement stops at
--pairs pairs or --seconds seconds, whichever comes first.

    .venv/bin/python bench/reviewer_loop.py --runs 3
    .venv/bin/python bench/reviewer_loop.py --runs 1 --database-url postgresql+psycopg://...
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.deadline_rush import children, free_port, start  # noqa: E402
from bench.scoring_autosave import VERSION, bench_committee, log_in  # noqa: E402

REFERENCE = "BENCH-2026-1"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(
    var_dir: Path, database_url: str, members: int, applicants: int
) -> tuple[list[str], list[tuple[str, int]], list[str]]:
    """A procedure in its interviews: `members` scorers (a chair and members, and an
    observer), `applicants` invited applicants with their two documents, no sheets yet.
    Returns the application references, (e-mail, member id) of the scorers, the criteria."""
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    # Building 200 applications on a loaded machine: the PDF check's time limit is for uploads.
    os.environ.setdefault("PDF_CHECK_SECONDS", "30")
    from sqlmodel import col, select

    from app import demo
    from app.accounts.models import User
    from app.accounts.service import create_user
    from app.applications.models import Application
    from app.config import Settings
    from app.db import connect, utcnow
    from app.migrate import upgrade
    from app.procedures import organisations
    from app.procedures.models import ProcedureMember
    from app.procedures.vocabulary import Phase

    settings = Settings()
    upgrade(settings.database_url)
    database = connect(settings.database_url)
    with database.session(write=True) as session:
        organisation = organisations.create_organisation(
            session, actor="system", slug="nva", name="NVA", short_name="NVA"
        )
        committee = bench_committee(session, members)
        people = tuple(
            create_user(session, email=f"applicant{n}@example.org", name=f"Kandidaat {n}",
                        password=None)
            for n in range(applicants)
        )  # fmt: skip
        spec = demo.DemoProcedure("nva", REFERENCE, Phase.INTERVIEWS, 4, "Bench",
                                  "Anesthesiologie", "Utrecht", "", -30)  # fmt: skip
        procedure = demo.complete_procedure(
            session, settings, organisation=organisation, spec=spec, committee=committee,
            actor="system", now=utcnow(), applicants=people,
        )  # fmt: skip
        scorers = session.execute(
            select(User.email, ProcedureMember.id)
            .join(ProcedureMember, col(ProcedureMember.user_id) == col(User.id))
            .where(ProcedureMember.procedure_id == procedure.id, ProcedureMember.role != "observer")
            .order_by(col(ProcedureMember.id))
        ).all()
        references = list(
            session.execute(
                select(Application.reference)
                .where(Application.procedure_id == procedure.id)
                .order_by(col(Application.reference))
            ).scalars()
        )
        assert procedure.rubric_content is not None
        criteria = [c["id"] for c in procedure.rubric_content["criteria"]]
    database.dispose()
    return references, [(email, int(member_id)) for email, member_id in scorers], criteria


def prepare_in_child(
    var_dir: Path, database_url: str, members: int, applicants: int
) -> tuple[list[str], list[tuple[str, int]], list[str]]:
    """prepare() in a fresh `python -c`: each PDF check of the applications forks a child
    that imports the parent's main module, which for this script is httpx and the rest."""
    code = (
        "import json, sys; sys.path.insert(0, sys.argv[1]); from pathlib import Path; "
        "from bench.reviewer_loop import prepare; "
        "print(json.dumps(prepare(Path(sys.argv[2]), sys.argv[3], int(sys.argv[4]), "
        "int(sys.argv[5]))))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(ROOT), str(var_dir), database_url, str(members),
         str(applicants)],
        check=True, capture_output=True, text=True, cwd=ROOT,
    )  # fmt: skip
    references, scorers, criteria = json.loads(done.stdout.strip().splitlines()[-1])
    return references, [(email, int(member)) for email, member in scorers], criteria


@dataclass
class Tally:
    get: list[float] = field(default_factory=list)
    post: list[float] = field(default_factory=list)
    pairs: int = 0
    errors: Counter[str] = field(default_factory=Counter)  # "409", "5xx", "other"

    def error(self, status: int) -> None:
        self.errors["5xx" if status >= 500 else str(status) if status == 409 else "other"] += 1


async def reviewer(
    base: str,
    cookies: httpx.Cookies | None,
    member: int,
    client: int,
    references: list[str],
    criteria: list[str],
    tally: Tally,
    stop: asyncio.Event,
    budget: list[int],
    bare: bool,
) -> None:
    """One client's loop: GET a sheet, POST one score with the page's token and version."""
    rng = random.Random(client)
    order = references[:]
    rng.shuffle(order)
    headers = {"HX-Request": "true", "X-Fragment": "status"}
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as http:
        step = 0
        while not stop.is_set() and budget[0] > 0:
            budget[0] -= 1
            application = order[step % len(order)]
            criterion = criteria[step % len(criteria)]
            step += 1
            sheet = (
                f"/bare/{member}/{application}"
                if bare
                else f"/committee/{REFERENCE}/applicants/{application}"
            )
            started = time.perf_counter()
            try:
                page = await http.get(sheet)
            except httpx.HTTPError:
                tally.errors["network"] += 1
                continue
            tally.get.append(time.perf_counter() - started)
            token, version = CSRF.search(page.text), VERSION.search(page.text)
            if page.status_code != 200 or token is None or version is None:
                tally.error(page.status_code if page.status_code != 200 else 0)
                continue
            data = {
                "csrf_token": token.group(1),
                "version": version.group(1),
                f"level-{criterion}": str(rng.randint(1, 5)),
            }
            target = sheet if bare else f"{sheet}/sheets/{member}"
            started = time.perf_counter()
            try:
                saved = await http.post(target, data=data, headers=headers)
            except httpx.HTTPError:
                tally.errors["network"] += 1
                continue
            tally.post.append(time.perf_counter() - started)
            if saved.status_code != 200:
                tally.error(saved.status_code)
                continue
            tally.pairs += 1


async def gets_alone(
    base: str,
    pid: int,
    cookies: httpx.Cookies | None,
    member: int,
    references: list[str],
    count: int,
    bare: bool,
) -> float:
    """The server CPU of one sheet GET (ms), one request at a time, `count` sheets in turn."""
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as http:
        before = server_cpu(pid)
        for n in range(count):
            application = references[n % len(references)]
            sheet = f"/bare/{member}/{application}" if bare else f"/committee/{REFERENCE}/applicants/{application}"  # fmt: skip
            response = await http.get(sheet)
            assert response.status_code == 200, (sheet, response.status_code)
        return (server_cpu(pid) - before) / count * 1000


def server_cpu(pid: int) -> float:
    """CPU seconds of the server: the parent and its worker processes."""
    # Imported here: the PDF checks of prepare() run in child processes that import this
    # module, and framework_overhead imports the whole app.
    from bench.framework_overhead import cpu_seconds

    total = 0.0
    for process in [pid, *children(pid)]:
        try:
            total += cpu_seconds(process)
        except OSError:
            continue
    return total


@dataclass
class Figures:
    pairs_per_second: float
    get_median_ms: float
    post_median_ms: float
    cpu_per_pair_ms: float
    errors: Counter[str]


async def measure(
    base: str,
    pid: int,
    sessions: list[tuple[httpx.Cookies | None, int]],
    clients: int,
    references: list[str],
    criteria: list[str],
    pairs: int,
    seconds: float,
    bare: bool,
    seed: int,
) -> Figures:
    tally, stop, budget = Tally(), asyncio.Event(), [pairs]
    before = server_cpu(pid)
    started = time.perf_counter()
    tasks = [
        asyncio.create_task(
            reviewer(base, *sessions[n % len(sessions)], seed * 1000 + n, references, criteria,
                     tally, stop, budget, bare)
        )
        for n in range(clients)
    ]  # fmt: skip
    await asyncio.wait(tasks, timeout=seconds)
    stop.set()
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    cpu = server_cpu(pid) - before
    return Figures(
        tally.pairs / wall,
        statistics.median(tally.get) * 1000 if tally.get else float("nan"),
        statistics.median(tally.post) * 1000 if tally.post else float("nan"),
        cpu / max(tally.pairs, 1) * 1000,
        tally.errors,
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", default="1,10,50")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pairs", type=int, default=600, help="at most this many per measure")
    parser.add_argument("--seconds", type=float, default=15, help="at most this long per measure")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument(
        "--sheet-gets", type=int, default=300,
        help="per run, first this many sheet GETs by one client alone: the server CPU of one",
    )  # fmt: skip
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="reviewer-"))
    database_url = args.database_url or f"sqlite:///{work / 'app.db'}"
    started = time.perf_counter()
    references, scorers, criteria = prepare_in_child(
        work, database_url, args.members, args.applicants
    )
    print(f"prepared {len(scorers)} scorers, {len(references)} applicants in "
          f"{time.perf_counter() - started:.0f} s", flush=True)  # fmt: skip
    env = {**os.environ, "VAR_DIR": str(work), "DATABASE_URL": database_url,
           "BARE_DATABASE": str(work / "bare.db"), "BARE_MEMBERS": str(len(scorers)),
           "BARE_APPLICANTS": ",".join(references), "BARE_CRITERIA": ",".join(criteria)}  # fmt: skip
    port, bare_port = free_port(), free_port()
    common = ["--workers", str(args.workers), "--log-level", "warning", "--host", "127.0.0.1"]
    server = start([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory",
                    "--port", str(port), *common], env, port)  # fmt: skip
    bare = start([sys.executable, "-m", "uvicorn", "bench.bare_sheet:app",
                  "--port", str(bare_port), *common], env, bare_port)  # fmt: skip
    base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    counts = [int(c) for c in args.clients.split(",") if c]
    results: dict[tuple[str, int], list[Figures]] = {}
    alone: dict[str, list[float]] = {"app": [], "bare": []}
    try:

        async def everything() -> None:
            logged_in = await asyncio.gather(*(log_in(base, email) for email, _id in scorers))
            app_sessions: list[tuple[httpx.Cookies | None, int]] = [
                (cookies, member_id)
                for (cookies, _token), (_email, member_id) in zip(logged_in, scorers, strict=True)
            ]
            bare_sessions: list[tuple[httpx.Cookies | None, int]] = [
                (None, n) for n in range(len(scorers))
            ]
            for run in range(args.runs):
                if args.sheet_gets:
                    for name, url, pid, (cookies, member) in (
                        ("app", base, server.pid, app_sessions[0]),
                        ("bare", bare_base, bare.pid, bare_sessions[0]),
                    ):
                        cpu = await gets_alone(
                            url, pid, cookies, member, references, args.sheet_gets, name == "bare"
                        )
                        alone[name].append(cpu)
                        print(f"run {run + 1} {name:4s} sheet GET alone: {cpu:5.2f} ms server CPU",
                              flush=True)  # fmt: skip
                for clients in counts:
                    for name, url, pid, sessions in (
                        ("app", base, server.pid, app_sessions),
                        ("bare", bare_base, bare.pid, bare_sessions),
                    ):
                        figures = await measure(
                            url, pid, sessions, clients, references, criteria, args.pairs,
                            args.seconds, name == "bare", run,
                        )  # fmt: skip
                        results.setdefault((name, clients), []).append(figures)
                        print(f"run {run + 1} {name:4s} {clients:3d} clients: "
                              f"{figures.pairs_per_second:7.1f} pairs/s, GET "
                              f"{figures.get_median_ms:6.1f} ms, POST {figures.post_median_ms:6.1f}"
                              f" ms, CPU/pair {figures.cpu_per_pair_ms:5.2f} ms, errors "
                              f"{dict(figures.errors)}", flush=True)  # fmt: skip

        asyncio.run(everything())
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait(timeout=20)

    kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    if args.sheet_gets:
        print(f"sheet GET alone, server CPU, median of {args.runs}: app "
              f"{statistics.median(alone['app']):.2f} ms, bare {statistics.median(alone['bare']):.2f}"
              f" ms (runs: {', '.join(f'{c:.2f}' for c in alone['app'])})")  # fmt: skip
    print(f"\n{kind}, {len(scorers)} members, {len(references)} applicants, {args.workers} "
          f"workers each; medians of {args.runs} run(s)")  # fmt: skip
    print("| clients | app pairs/s | GET p50 | POST p50 | CPU/pair | 409 | 5xx | other "
          "| bare pairs/s | bare CPU/pair | ratio |")  # fmt: skip
    failed = False
    for clients in counts:
        app, base_line = results[("app", clients)], results[("bare", clients)]

        def med(runs: list[Figures], attribute: str) -> float:
            return statistics.median(getattr(f, attribute) for f in runs)

        errors = Counter[str]()
        for f in app:
            errors.update(f.errors)
        failed = failed or errors["5xx"] > 0 or errors["network"] > 0
        ratios = [
            a.pairs_per_second / b.pairs_per_second for a, b in zip(app, base_line, strict=True)
        ]
        print(f"| {clients} | {med(app, 'pairs_per_second'):.1f} | {med(app, 'get_median_ms'):.1f} ms"
              f" | {med(app, 'post_median_ms'):.1f} ms | {med(app, 'cpu_per_pair_ms'):.2f} ms"
              f" | {errors['409']} | {errors['5xx']} | {errors['other'] + errors['network']}"
              f" | {med(base_line, 'pairs_per_second'):.0f} | {med(base_line, 'cpu_per_pair_ms'):.2f} ms"
              f" | {statistics.median(ratios):.3f} |")  # fmt: skip
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
