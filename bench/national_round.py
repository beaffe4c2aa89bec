"""The pages and exports of a national round (issue 21): N invited applicants, every sheet
submitted, every joint outcome recorded, the draw held; the server time of every page a user
opens in such a round, and of the finalisation's service functions, at each size.

For each size a child process builds one procedure on a fresh SQLite database through the
demo's own service functions (`app.demo.complete_procedure`: created, published, opened;
N applicants apply; closed; the letter round decided and published; interviews; every
scorer saves and submits a sheet per applicant with the demo rubric's 6 criteria; the
deliberation started), then times the finalisation once, in order, on that procedure:

- outcomes: `demo.record_outcomes`, one joint outcome per applicant (`deliberation.record_outcome`);
- ranking: `draws.rank` under the published rule (median of 5, read only);
- draw: `demo.hold_draw` (the tie group prepared, both parties commit, announce, reveal);
- placement data: `draws.rank` again with the draw settled, and `placement.match.record` over
  its order for 30 institutions with every candidate's random list (the helper of
  `bench/placement.py`; the pure assignment, no database);
- the finalisation of issue 21's goal (under 1 s at 10,000): the sum of the ranking, the
  draw, the ranking with the draw settled and the placement data, from the recorded joint
  outcomes on (recording them is the committee's work, one deliberation at a time).

The lists about every applicant (the committee's list, the admin's overview, the observer's
view, the report page) show 50 applicants a page: each is asked as a user first opens it,
and some on their last page or searched; the CSV and XLSX hold every applicant.

Then it logs in (admin, chair, observer) and asks each page `--repeat` times in-process
(Starlette's TestClient: the server's own time, no network), after one warm-up request, and
reports the median and the SQL statements of one request. `/healthz` is the baseline of the
same run. The report PDF is asked `--pdf-repeat` times, and only up to `--pdf-max`
applicants (33 s a request at 100). `--profile PAGE ...` runs py-spy on this process during
3 more requests of each page at the largest size and prints where the time goes.

Shortcuts, and why the pages read the same as in real use:
- Committee: the chair and 4 members scoring every applicant, and an observer (the brief's
  fallback): 60 members in 20 panels would need 2,000 interview bookings (slots, panels,
  bookings), which this script does not build. Every applicant has 5 sheets.
- Accounts: applicants are `User` rows made directly (no password, so no argon2), as
  `demo._candidates` does; only the three who log in get a password.
- Applications: `demo._apply`, the real `submission.start` / `save_draft` / `submit` with two
  small one-page PDFs each (parsed, hashed and stored as in real use): the pages read the
  same rows.
- The results are not published: the procedure stays in the deliberation so that the
  results publication page (`/manage/procedures/{ref}/publish-results`, the confirmation
  with the letters' preview) can be asked; the public page is the deliberation's.

    .venv/bin/python bench/national_round.py --sizes 200 2000 --repeat 5 --pdf-max 0
    .venv/bin/python bench/national_round.py --sizes 20 40 100 --pdf-repeat 1 --pdf-max 100
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench password 123"  # noqa: S105 (a throwaway database)
REFERENCE = "NAT-2027-1"
# name: (who asks, path); {ref} the procedure, {app} the first applicant's reference.
PAGES = {
    "baseline: /healthz": ("anonymous", "/healthz"),
    "committee's list": ("chair", "/committee/{ref}"),
    "committee's list, last page": ("chair", "/committee/{ref}?page=999"),
    "committee's list, searched": ("chair", "/committee/{ref}?q=Kandidaat+17&status=submitted"),
    "a sheet (submitted)": ("chair", "/committee/{ref}/applicants/{app}"),
    "a deliberation": ("chair", "/committee/{ref}/applicants/{app}/deliberation"),
    "round figures": ("chair", "/committee/{ref}/round"),
    "scoring overview (admin)": ("admin", "/manage/procedures/{ref}/scoring"),
    "ranking": ("admin", "/manage/procedures/{ref}/ranking"),
    "observer's round view": ("observer", "/observer/procedures/{ref}"),
    "observer's round view, last page": ("observer", "/observer/procedures/{ref}?page=999"),
    "report (HTML)": ("observer", "/procedures/{ref}/report"),
    "report (CSV)": ("observer", "/procedures/{ref}/report.csv"),
    "report (XLSX)": ("observer", "/procedures/{ref}/report.xlsx"),
    "report (PDF)": ("observer", "/procedures/{ref}/report.pdf"),
    "public page": ("anonymous", "/procedures/{ref}"),
    "results publication": ("admin", "/manage/procedures/{ref}/publish-results"),
}
LOGINS = {
    "admin": "admin@example.org",
    "chair": "chair@example.org",
    "observer": "observer@example.org",
}


def _timed(work: Callable[[], Any], runs: int = 1) -> tuple[float, Any]:
    from bench.placement import timed  # imported late: it imports `app`

    return timed(work, runs)


def worker(
    applicants: int,
    repeat: int,
    pdf_repeat: int,
    pages: bool,
    profile: tuple[str, ...] = (),
    bulk: int = 0,
) -> dict[str, Any]:
    """Runs in a child process: build, finalise, measure."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-national-"))
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.db"
    sys.path.insert(0, str(ROOT))
    from fastapi.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from app.migrate import upgrade

    figures: dict[str, Any] = {"applicants": applicants}
    settings = Settings()
    upgrade(settings.database_url)
    app = create_app(settings)
    database = app.state.database
    # Built before the app starts: its clock would open and close the procedure at the
    # (simulated, past) published times while the applicants apply.
    figures.update(_build_and_finalise(database, settings, applicants, bulk))
    with TestClient(app):
        if pages:
            figures["pages"] = _pages(app, database, settings, figures.pop("first"), repeat,
                                      pdf_repeat, profile)  # fmt: skip
        else:
            figures.pop("first")
    return figures


