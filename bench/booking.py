"""Interview booking rush (issue 16): N invited applicants book the schedule's slots at once.

Builds, through the service functions (never raw inserts of app rows), one procedure in its
letter round with N invited applicants, a committee of 5 panels of three and 60 slots (two
interview days, two half-days, three interviews per panel per half-day), and starts the real
server (uvicorn, 2 workers) on 127.0.0.1 against SQLite (a fresh file) or `--database-url`
(an EMPTY PostgreSQL database). Everyone logs in beforehand (their own session cookie and
CSRF token); then all N post their chosen slot at the same instant (a barrier, through a
bounded pool of connections). An applicant told that the slot is gone (409) picks again from
the free times on the page they got back, until they are booked or the page says no time is
left. Beside it, in the same run, the bare baseline (`bench/bare_insert.py`: parse the form,
insert one row) takes N simultaneous posts through the same pool.

Checked afterwards from the database, per run: no 5xx, no slot booked twice, no applicant
with two slots, no panel over its per-half-day maximum, everyone answered 303 has exactly the
slot they last asked for, everyone else was told the slot is gone (409 with the message) and
holds none, booked == min(N, slots), and the audit chain verifies with one `booking.made`
per booking. Between runs an admin cancels every booking (`schedule.cancel`).

Bounded: N applicants, at most slots + 1 posts each, `--seconds` per run, loopback only.

    .venv/bin/python bench/booking.py --applicants 200 --runs 3
    .venv/bin/python bench/booking.py --applicants 200 --runs 3 \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/EMPTY_DATABASE
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.deadline_rush import free_port, log_in, percentile, start  # noqa: E402

REFERENCE = "BOOK-2027-1"
PANELS, PER_PANEL = 5, 3  # 5 panels x 2 days x 2 half-days x 3 interviews = 60 slots
SLOT = re.compile(r'name="slot" value="(\d+)"')
# The client drops a connection idle this long, well before uvicorn closes it (after 5 s):
# with both at 5 s, a post sent on a connection the server closes at that very moment
# fails with a ReadError (a browser would send it again).
KEEPALIVE = 2.0


@dataclass
class Applicant:
    email: str
    reference: str  # their application's
    application_id: int
    cookie: str = ""  # the Cookie header of their logged-in browser
    token: str = ""


@dataclass
class Outcome:
    """One applicant's rush: every post's status and latency, and how it ended."""

    statuses: list[int] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    first: float = 0.0  # seconds from the barrier to the answer of their first post
    booked_slot: int | None = None  # the slot of their 303
    told_gone: bool = False  # their last answer: 409 "someone else has just booked it"
    nothing_left: bool = False  # ... and the page offered no free time any more
    problem: str = ""


def prepare(var_dir: Path, database_url: str, applicants: int) -> list[Applicant]:
    """The procedure, as an admin and the applicants would have made it, through the app's
    own service functions; returns the applicants with their application references."""
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    from sqlmodel import col, select

    from app import demo
    from app.accounts.models import User
    from app.accounts.service import create_user
    from app.applications.models import Application
    from app.config import Settings
    from app.db import connect, utcnow
    from app.interviews import panels, schedule
    from app.migrate import upgrade
    from app.procedures import organisations, queries
    from app.procedures.vocabulary import Phase

    settings = Settings()
    upgrade(settings.database_url)
    database = connect(settings.database_url)
    with database.session(write=True) as session:
        if session.execute(select(User).where(User.email == "lid0@example.org")).first():
            raise SystemExit("the database is not empty: give the benchmark a fresh one")
        organisation = organisations.create_organisation(
            session, actor="system", slug="nva", name="NVA", short_name="NVA"
        )
        functions = ("opleider", "staff", "aios")
        committee = [
            (
                create_user(session, email=f"lid{n}@example.org", name=f"Lid {n}", password=None),
                "chair" if n == 0 else "member",
                functions[n % 3],
            )
            for n in range(PANELS * PER_PANEL)
        ]
        observer = create_user(session, email="waarnemer@example.org", name="Waarnemer",
                               password=None)  # fmt: skip
        committee.append((observer, "observer", ""))
        people = tuple(
            create_user(
                session,
                email=f"applicant{n}@example.org",
                name=f"Sollicitant {n}",
                password="bench password 123",
            )
            for n in range(applicants)
        )
        # Closed 15 days ago: the letter round is on, the interview days are 6 and 7 days
        # ahead, so that every slot can still be booked (until a day before it).
        spec = demo.DemoProcedure("nva", REFERENCE, Phase.LETTER_ROUND, 60, "Bench",
                                  "Anesthesiologie", "Utrecht", "", -15)  # fmt: skip
        procedure = demo.complete_procedure(
            session, settings, organisation=organisation, spec=spec, committee=committee,
            actor="system", now=utcnow(), applicants=people,
        )  # fmt: skip
        demo._letter_round(session, settings, procedure, "system")
        members = [m for m, _u in queries.members(session, procedure) if m.role != "observer"]
        for number in range(PANELS):
            panel = panels.add_panel(
                session, actor="system", procedure=procedure, name=f"Panel {number + 1}"
            )
            for member in members[number * PER_PANEL : (number + 1) * PER_PANEL]:
                panels.seat_member(
                    session, actor="system", procedure=procedure, member=member, panel=panel
                )
        schedule.generate(session, actor="system", procedure=procedure)
        rows = session.execute(
            select(User.email, Application.reference, Application.id)
            .join(Application, col(Application.applicant_id) == col(User.id))
            .where(Application.procedure_id == procedure.id)
        ).all()
    database.dispose()
    return [Applicant(email, reference, int(id_)) for email, reference, id_ in rows]


def translated(message: str) -> str:
    """The server's answer speaks Dutch by default."""
    from app.i18n import gettext as _
    from app.i18n import set_language

    set_language(os.environ.get("DEFAULT_LANGUAGE", "nl"))
    return _(message)


