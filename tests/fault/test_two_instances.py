"""Two app instances on one PostgreSQL behind HAProxy: a submission storm and a scoring storm
through the balancer, one instance killed with SIGKILL in the middle of both.

A client that gets no answer (connection error, 502, 503) has no acknowledgement and tries
again, as a browser's user would. Afterwards: every acknowledged submission is stored with
both documents, readable through the balancer (so from the instance that is left); every
acknowledged save is in its sheet, whose version counts its saves in the chain; every chain
verifies; the receipt of every acknowledged submission, deferred in its transaction, was
sent by the worker exactly once, and nothing went out that was not committed. Run by
`make fault`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

import httpx
import pytest
from sqlmodel import func, select

from app.accounts import passwords
from app.accounts.models import Mail, MailState, User
from app.applications.models import Application, Document
from app.applications.stores import DatabaseStorage
from app.audit import checkpoint as checkpoints
from app.audit import service as audit
from app.audit.models import AuditHead
from app.config import Settings
from app.db import connect
from app.migrate import upgrade
from app.procedures import organisations
from app.procedures.models import ProcedureMember
from app.scoring.models import ScoreSheet
from bench import cluster
from bench import deadline_rush as rush
from bench import scoring_autosave as scoring

APPLICANTS = 30
MEMBERS = 16
SAVES = 20  # per member: 320 in all
OPEN, SCORING = "FAULT-2027-1", "FAULT-2026-1"
# Statuses that mean "no answer from the app": the instance is gone, or HAProxy has none.
NO_ANSWER = {502, 503, 504}
ATTEMPTS = 40


@dataclass
class Setup:
    applicants: list[str]
    application: str  # the application the committee scores
    members: list[tuple[str, int]]  # (e-mail, member id)


def build(var_dir: Path, database_url: str) -> Setup:
    """Migrations, then the data through the service functions, as the demo builds it."""
    settings = Settings(VAR_DIR=var_dir, DATABASE_URL=database_url)
    upgrade(database_url)
    database = connect(database_url)
    with database.session(write=True) as session:
        organisation = organisations.create_organisation(
            session, actor="system", slug="nva", name="NVA", short_name="NVA"
        )
        committee = scoring.bench_committee(session, MEMBERS)
        applicants = rush.open_procedure(session, settings, organisation, committee, OPEN,
                                         APPLICANTS)  # fmt: skip
        application, members = scoring.interviews_procedure(
            session, settings, organisation, committee, SCORING
        )
    database.dispose()
    return Setup(applicants, application, members)


@dataclass
class Progress:
    receipts: int = 0
    saves: int = 0
    unanswered: int = 0  # requests that got no answer (and were tried again)
    already: int = 0  # retried submissions that found their first attempt had submitted
    stale: int = 0  # retried saves that found their first attempt stored (409)
    after_kill_receipts: int = 0
    after_kill_saves: int = 0
    killed: bool = False

    def acknowledged(self, kind: str) -> None:
        setattr(self, kind, getattr(self, kind) + 1)
        if self.killed:
            name = f"after_kill_{kind}"
            setattr(self, name, getattr(self, name) + 1)


@dataclass
class Submission:
    email: str
    cookies: httpx.Cookies
    reference: str | None = None  # from the receipt
    already: bool = False  # a retry was told the application is already submitted
    problems: list[str] = field(default_factory=list)


async def submit(
    base: str, submission: Submission, token: str, cv: bytes, letter: bytes, delay: float,
    progress: Progress,
) -> None:  # fmt: skip
    """Submit until the app answers; a retry after a lost answer may find it submitted."""
    await asyncio.sleep(delay)
    for _ in range(ATTEMPTS):
        client = httpx.AsyncClient(base_url=base, cookies=submission.cookies, timeout=120)
        try:
            _time, reference, problem = await rush.one_submission(client, token, OPEN, cv, letter)
        except httpx.TransportError:
            problem, reference = "no answer", None
        if reference:
            submission.reference = reference
            progress.acknowledged("receipts")
            return
        if problem == "submit 303":  # "a second press of the submit button"
            submission.already = True
            progress.already += 1
            return
        if problem != "no answer" and int(problem.split()[-1]) not in NO_ANSWER:
            submission.problems.append(problem)
            return
        progress.unanswered += 1
        await asyncio.sleep(0.3)
    submission.problems.append("never answered")


@dataclass
class Member:
    member_id: int
    cookies: httpx.Cookies
    token: str
    # The sheet as the member meant it after each change, and the last one acknowledged.
    history: list[dict[str, str]] = field(default_factory=list)
    acknowledged: int = -1
    acknowledged_version: int = 0
    problems: list[str] = field(default_factory=list)


async def autosave(base: str, url: str, member: Member, number: int, progress: Progress) -> None:
    """The member's changes one after the other, each with the version the last answer gave.
    A change without an answer is sent again with the same version: a 409 then says that
    the first one was stored (nobody else writes this sheet) and gives its version."""
    headers = {"HX-Request": "true", "X-Fragment": "status", "X-CSRF-Token": member.token}
    version, meant = "0", {}
    async with httpx.AsyncClient(base_url=base, cookies=member.cookies, timeout=60) as client:
        for step, change in enumerate(scoring.changes(number, SAVES)):
            await asyncio.sleep(0.05 + 0.1 * ((number + step) % 3) / 2)
            meant = {**meant, **change}
            member.history.append(meant)
            for _ in range(ATTEMPTS):
                try:
                    response = await client.post(url, data={"version": version, **change},
                                                 headers=headers)  # fmt: skip
                except httpx.TransportError:
                    response = None
                if response is None or response.status_code in NO_ANSWER:
                    progress.unanswered += 1
                    await asyncio.sleep(0.3)
                    continue
                found = scoring.VERSION.search(response.text)
                if response.status_code == 200 and found:
                    version = found.group(1)
                    member.acknowledged, member.acknowledged_version = step, int(version)
                    progress.acknowledged("saves")
                elif response.status_code == 409 and found:
                    version = found.group(1)
                    progress.stale += 1
                else:
                    member.problems.append(f"save {response.status_code}")
                break
            else:
                member.problems.append("never answered")
                return


async def storms(
    balanced: cluster.Cluster, setup: Setup, cv: bytes, letter: bytes
) -> tuple[list[Submission], list[Member], Progress]:
    base = balanced.base
    logins = await rush.log_everyone_in(base, setup.applicants)
    assert [problem for _c, _t, problem in logins if problem] == []
    member_logins = await asyncio.gather(
        *(scoring.log_in(base, email) for email, _id in setup.members)
    )
    submissions = [Submission(email, cookies) for email, (cookies, _t, _p) in
                   zip(setup.applicants, logins, strict=True)]  # fmt: skip
    members = [Member(member_id, cookies, token) for (_e, member_id), (cookies, token) in
               zip(setup.members, member_logins, strict=True)]  # fmt: skip
    progress = Progress()
    sheet = f"/committee/{SCORING}/applicants/{setup.application}/sheets/"

    async def kill_mid_storm() -> None:
        # Once a quarter of both storms is acknowledged: the rest comes after the kill.
        while progress.receipts < APPLICANTS // 4 or progress.saves < MEMBERS * SAVES // 4:
            await asyncio.sleep(0.01)
        balanced.peak_memory()
        balanced.instances[0].kill()
        progress.killed = True

    await asyncio.gather(
        kill_mid_storm(),
        *(submit(base, s, token, cv, letter, 0.25 * n, progress)
          for n, (s, (_c, token, _p)) in enumerate(zip(submissions, logins, strict=True))),
        *(autosave(base, sheet + str(m.member_id), m, n, progress)
          for n, m in enumerate(members)),
    )  # fmt: skip
    return submissions, members, progress


async def download(base: str, cookies: httpx.Cookies, path: str) -> bytes:
    async with httpx.AsyncClient(base_url=base, cookies=cookies, timeout=60) as client:
        response = await client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return response.content


@pytest.mark.fault
def test_two_instances_one_killed_mid_storm_lose_nothing_acknowledged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    passwords.use_cost("tests")
    keys = cluster.shared_keys()
    with cluster.fresh_database("fault") as database_url, cluster.smtp_sink() as smtp:
        # The builders read (and set) these; the setup's keys stay in the temporary directory.
        monkeypatch.setenv("VAR_DIR", str(tmp_path / "setup"))
        monkeypatch.setenv("DATABASE_URL", database_url)
        for name in ("BENCH_REQUIREMENTS", "BENCH_CRITERIA"):
            monkeypatch.setenv(name, "")
        setup = build(tmp_path / "setup", database_url)
        env = {**os.environ, **keys, "DATABASE_URL": database_url,
               "PASSWORD_HASH_COST": "tests", "SMTP_HOST": "127.0.0.1",
               "SMTP_PORT": str(smtp.port), "SMTP_STARTTLS": "false"}  # fmt: skip
        cv, letter = rush.make_pdf(0.5, "CV"), rush.make_pdf(0.5, "Brief")
        with cluster.cluster(tmp_path, env) as balanced, cluster.worker(tmp_path, env) as jobs:
            submissions, members, progress = asyncio.run(storms(balanced, setup, cv, letter))
            killed = balanced.instances[0]
            balanced.wait_until_down(killed)
            print(f"\n{progress}; peak memory {balanced.peak_memory()}")
            stored = check_database(database_url, submissions, members, setup, cv, letter)
            # Every document of an acknowledged submission, downloaded by its applicant
            # through the balancer: from the instance that is left.
            for submission in submissions:
                for path, digest in stored.get(submission.email, []):
                    content = asyncio.run(download(balanced.base, submission.cookies, path))
                    assert hashlib.sha256(content).hexdigest() == digest, path
            wait_until_sent(database_url, jobs)
        check_chains_with_the_command(env, tmp_path)
        check_receipts(database_url, smtp.received(), submissions, stored)
    # The fault happened in the middle of both storms, not before or after them.
    assert progress.killed and progress.after_kill_receipts > 0 and progress.after_kill_saves > 0


def check_database(
    database_url: str,
    submissions: list[Submission],
    members: list[Member],
    setup: Setup,
    cv: bytes,
    letter: bytes,
) -> dict[str, list[tuple[str, str]]]:
    """Asserts what is stored; returns each submitted application's documents (download
    path, SHA-256) by applicant."""
    assert [(s.email, s.problems) for s in submissions if s.problems] == []
    assert [(m.member_id, m.problems) for m in members if m.problems] == []
    expected = sorted([hashlib.sha256(cv).hexdigest(), hashlib.sha256(letter).hexdigest()])
    database = connect(database_url)
    documents: dict[str, list[tuple[str, str]]] = {}
    with database.session() as session:
        applications = {
            a.reference: a
            for a in session.execute(select(Application)).scalars()
            if a.reference.startswith(OPEN)
        }
        entries = list(audit.entries(session, OPEN))
        submitted = Counter(e["subject"] for e in entries if e["action"] == "application.submitted")
        by_applicant = {a.applicant_id: a for a in applications.values()}
        users = dict(session.execute(select(User.email, User.id)).all())
        for submission in submissions:
            if submission.reference is None and not submission.already:
                continue  # never acknowledged (none is: every applicant was answered)
            application = (
                applications.get(submission.reference) if submission.reference else
                by_applicant.get(users[submission.email])
            )  # fmt: skip
            assert application is not None, submission
            assert application.status == "submitted", application.reference
            assert submitted[f"application:{application.reference}"] == 1, application.reference
            rows = session.execute(
                select(Document).where(Document.application_id == application.id)
            ).scalars()
            stored = sorted((d.id, d.sha256) for d in rows)
            assert sorted(h for _id, h in stored) == expected, application.reference
            documents[submission.email] = [
                (f"/applications/{application.reference}/documents/{document_id}", digest)
                for document_id, digest in stored
            ]
        sheets = {s.member_id: s for s in session.execute(select(ScoreSheet)).scalars()}
        scorers = dict(session.execute(select(ProcedureMember.id, ProcedureMember.user_id)).all())
        saved = [
            e for e in audit.entries(session, SCORING)
            if e["action"] == "sheet.saved" and e["subject"] == f"application:{setup.application}"
        ]  # fmt: skip
        for member in members:
            versions = [e["data"]["version"] for e in saved
                        if e["actor"] == f"user:{scorers[member.member_id]}"]  # fmt: skip
            check_sheet(member, sheets.get(member.member_id), versions)
        # Never a document without its chunks, nor chunks without their document: the
        # uploads cut off by the kill left nothing behind.
        keys = set(session.execute(select(Document.storage_key)).scalars())
        assert set(DatabaseStorage(database.engine).keys(session)) == keys
        for head in session.execute(select(AuditHead)).scalars():
            report = checkpoints.verify(audit.export_lines(session, head.chain))
            assert report.ok, (head.chain, report.describe())
            assert report.chain.entries == head.seq, head.chain
    database.dispose()
    return documents


def check_sheet(member: Member, sheet: ScoreSheet | None, versions: list[int]) -> None:
    """The stored sheet holds the last acknowledged save or a later change, and its version
    is the number of its saves in the chain (`versions`: what each of them recorded)."""
    if member.acknowledged < 0:
        return
    assert sheet is not None, member.member_id
    stored = {
        **{f"level-{k}": str(v) for k, v in sheet.levels.items()},
        **{f"reason-{k}": v for k, v in sheet.reasons.items()},
    }
    assert stored in member.history[member.acknowledged :], member.member_id
    assert sheet.version >= member.acknowledged_version, member.member_id
    assert versions == list(range(1, sheet.version + 1)), member.member_id


def check_chains_with_the_command(env: dict[str, str], work: Path) -> None:
    """The two procedures' chains exported and verified by the command an outsider runs."""
    for reference in (OPEN, SCORING):
        export = work / f"{reference}.jsonl"
        with export.open("wb") as handle:
            subprocess.run([sys.executable, "-m", "app", "export-audit", reference],
                           env={**env, "VAR_DIR": str(work / "instance2")}, stdout=handle,
                           check=True, cwd=cluster.ROOT)  # fmt: skip
        verified = subprocess.run([sys.executable, "-m", "app", "verify-audit", str(export)],
                                  env={**env, "VAR_DIR": str(work / "instance2")},
                                  capture_output=True, text=True, cwd=cluster.ROOT)  # fmt: skip
        assert verified.returncode == 0, verified.stdout + verified.stderr