def _build_and_finalise(
    database: Any, settings: Any, applicants: int, bulk: int = 0
) -> dict[str, Any]:
    from app import demo
    from app.accounts.models import User
    from app.accounts.service import create_user
    from app.db import utcnow
    from app.lottery import draws
    from app.placement import match
    from app.procedures.models import Organisation, OrganisationAdmin
    from app.procedures.vocabulary import Phase
    from bench.placement import instance

    figures: dict[str, Any] = {}
    started = time.perf_counter()
    with database.session(write=True) as session:
        organisation = Organisation(slug="nat", name="Landelijk", short_name="LAN")
        session.add(organisation)
        admin = create_user(session, email="admin@example.org", name="Beheerder", password=PASSWORD)
        session.flush()
        assert organisation.id is not None and admin.id is not None
        session.add(OrganisationAdmin(organisation_id=organisation.id, user_id=admin.id))

        def person(email: str, name: str, login: bool = False) -> User:
            return create_user(
                session, email=email, name=name, password=PASSWORD if login else None
            )

        committee = [
            (person("chair@example.org", "Voorzitter", True), "chair", "opleider"),
            (person("staff1@example.org", "Staflid 1"), "member", "staff"),
            (person("staff2@example.org", "Staflid 2"), "member", "staff"),
            (person("aios@example.org", "Aios"), "member", "aios"),
            (person("nurse@example.org", "Verpleegkundige"), "member", "nurse"),
            (person("observer@example.org", "Waarnemer", True), "observer", ""),
        ]
        now = utcnow()
        people = []
        for number in range(applicants - bulk if bulk else applicants):
            user = User(email=f"a{number}@example.org", name=f"Kandidaat {number}",
                        email_verified_at=now)  # fmt: skip
            session.add(user)
            people.append(user)
        session.commit()
        spec = demo.DemoProcedure(
            organisation="nat", reference=REFERENCE, phase=Phase.DELIBERATION,
            places=min(500, max(2, applicants // 10)), title="Landelijke ronde",
            specialty="Anesthesiologie", region="Nederland",
            description="Een landelijke procedure voor de benchmark.", closes_in_days=-60,
        )  # fmt: skip
        procedure = demo.complete_procedure(
            session, settings, organisation=organisation, spec=spec, committee=committee,
            actor="system", now=now, applicants=tuple(people), ties={},
        )  # fmt: skip
        session.commit()
        if bulk:
            _add_rows(session, procedure, bulk, now)
        figures["build_s"] = time.perf_counter() - started

        # The finalisation, in order, each once (the writes) or the median of 5 (reads).
        final: dict[str, float] = {}
        final["outcomes"], _ = _timed(lambda: demo.record_outcomes(session, procedure))
        session.commit()
        final["ranking"], ranked = _timed(lambda: draws.rank(session, procedure), 5)
        final["draw"], _ = _timed(lambda: demo.hold_draw(session, procedure, "system"))
        session.commit()
        final["ranking with the draw"], settled = _timed(lambda: draws.rank(session, procedure), 5)
        order = settled.placed + settled.tie + [ref for group in settled.below for ref in group]
        data = instance(len(order), 30, 2027)
        preferences = dict(zip(order, data["preferences"].values(), strict=True))
        final["placement (match.record)"], _ = _timed(
            lambda: match.record(
                f"{REFERENCE}/placement-1", data["institutions"], {"ranking": "lottery_among_suitable"}, order,
                preferences,
            ),
            5,
        )  # fmt: skip
        # What the 1 s goal of issue 21 times: from the recorded outcomes to the placement's
        # data (the committee's outcomes are decisions taken one by one, over days).
        final["finalisation: ranking → draw → placement"] = sum(
            final[step]
            for step in ("ranking", "draw", "ranking with the draw", "placement (match.record)")
        )
        figures["finalisation_ms"] = {k: v * 1000 for k, v in final.items()}
        figures["suitable"] = len(order)
        figures["needs_draw"] = ranked.needs_draw
        figures["first"] = order[0]
        session.commit()
    return figures


def _add_rows(session: Any, procedure: Any, count: int, now: Any) -> None:
    """`count` more invited applicants, as rows (`--bulk`): their accounts, applications
    (submitted and invited) and 5 submitted sheets each, with the levels and reasons the
    demo's scorers give (`demo.demo_sheet`). What the letter round, the documents and the
    audit chain hold of them is left out: the pages and the finalisation do not read it."""
    from sqlalchemy import insert, select

    from app import demo
    from app.accounts.models import User
    from app.applications.models import Application
    from app.permissions import SCORING_ROLES
    from app.procedures.models import ProcedureMember
    from app.procedures.queries import rubric_of
    from app.scoring.models import ScoreSheet

    rubric = rubric_of(procedure)
    members = (
        session.execute(
            select(ProcedureMember.id).where(
                ProcedureMember.procedure_id == procedure.id,
                ProcedureMember.role.in_(sorted(SCORING_ROLES)),  # type: ignore[attr-defined]
            )
        )
        .scalars()
        .all()
    )
    first = (
        session.execute(select(Application.id).where(Application.procedure_id == procedure.id))
        .scalars()
        .all()
    )
    start = len(first) + 1
    numbers = range(start, start + count)
    session.execute(insert(User), [
        {"email": f"b{n}@example.org", "name": f"Kandidaat {n}", "email_verified_at": now,
         "created_at": now, "is_platform_admin": False}
        for n in numbers
    ])  # fmt: skip
    users = dict(session.execute(
        select(User.email, User.id).where(User.email.like("b%@example.org"))  # type: ignore[attr-defined]
    ).all())  # fmt: skip
    session.execute(insert(Application), [
        {"procedure_id": procedure.id, "applicant_id": users[f"b{n}@example.org"],
         "reference": f"{procedure.reference}-{n:04d}", "status": "submitted", "answers": {},
         "created_at": now, "updated_at": now, "submitted_at": now,
         "letter_round_outcome": "invited", "retention_consent": False}
        for n in numbers
    ])  # fmt: skip
    added = (
        session.execute(
            select(Application).where(
                Application.procedure_id == procedure.id,
                Application.id.not_in(first),  # type: ignore[union-attr]
            )
        )
        .scalars()
        .all()
    )
    sheets = []
    for application in added:
        for member_id in members:
            given = demo.demo_sheet(application, member_id, rubric)
            sheets.append({
                "procedure_id": procedure.id, "application_id": application.id,
                "member_id": member_id, "status": "submitted",
                "levels": {k: int(v) for k, v in given.levels.items()},
                "reasons": given.reasons, "version": 2, "created_at": now,
                "updated_at": now, "submitted_at": now,
            })  # fmt: skip
    for at in range(0, len(sheets), 5000):
        session.execute(insert(ScoreSheet), sheets[at : at + 5000])
    session.commit()


def _pages(
    app: Any,
    database: Any,
    settings: Any,
    first: str,
    repeat: int,
    pdf_repeat: int,
    profile: tuple[str, ...] = (),
) -> dict[str, Any]:

    from bench.pages import logged_in_clients, statement_log

    clients = logged_in_clients(app, settings, LOGINS)
    statements = statement_log(database)
    timings: dict[str, Any] = {}
    for name, (role, path) in PAGES.items():
        if name == "report (PDF)" and pdf_repeat == 0:
            continue  # too slow at this size (see --pdf-max)
        url = path.format(ref=REFERENCE, app=first)
        asker = clients[role]
        warm = time.perf_counter()
        response = asker.get(url)
        warm_ms = (time.perf_counter() - warm) * 1000
        assert response.status_code == 200, (name, response.status_code, response.text[:300])
        times = []
        for _ in range(pdf_repeat if name == "report (PDF)" else repeat):
            statements.clear()
            start = time.perf_counter()
            response = asker.get(url)
            times.append(time.perf_counter() - start)
            assert response.status_code == 200
        timings[name] = {
            "median_ms": statistics.median(times) * 1000,
            "first_ms": warm_ms,
            "statements": len(statements),
            "kb": len(response.content) / 1024,
        }
    for name in profile:
        role, path = PAGES[name]
        ask = functools.partial(clients[role].get, path.format(ref=REFERENCE, app=first))
        print(f"--- {name}\n{_profiled(ask)}", file=sys.stderr)
    return timings


def _py_spy() -> str:
    """py-spy beside this Python (installed in the environment), else on the PATH."""
    beside = Path(sys.executable).parent / "py-spy"
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        sys.exit("--profile needs py-spy (pip install py-spy)")
    return found


def _profiled(request: Callable[[], Any], times: int = 3) -> str:
    """py-spy on this process (the app serves the TestClient from another thread, which
    pyinstrument does not see) during `times` requests: of the samples with a frame of the
    app (the route's thread), the functions with the largest share, inclusive (the app's
    own) and by themselves (any)."""
    with tempfile.NamedTemporaryFile(suffix=".txt") as out:
        spy = subprocess.Popen(
            [_py_spy(), "record", "--pid", str(os.getpid()),
             "--rate", "200", "--format", "raw", "--output", out.name],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        time.sleep(1.0)  # attached
        for _ in range(times):
            request()
        spy.send_signal(signal.SIGINT)
        spy.wait(timeout=60)
        lines = Path(out.name).read_text().splitlines()
    inclusive: dict[str, int] = {}
    itself: dict[str, int] = {}
    total = 0
    for line in lines:
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        samples = int(count)
        frames = [re.sub(r":\d+\)$", ")", frame) for frame in stack.split(";")]
        if not any(" (app/" in frame for frame in frames):
            continue  # not serving the request: the client, idle threads
        total += samples
        for frame in set(frames):
            inclusive[frame] = inclusive.get(frame, 0) + samples
        itself[frames[-1]] = itself.get(frames[-1], 0) + samples
    own = [(n, f) for f, n in inclusive.items() if " (app/" in f]
    report = [f"{total} samples in the app's code; its functions, inclusive:"]
    report += [f"  {100 * n / total:5.1f}%  {f}" for n, f in sorted(own, reverse=True)[:25]]
    report.append("by themselves:")
    report += [
        f"  {100 * n / total:5.1f}%  {f}"
        for n, f in sorted(((n, f) for f, n in itself.items()), reverse=True)[:15]
    ]
    return "\n".join(report)


def run_size(
    applicants: int,
    repeat: int,
    pdf_repeat: int,
    pages: bool,
    profile: tuple[str, ...] = (),
    bulk: int = 0,
) -> dict[str, Any]:
    code = (
        f"import sys, json; sys.path.insert(0, {str(ROOT)!r}); "
        "from bench.national_round import worker; "
        f"print(json.dumps(worker({applicants}, {repeat}, {pdf_repeat}, {pages}, {profile!r}, "
        f"{bulk})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"{applicants}: {out.stderr[-3000:]}")
    if profile:
        sys.stderr.write(out.stderr)
    figures: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--repeat", type=int, default=7, help="requests per page after warm-up")
    parser.add_argument("--pdf-repeat", type=int, default=2)
    parser.add_argument(
        "--pdf-max", type=int, default=200, help="the largest size whose report PDF is asked"
    )
    parser.add_argument(
        "--profile", nargs="*", default=[], choices=list(PAGES),
        help="pages to profile with py-spy (3 requests each, at the largest size)",
    )  # fmt: skip
    parser.add_argument(
        "--finalisation-only", type=int, nargs="*", default=[],
        help="sizes built for the finalisation functions only (no pages)",
    )  # fmt: skip
    parser.add_argument(
        "--bulk-beyond", type=int, default=0,
        help="build only this many applicants of each size through the services, the rest as rows",
    )  # fmt: skip
    args = parser.parse_args()
    results = [
        run_size(
            n, args.repeat, args.pdf_repeat if n <= args.pdf_max else 0, True,
            tuple(args.profile) if n == max(args.sizes) else (),
            max(0, n - args.bulk_beyond) if args.bulk_beyond else 0,
        )
        for n in args.sizes
    ]  # fmt: skip
    results += [run_size(n, args.repeat, args.pdf_repeat, False) for n in args.finalisation_only]
    print(f"Python {platform.python_version()}, {platform.machine()}, {os.cpu_count()} cores; "
          f"median of {args.repeat} requests after one warm-up (PDF: {args.pdf_repeat})")  # fmt: skip
    for result in results:
        print(f"{result['applicants']} applicants: built in {result['build_s']:.0f} s, "
              f"{result['suitable']} suitable, draw needed: {result['needs_draw']}")  # fmt: skip
    paged = [r for r in results if "pages" in r]
    sizes = [r["applicants"] for r in paged]
    head = " | ".join(f"{n}: median ms (first; statements; KB)" for n in sizes)
    print(f"| page | {head} | ratio {sizes[-1]}/{sizes[0]} |")
    print("| --- " * (len(sizes) + 2) + "|")
    for page in PAGES:
        asked = [r["pages"].get(page) for r in paged]
        cells = [
            f"{a['median_ms']:.1f} ({a['first_ms']:.0f}; {a['statements']}; {a['kb']:.0f})"
            if a
            else "not asked"
            for a in asked
        ]
        ratio = f"{asked[-1]['median_ms'] / asked[0]['median_ms']:.1f}" if all(asked) else "—"
        print(f"| {page} | " + " | ".join(cells) + f" | {ratio} |")
    every = [r["applicants"] for r in results]
    print("| finalisation | " + " | ".join(f"{n}: ms" for n in every) + " |")
    print("| --- " * (len(every) + 1) + "|")
    for step in results[0]["finalisation_ms"]:
        cells = [f"{r['finalisation_ms'][step]:.1f}" for r in results]
        print(f"| {step} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    random.seed(2027)
    main()