async def log_everyone_in(base: str, people: list[Applicant], parallel: int) -> None:
    gate = asyncio.Semaphore(parallel)

    async def one(person: Applicant) -> None:
        async with gate:
            client, token, problem = await log_in(base, person.email)
            await client.aclose()
        if problem:
            raise RuntimeError(f"{person.email}: {problem}")
        person.cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        person.token = token

    await asyncio.gather(*(one(person) for person in people))


def choose(offers: list[int], rng: random.Random, pick: str) -> int:
    """`random`: any free time; `early`: one of the first three free times (everybody wants
    the first morning)."""
    return rng.choice(offers if pick == "random" else offers[:3])


async def rush(
    base: str, people: list[Applicant], slot_ids: list[int], args: argparse.Namespace, seed: int
) -> tuple[list[Outcome], float, float]:
    """Everyone posts at the barrier, and the ones told the slot is gone pick again.
    Returns the outcomes, the wall time of the first posts and of the whole rush."""
    gone = translated("Someone else has just booked this slot: choose another.")
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections,
        keepalive_expiry=KEEPALIVE,
    )  # fmt: skip
    barrier = asyncio.Event()
    firsts_done: list[float] = []

    async with httpx.AsyncClient(base_url=base, timeout=args.seconds, limits=limits) as client:

        async def applicant(number: int, person: Applicant) -> Outcome:
            rng = random.Random(seed * 100_003 + number)
            outcome = Outcome()
            offers = list(slot_ids)  # what their page showed before the rush
            await barrier.wait()
            released = time.perf_counter()
            for attempt in range(len(slot_ids) + 1):
                slot = choose(offers, rng, args.pick)
                started = time.perf_counter()
                try:
                    response = await client.post(
                        f"/applications/{person.reference}/interview",
                        data={"csrf_token": person.token, "slot": str(slot)},
                        headers={"Cookie": person.cookie},
                    )
                except httpx.TransportError as error:  # counted as an error, like a 5xx
                    outcome.problem = (
                        f"no answer: {type(error).__name__} {error} (post {attempt + 1}, "
                        f"{time.perf_counter() - released:.1f} s after the barrier)"
                    )
                    outcome.told_gone = False
                    return outcome
                now = time.perf_counter()
                outcome.statuses.append(response.status_code)
                outcome.latencies.append(now - started)
                if attempt == 0:
                    outcome.first = now - released
                    firsts_done.append(now)
                if response.status_code == 303:
                    outcome.booked_slot, outcome.told_gone = slot, False
                    return outcome
                text = html.unescape(response.text)
                if response.status_code != 409 or gone not in text:
                    outcome.problem = f"{response.status_code}: {text[:200]!r}"
                    outcome.told_gone = False
                    return outcome
                outcome.told_gone = True
                offers = [int(s) for s in SLOT.findall(response.text)]
                if not offers:
                    outcome.nothing_left = True
                    return outcome
            outcome.problem, outcome.told_gone = "still no answer after slots + 1 posts", False
            return outcome

        tasks = [asyncio.create_task(applicant(n, person)) for n, person in enumerate(people)]
        await asyncio.sleep(0.2)  # every task is waiting at the barrier
        started = time.perf_counter()
        barrier.set()
        outcomes = await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.seconds)
        ended = time.perf_counter()
    return list(outcomes), max(firsts_done) - started, ended - started