def wait_until_sent(database_url: str, worker: subprocess.Popen[bytes]) -> None:
    """Until the worker has sent every queued message (it keeps running meanwhile)."""
    database = connect(database_url)
    deadline = time.monotonic() + 60
    queued = select(func.count()).select_from(Mail).where(Mail.state == MailState.QUEUED)
    while True:
        with database.session() as session:
            left = session.execute(queued).scalar_one()
        if left == 0:
            break
        assert worker.poll() is None, "the worker stopped"
        assert time.monotonic() < deadline, f"{left} messages still queued after 60 s"
        time.sleep(0.2)
    database.dispose()


def check_receipts(
    database_url: str, received: list[EmailMessage], submissions: list[Submission],
    stored: dict[str, list[tuple[str, str]]],
) -> None:  # fmt: skip
    """Every submitted application's receipt is stored once and reached its applicant once
    (by Message-ID, and by recipient and subject); whatever reached the SMTP server is a
    stored message, so none went out for a change that rolled back."""
    by_id = Counter(str(m["Message-ID"]) for m in received)
    by_recipient = Counter((str(m["To"]), str(m["Subject"])) for m in received)
    assert [key for key, count in by_id.items() if count > 1] == []
    database = connect(database_url)
    with database.session() as session:
        mails = list(session.execute(select(Mail)).scalars())
    database.dispose()
    assert set(by_id) <= {m.message_id for m in mails}
    for submission in submissions:
        paths = stored.get(submission.email)
        if not paths:
            continue
        reference = paths[0][0].split("/")[2]
        receipts = [m for m in mails
                    if m.recipient == submission.email and reference in m.subject]  # fmt: skip
        assert len(receipts) == 1, (submission.email, reference, len(receipts))
        assert receipts[0].state == MailState.SENT, (reference, receipts[0].error)
        assert by_id[receipts[0].message_id] == 1, reference
        assert by_recipient[(submission.email, receipts[0].subject)] == 1, reference
