"""Deadline rush: N applicants submit a complete application with two PDFs at once.

Starts a real server (uvicorn) on 127.0.0.1 with a fresh SQLite database (or DATABASE_URL),
and beside it a bare FastAPI endpoint that takes the same multipart upload and drops it
(the baseline, measured in the same run). Reports errors, applications lost (every receipt
must have its row and both files with the right SHA-256), median and p95 seconds per
submission, and the server's peak memory (VmHWM). Bounded: N requests, one run, loopback.

    .venv/bin/python bench/deadline_rush.py --applicants 200 --mb 2
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from pypdf import PdfWriter

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench password 123"  # noqa: S105 (a throwaway database)


def make_pdf(megabytes: float, title: str) -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.add_metadata({"/Title": title, "/Padding": "x" * int(megabytes * 1024 * 1024)})
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def prepare(var_dir: Path, database_url: str, applicants: int) -> tuple[str, list[str]]:
    os.environ["VAR_DIR"] = str(var_dir)
    os.environ["DATABASE_URL"] = database_url
    from app.accounts.service import create_user
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
        committee = [
            (
                create_user(session, email=f"{role}@example.org", name=role, password=None),
                role,
                function,
            )
            for role, function in (
                ("chair", "opleider"),
                ("member", "staff"),
                ("aios", "aios"),
                ("observer", ""),
            )
        ]
        committee = [(u, "member" if r == "aios" else r, f) for u, r, f in committee]
        emails = open_procedure(session, settings, organisation, committee, "BENCH-2027-1",
                                applicants)  # fmt: skip
    database.dispose()
    return "BENCH-2027-1", emails


def open_procedure(
    session: Any,
    settings: Any,
    organisation: Any,
    committee: list[tuple[Any, str, str]],
    reference: str,
    applicants: int,
) -> list[str]:
    """A published procedure open for applications and `applicants` accounts that log in
    with PASSWORD (their e-mails); its requirements go to BENCH_REQUIREMENTS."""
    from app import demo
    from app.accounts.service import create_user
    from app.db import utcnow
    from app.procedures import queries
    from app.procedures.vocabulary import Phase

    spec = demo.DemoProcedure("nva", reference, Phase.OPEN, 4, "Bench", "Anesthesiologie",
                              "Utrecht", "", 20)  # fmt: skip
    demo.complete_procedure(session, settings, organisation=organisation, spec=spec,
                            committee=committee, actor="system", now=utcnow())  # fmt: skip
    emails = []
    for number in range(applicants):
        email = f"applicant{number}@example.org"
        create_user(session, email=email, name=f"Sollicitant {number}", password=PASSWORD)
        emails.append(email)
    requirement_ids = [
        r.id for r in queries.requirements(session, queries.get_procedure(session, reference))
    ]
    os.environ["BENCH_REQUIREMENTS"] = ",".join(map(str, requirement_ids))
    return emails


def start(
    args: list[str], env: dict[str, str], port: int, log: Path | None = None
) -> subprocess.Popen[bytes]:
    """The server, once it answers; its output goes to `log` when given."""
    output = log.open("ab") if log is not None else subprocess.DEVNULL
    process = subprocess.Popen(args, env=env, cwd=ROOT, stdout=output, stderr=output)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def peak_memory_mb(pid: int) -> float:
    total = 0
    for child in [pid, *children(pid)]:
        try:
            status = Path(f"/proc/{child}/status").read_text()
        except OSError:
            continue
        match = re.search(r"VmHWM:\s+(\d+) kB", status)
        total += int(match.group(1)) if match else 0
    return total / 1024


def children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


async def log_in(base: str, email: str) -> tuple[httpx.AsyncClient, str, str]:
    client = httpx.AsyncClient(base_url=base, timeout=300, follow_redirects=False)
    page = await client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
    login = await client.post(
        "/login", data={"csrf_token": token, "email": email, "password": PASSWORD}
    )
    return client, token, "" if login.status_code == 303 else f"login {login.status_code}"


async def one_submission(
    client: httpx.AsyncClient, token: str, reference: str, cv: bytes, letter: bytes
) -> tuple[float, str | None, str]:
    data = {
        "csrf_token": token,
        "phone": "0612345678",
        "big_number": "19012345601",
        "action": "submit",
    }
    for requirement in os.environ["BENCH_REQUIREMENTS"].split(","):
        data[f"answer-{requirement}"] = "Zo voldoe ik eraan."
    files = [
        ("cv", ("cv.pdf", cv, "application/pdf")),
        ("motivation", ("brief.pdf", letter, "application/pdf")),
    ]
    # A new connection with the login's cookies: the server closes idle keep-alive
    # connections while the other applicants are still logging in.
    await client.aclose()
    async with httpx.AsyncClient(
        base_url=client.base_url, cookies=client.cookies, timeout=300, follow_redirects=False
    ) as fresh:
        started = time.perf_counter()
        response = await fresh.post(f"/procedures/{reference}/apply", data=data, files=files)
        elapsed = time.perf_counter() - started
    location = response.headers.get("location", "")
    if response.status_code != 303 or "received=1" not in location:
        return elapsed, None, f"submit {response.status_code}"
    return elapsed, location.split("/applications/")[1].split("?")[0], ""


async def log_everyone_in(base: str, emails: list[str]) -> list[tuple[httpx.Cookies, str, str]]:
    sessions = await asyncio.gather(*(log_in(base, email) for email in emails))
    result = []
    for client, token, problem in sessions:
        result.append((client.cookies, token, problem))
        await client.aclose()
    return result


async def submit_all(
    base: str,
    sessions: list[tuple[httpx.Cookies, str, str]],
    reference: str,
    cv: bytes,
    letter: bytes,
) -> list:  # type: ignore[type-arg]
    async def one(cookies: httpx.Cookies, token: str) -> tuple[float, str | None, str]:
        client = httpx.AsyncClient(
            base_url=base, cookies=cookies, timeout=300, follow_redirects=False
        )
        return await one_submission(client, token, reference, cv, letter)

    results = await asyncio.gather(
        *(one(cookies, token) for cookies, token, problem in sessions if not problem)
    )
    return [*results, *[(0.0, None, problem) for _c, _t, problem in sessions if problem]]


async def one_bare(base: str, cv: bytes, letter: bytes) -> tuple[float, str]:
    async with httpx.AsyncClient(base_url=base, timeout=300) as client:
        files = [
            ("cv", ("cv.pdf", cv, "application/pdf")),
            ("motivation", ("brief.pdf", letter, "application/pdf")),
        ]
        started = time.perf_counter()
        response = await client.post("/upload", data={"phone": "0612345678"}, files=files)
        return time.perf_counter() - started, "" if response.status_code == 200 else str(
            response.status_code
        )


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--applicants", type=int, default=200)
    parser.add_argument("--mb", type=float, default=2.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="rush-"))
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{work / 'app.db'}"
    reference, emails = prepare(work, database_url, args.applicants)
    env = {**os.environ, "VAR_DIR": str(work), "DATABASE_URL": database_url}
    cv, letter = make_pdf(args.mb, "CV"), make_pdf(args.mb, "Brief")

    port, bare_port = free_port(), free_port()
    command = [sys.executable, "-m", "uvicorn", "app.main:create_app", "--factory", "--port", str(port),
               "--workers", str(args.workers), "--log-level", "warning"]  # fmt: skip
    # Log everyone in on one server, then submit to a fresh one: sessions live in the
    # database, and the second server's peak memory is then the uploads' alone (argon2id
    # takes 19 MiB per login, and the allocator keeps it after the logins are done).
    first = start(command, env, port)
    login_started = time.perf_counter()
    sessions = asyncio.run(log_everyone_in(f"http://127.0.0.1:{port}", emails))
    login_wall = time.perf_counter() - login_started
    login_memory = peak_memory_mb(first.pid)
    first.terminate()
    first.wait(timeout=20)
    server = start(command, env, port)
    bare = start([sys.executable, "-m", "uvicorn", "bench.bare_upload:app", "--port", str(bare_port),
                  "--workers", str(args.workers), "--log-level", "warning"], env, bare_port)  # fmt: skip
    try:
        started = time.perf_counter()
        results = asyncio.run(
            submit_all(f"http://127.0.0.1:{port}", sessions, reference, cv, letter)
        )
        wall = time.perf_counter() - started
        memory = peak_memory_mb(server.pid)
        bare_results = asyncio.run(
            _gather([one_bare(f"http://127.0.0.1:{bare_port}", cv, letter) for _ in emails])
        )
        bare_memory = peak_memory_mb(bare.pid)
    finally:
        for process in (server, bare):
            process.terminate()
            process.wait(timeout=20)

    errors = [problem for _t, _r, problem in results if problem]
    receipts = [ref for _t, ref, problem in results if ref and not problem]
    lost = verify(
        work,
        database_url,
        receipts,
        hashlib.sha256(cv).hexdigest(),
        hashlib.sha256(letter).hexdigest(),
    )
    times = [t for t, ref, problem in results if ref and not problem]
    bare_times = [t for t, problem in bare_results if not problem]
    print(f"applicants {args.applicants}, two PDFs of {len(cv) / 1e6:.1f} MB each, {args.workers} workers, "
          f"database {'PostgreSQL' if database_url.startswith('postgres') else 'SQLite'}")  # fmt: skip
    print(f"errors {len(errors)} {sorted(set(errors))[:5]}; receipts {len(receipts)}; lost {lost}")
    print(
        f"submission median {statistics.median(times):.2f} s, p95 {percentile(times, 0.95):.2f} s; wall {wall:.1f} s"
    )
    print(f"bare upload median {statistics.median(bare_times):.2f} s, p95 {percentile(bare_times, 0.95):.2f} s; "
          f"ratio of medians {statistics.median(times) / statistics.median(bare_times):.2f}")  # fmt: skip
    print(
        f"server peak memory during the submissions {memory:.0f} MB (all processes), bare {bare_memory:.0f} MB; "
        f"logins beforehand on another server (argon2id, 19 MiB each): {login_wall:.1f} s, "
        f"peak {login_memory:.0f} MB"
    )
    return 0 if not errors and lost == 0 else 1


async def _gather(tasks: list) -> list:  # type: ignore[type-arg]
    return await asyncio.gather(*tasks)


def verify(
    work: Path, database_url: str, receipts: list[str], cv_hash: str, letter_hash: str
) -> int:
    """How many receipts lack their row, a file, or the right SHA-256 in the document store
    the server used (local disk under `work`, or the database on PostgreSQL)."""
    from sqlmodel import select

    from app.applications.models import Application, Document
    from app.applications.stores import open_storage
    from app.config import Settings
    from app.db import connect

    database = connect(database_url)
    storage = open_storage(Settings(VAR_DIR=work, DATABASE_URL=database_url), database.engine)
    lost = 0
    with database.session() as session:
        for reference in receipts:
            application = session.execute(
                select(Application).where(Application.reference == reference)
            ).scalar_one_or_none()
            if application is None or application.status != "submitted":
                lost += 1
                continue
            documents = (
                session.execute(select(Document).where(Document.application_id == application.id))
                .scalars()
                .all()
            )
            hashes = set()
            for document in documents:
                digest = hashlib.sha256()
                try:
                    for chunk in storage.chunks(document.storage_key):
                        digest.update(chunk)
                except FileNotFoundError:
                    continue
                if digest.hexdigest() == document.sha256:
                    hashes.add(document.sha256)
            if hashes != {cv_hash, letter_hash}:
                lost += 1
    database.dispose()
    return lost


if __name__ == "__main__":
    sys.exit(main())