async def bare_rush(
    base: str, count: int, args: argparse.Namespace
) -> tuple[list[float], list[int], float]:
    """The baseline: `count` simultaneous posts of the same form through the same pool."""
    limits = httpx.Limits(
        max_connections=args.connections, max_keepalive_connections=args.connections,
        keepalive_expiry=KEEPALIVE,
    )  # fmt: skip
    barrier = asyncio.Event()
    async with httpx.AsyncClient(base_url=base, timeout=args.seconds, limits=limits) as client:

        async def one(number: int) -> tuple[float, int]:
            await barrier.wait()
            released = time.perf_counter()
            response = await client.post(
                "/insert", data={"member": f"applicant{number}", "slot": str(number % 60)}
            )
            return time.perf_counter() - released, response.status_code

        tasks = [asyncio.create_task(one(n)) for n in range(count)]
        await asyncio.sleep(0.2)
        started = time.perf_counter()
        barrier.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=args.seconds)
        wall = time.perf_counter() - started
    return [t for t, _s in results], [s for _t, s in results], wall


def check(
    database_url: str, people: list[Applicant], outcomes: list[Outcome], since: int
) -> tuple[list[str], int]:
    """What the database says against what the applicants were told: the failures, and the
    number of bookings."""
    from sqlmodel import col, func, select

    from app.audit.models import AuditEntry
    from app.audit.service import verify_stored
    from app.db import connect
    from app.forms import AMSTERDAM
    from app.interviews.models import Booking, InterviewSlot
    from app.procedures import queries

    failures: list[str] = []
    database = connect(database_url)
    with database.session() as session:
        procedure = queries.get_procedure(session, REFERENCE)
        rows = session.execute(
            select(Booking, InterviewSlot)
            .join(InterviewSlot, col(InterviewSlot.id) == col(Booking.slot_id))
            .where(Booking.procedure_id == procedure.id)
        ).all()
        slots_total = session.execute(
            select(func.count())
            .select_from(InterviewSlot)
            .where(InterviewSlot.procedure_id == procedure.id)
        ).scalar_one()
        by_application = {b.application_id: b for b, _s in rows}
        if len({b.slot_id for b, _s in rows}) != len(rows):
            failures.append("a slot booked twice")
        if len(by_application) != len(rows):
            failures.append("an applicant with two slots")
        per_half_day: dict[tuple[int, str, bool], int] = {}
        for _b, slot in rows:
            local: datetime = slot.starts_at.astimezone(AMSTERDAM)
            key = (slot.panel_id, local.date().isoformat(), local.hour < 12)
            per_half_day[key] = per_half_day.get(key, 0) + 1
        if any(n > procedure.per_half_day for n in per_half_day.values()):
            failures.append(f"a panel over its {procedure.per_half_day} per half-day")
        if len(rows) != min(len(people), slots_total):
            failures.append(f"booked {len(rows)}, expected {min(len(people), slots_total)}")
        for person, outcome in zip(people, outcomes, strict=True):
            held = by_application.get(person.application_id)
            if outcome.booked_slot is not None:
                if held is None or held.slot_id != outcome.booked_slot:
                    failures.append(f"{person.reference} was told booked but holds {held}")
            elif not outcome.told_gone:
                failures.append(f"{person.reference}: {outcome.problem}")
            elif held is not None:
                failures.append(f"{person.reference} was told gone but holds slot {held.slot_id}")
        made = session.execute(
            select(func.count()).select_from(AuditEntry).where(
                AuditEntry.chain == REFERENCE, AuditEntry.action == "booking.made",
                col(AuditEntry.seq) > since,
            )
        ).scalar_one()  # fmt: skip
        if made != len(rows):
            failures.append(f"{made} booking.made entries in the chain for {len(rows)} bookings")
        verdict = verify_stored(session, REFERENCE)
        if not verdict.ok:
            failures.append(f"the audit chain does not verify: {verdict}")
    database.dispose()
    return failures, len(rows)


