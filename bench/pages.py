"""Page cost before and after a change, in one run: the ranking page, the editor and the
observer's overview of a procedure whose results are published.

For each source tree given (the current one, and with `--before PATH` an older checkout, for
example a `git worktree` of the commit before a change), a child process imports that tree's
`app`, builds the same procedure on a fresh SQLite database through the demo's own
functions (N applicants applied, scored, deliberated, drawn and published), logs in, and
asks each page R times in-process (TestClient: the server's own time, no network). It
reports per page the median time and the SQL statements of one request. Bounded: pages x R
requests per tree.

    .venv/bin/python bench/pages.py --applicants 40 --repeat 15 --before /work/wt/before
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGES = {
    "ranking": ("admin", "/manage/procedures/{reference}/ranking"),
    "editor": ("admin", "/manage/procedures/{reference}"),
    "observer overview": ("observer", "/observer/procedures/{reference}"),
    "public page": ("anonymous", "/procedures/{reference}"),
    "report (HTML)": ("observer", "/procedures/{reference}/report"),
}
PASSWORD = "bench password 123"  # noqa: S105 (a throwaway database)


def logged_in_clients(app: Any, settings: Any, logins: dict[str, str]) -> dict[str, Any]:
    """A TestClient per role, logged in through the login form (PASSWORD), and one for
    "anonymous"."""
    from fastapi.testclient import TestClient

    from app.security import CSRF_COOKIE, csrf_token_for

    clients = {"anonymous": TestClient(app, follow_redirects=False)}
    for role, email in logins.items():
        logged = TestClient(app, follow_redirects=False)
        logged.get("/healthz")
        token = csrf_token_for(settings.secret_key, logged.cookies[CSRF_COOKIE])
        answer = logged.post(
            "/login", data={"email": email, "password": PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303, answer.text[:500]
        clients[role] = logged
    return clients


def statement_log(database: Any) -> list[str]:
    """Every SQL statement the database's engine sends from now on (clear it per request)."""
    from sqlalchemy import event

    statements: list[str] = []

    def count(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        statements.append(statement)

    event.listen(database.engine, "before_cursor_execute", count)
    return statements


def worker(applicants: int, repeat: int) -> dict[str, Any]:
    """Runs inside the tree to measure (its `app` first on sys.path)."""
    var_dir = Path(tempfile.mkdtemp(prefix="bench-pages-"))
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = f"sqlite:///{var_dir}/bench.db"
    from fastapi.testclient import TestClient

    from app import demo
    from app.accounts.service import create_user
    from app.config import Settings
    from app.db import utcnow
    from app.main import create_app
    from app.migrate import upgrade
    from app.procedures.models import Organisation, OrganisationAdmin

    try:
        from app.procedures.vocabulary import Phase
    except ImportError:  # a tree from before the vocabulary modules
        from app.procedures.models import Phase  # type: ignore[attr-defined,no-redef]

    settings = Settings()
    upgrade(settings.database_url)
    app = create_app(settings)
    database = app.state.database
    with TestClient(app), database.session(write=True) as session:
        organisation = Organisation(slug="nva", name="NVA", short_name="NVA")
        session.add(organisation)
        admin = create_user(session, email="admin@example.org", name="Beheerder", password=PASSWORD)
        session.flush()
        session.add(OrganisationAdmin(organisation_id=organisation.id, user_id=admin.id))
        committee = [
            (create_user(session, email="chair@example.org", name="Voorzitter", password=None),
             "chair", "opleider"),
            (create_user(session, email="staff@example.org", name="Staflid", password=None),
             "member", "staff"),
            (create_user(session, email="aios@example.org", name="Aios", password=None),
             "member", "aios"),
            (create_user(session, email="observer@example.org", name="Waarnemer",
                         password=PASSWORD), "observer", ""),
        ]  # fmt: skip
        people = tuple(
            create_user(session, email=f"a{i}@example.org", name=f"Kandidaat {i}", password=None)
            for i in range(applicants)
        )
        session.commit()
        spec = demo.DemoProcedure(
            organisation="nva", reference="BENCH-2027-1", phase=Phase.RESULTS, places=4,
            title="Bench", specialty="Anesthesiologie", region="Utrecht",
            description="Een procedure voor de benchmark.", closes_in_days=-100,
        )  # fmt: skip
        procedure = demo.complete_procedure(
            session, settings, organisation=organisation, spec=spec, committee=committee,
            actor="system", now=utcnow(), applicants=people, ties={},
        )  # fmt: skip
        reference = procedure.reference

        clients = logged_in_clients(
            app, settings, {"admin": "admin@example.org", "observer": "observer@example.org"}
        )
        statements = statement_log(database)
        figures: dict[str, Any] = {}
        for name, (role, path) in PAGES.items():
            url = path.format(reference=reference)
            asker = clients[role]
            first = asker.get(url)
            assert first.status_code == 200, (name, first.status_code)
            times = []
            for _ in range(repeat):
                statements.clear()
                start = time.perf_counter()
                response = asker.get(url)
                times.append(time.perf_counter() - start)
                assert response.status_code == 200
            figures[name] = {
                "median_ms": statistics.median(times) * 1000,
                "statements": len(statements),
            }
    return figures


def run_tree(tree: Path, applicants: int, repeat: int) -> dict[str, Any]:
    # This file's worker, with the tree's own `app` first on the path.
    code = (
        f"import sys, json, importlib.util; sys.path.insert(0, {str(tree)!r}); "
        f"spec = importlib.util.spec_from_file_location('pages', {str(Path(__file__))!r}); "
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module); "
        f"print(json.dumps(module.worker({applicants}, {repeat})))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tree, capture_output=True, text=True, check=False
    )
    if out.returncode != 0:
        sys.exit(f"{tree}: {out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--applicants", type=int, default=40)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--runs", type=int, default=3, help="rounds, before and after alternating")
    parser.add_argument("--before", type=Path, help="an older checkout to compare with")
    args = parser.parse_args()
    trees = {"after": ROOT} | ({"before": args.before.resolve()} if args.before else {})
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in trees}
    for _ in range(args.runs):
        for name, tree in reversed(trees.items()):
            runs[name].append(run_tree(tree, args.applicants, args.repeat))
    print(f"{args.applicants} applicants, {args.repeat} requests per page, {args.runs} runs")
    header = "| page | " + " | ".join(f"{name}: median ms (statements)" for name in reversed(trees))
    print(header + (" | after / before |" if "before" in trees else " |"))
    print("| --- " * (len(trees) + 1 + ("before" in trees)) + "|")
    for page in PAGES:
        cells, medians = [], {}
        for name in reversed(trees):
            medians[name] = statistics.median(r[page]["median_ms"] for r in runs[name])
            cells.append(f"{medians[name]:.1f} ({runs[name][0][page]['statements']})")
        ratio = f" | {medians['after'] / medians['before']:.2f}" if "before" in trees else ""
        print(f"| {page} | " + " | ".join(cells) + ratio + " |")


if __name__ == "__main__":
    main()