def chain_length(database_url: str) -> int:
    from app.audit.service import head
    from app.db import connect

    database = connect(database_url)
    with database.session() as session:
        found = head(session, REFERENCE)
        seq = int(found.seq) if found is not None else 0
    database.dispose()
    return seq


def free_the_schedule(database_url: str) -> list[int]:
    """An admin cancels every booking, through the service; returns the slot ids."""
    from app.applications.models import Application
    from app.config import Settings
    from app.db import connect
    from app.interviews import schedule
    from app.procedures import queries

    database = connect(database_url)
    with database.session(write=True) as session:
        procedure = queries.get_procedure(session, REFERENCE)
        for booking in list(schedule.bookings(session, procedure).values()):
            application = session.get(Application, booking.application_id)
            assert application is not None
            schedule.cancel(session, Settings(), actor="system", procedure=procedure,
                            application=application)  # fmt: skip
        slot_ids = [s.id for s in schedule.slots(session, procedure) if s.id is not None]
    database.dispose()
    return slot_ids


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=50, help="the client's pool")
    parser.add_argument("--pick", choices=("random", "early"), default="random")
    parser.add_argument("--seconds", type=float, default=120.0, help="the bound of one rush")
    parser.add_argument("--database-url", default="", help="an EMPTY database (default: SQLite)")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="booking-"))
    database_url = args.database_url or f"sqlite:///{work / 'app.db'}"
    kind = "PostgreSQL" if database_url.startswith("postgres") else "SQLite"
    started = time.perf_counter()
    people = prepare(work, database_url, args.applicants)
    print(f"prepared {len(people)} invited applicants in {time.perf_counter() - started:.0f} s")
    import bench.bare_insert  # creates the baseline's table before its workers start

    bench.bare_insert.database.dispose()
    env = {**os.environ, "VAR_DIR": str(work), "DATABASE_URL": database_url}
    port, bare_port = free_port(), free_port()
    server = start([sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--host",
                    "127.0.0.1", "--port", str(port), "--workers", str(args.workers),
                    "--log-level", os.environ.get("BENCH_LOG_LEVEL", "warning")], env, port, log=work / "server.log")  # fmt: skip
    bare = start([sys.executable, "-m", "uvicorn", "bench.bare_insert:app", "--host", "127.0.0.1",
                  "--port", str(bare_port), "--workers", str(args.workers),
                  "--log-level", "warning"], env, bare_port)  # fmt: skip
    base, bare_base = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{bare_port}"
    failed = False
    figures = []
    try:
        started = time.perf_counter()
        asyncio.run(log_everyone_in(base, people, parallel=8))
        print(f"logged in {len(people)} applicants in {time.perf_counter() - started:.0f} s")
        print(f"{args.applicants} applicants, {args.workers} workers, {kind}, picks {args.pick}, "
              f"{args.connections} connections")  # fmt: skip
        for run in range(1, args.runs + 1):
            slot_ids = free_the_schedule(database_url)
            since = chain_length(database_url)
            outcomes, first_wall, wall = asyncio.run(rush(base, people, slot_ids, args, seed=run))
            bare_times, bare_statuses, bare_wall = asyncio.run(
                bare_rush(bare_base, len(people), args)
            )
            failures, booked = check(database_url, people, outcomes, since)
            statuses = [s for o in outcomes for s in o.statuses]
            unanswered = sum(1 for o in outcomes if o.problem.startswith("no answer"))
            errors = sum(1 for s in statuses if s >= 500) + unanswered
            firsts = [o.first for o in outcomes]
            bare_errors = sum(1 for s in bare_statuses if s != 200)
            gone = sum(1 for o in outcomes if o.booked_slot is None and o.told_gone)
            nothing = sum(1 for o in outcomes if o.nothing_left)
            figures.append(
                (first_wall, len(people) / first_wall, statistics.median(firsts),
                 percentile(firsts, 0.95), bare_wall, len(people) / bare_wall,
                 statistics.median(bare_times), percentile(bare_times, 0.95),
                 len(statuses) / wall)
            )  # fmt: skip
            print(
                f"run {run}: posts {len(statuses)} (first {len(people)}, then "
                f"{len(statuses) - len(people)} picks again), 5xx or no answer {errors}, "
                f"booked {booked} "
                f"of {len(slot_ids)} slots, told the slot is gone {gone} "
                f"({nothing} with no free time left), 409s {statuses.count(409)}; "
                f"checks {'ok' if not failures else failures[:5]}"
            )
            print(
                f"  first posts: wall {first_wall:.2f} s, {len(people) / first_wall:.0f} "
                f"attempts/s, median {statistics.median(firsts) * 1000:.0f} ms, p95 "
                f"{percentile(firsts, 0.95) * 1000:.0f} ms; until everyone had an answer "
                f"{wall:.2f} s ({len(statuses) / wall:.0f} posts/s with the picks again)"
            )
            print(
                f"  bare insert: wall {bare_wall:.2f} s, {len(people) / bare_wall:.0f} "
                f"requests/s, median {statistics.median(bare_times) * 1000:.0f} ms, p95 "
                f"{percentile(bare_times, 0.95) * 1000:.0f} ms, errors {bare_errors}; "
                f"wall ratio {first_wall / bare_wall:.2f}"
            )
            failed = failed or bool(failures) or errors > 0 or bare_errors > 0
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait(timeout=20)
    log = (work / "server.log").read_text(errors="replace").strip()
    if log:
        print(f"the server said ({work / 'server.log'}):\n{log[-3000:]}")
    if figures:
        m = [statistics.median(column) for column in zip(*figures, strict=True)]
        print(
            f"median of {len(figures)} runs: wall {m[0]:.2f} s, {m[1]:.0f} attempts/s, median "
            f"{m[2] * 1000:.0f} ms, p95 {m[3] * 1000:.0f} ms; bare wall {m[4]:.2f} s, "
            f"{m[5]:.0f} requests/s, median {m[6] * 1000:.0f} ms, p95 {m[7] * 1000:.0f} ms; "
            f"ratio of walls {statistics.median(f[0] / f[4] for f in figures):.2f}; all posts "
            f"{m[8]:.0f}/s"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
