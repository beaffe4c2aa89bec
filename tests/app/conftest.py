"""An app and an HTTP client per test, and small factories for the data a test needs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from anyio.from_thread import BlockingPortal, start_blocking_portal
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session

from app import demo
from app.accounts.models import User
from app.accounts.service import create_user
from app.config import Settings
from app.db import Database, utcnow
from app.main import create_app
from app.procedures import editor, organisations
from app.procedures.models import Organisation, OrganisationAdmin, Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from app.security import CSRF_COOKIE, csrf_token_for

PASSWORD = "correct horse battery"


@pytest.fixture
def app(settings: Settings) -> Iterator[FastAPI]:
    application = create_app(settings)
    yield application
    application.state.database.dispose()


@pytest.fixture
def database(app: FastAPI) -> Database:
    return app.state.database  # type: ignore[no-any-return]


@pytest.fixture
def session(database: Database) -> Iterator[Session]:
    """The test's own view of the database. Call rollback() and expire_all() to see what the
    app committed since (on SQLite a read transaction keeps its snapshot, and objects keep
    the values they were loaded with)."""
    with database.session() as db_session:
        yield db_session


class Browser:
    """A TestClient that behaves like a browser: it keeps cookies and sends the CSRF token."""

    # The event loop the test's requests run on (see one_event_loop below).
    portal: BlockingPortal | None = None

    def __init__(
        self, app: Any, settings: Settings, *, client: tuple[str, int] = ("testclient", 50000)
    ) -> None:
        """`client` is the address the requests come from, as the server sees it."""
        self.client = TestClient(app, follow_redirects=False, client=client)
        self.client.portal = Browser.portal
        self.settings = settings

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(url, **kwargs)

    def token(self) -> str:
        if CSRF_COOKIE not in self.client.cookies:
            self.client.get("/healthz")
        return csrf_token_for(self.settings.secret_key, self.client.cookies[CSRF_COOKIE])

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> httpx.Response:
        form = {"csrf_token": self.token(), **(data or {})}
        return self.client.post(url, data=form, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> httpx.Response:
        response = self.post("/login", {"email": email, "password": password})
        assert response.status_code == 303, response.text
        return response


@pytest.fixture(autouse=True)
def one_event_loop() -> Iterator[None]:
    """One event loop, in one thread, for all the requests of a test, as a server has: a
    TestClient on its own starts a thread with a new loop for every request (and the loop
    new worker threads for the sync routes), which took a good part of every request's
    time. The lifespan (the clock, the daily purge) is still not run."""
    with start_blocking_portal(backend="asyncio") as portal:
        Browser.portal = portal
        try:
            yield
        finally:
            Browser.portal = None


@pytest.fixture
def browser(app: FastAPI, settings: Settings) -> Browser:
    return Browser(app, settings)


@pytest.fixture
def new_browser(app: FastAPI, settings: Settings) -> Any:
    return lambda: Browser(app, settings)


@dataclass
class Factory:
    session: Session
    settings: Settings
    counter: int = 0
    last_applicants: tuple[User, ...] = ()

    def _next(self) -> int:
        self.counter += 1
        return self.counter

    def user(self, name: str = "", *, platform_admin: bool = False, verified: bool = True) -> User:
        number = self._next()
        return create_user(
            self.session,
            email=f"user{number}@example.org",
            name=name or f"User {number}",
            password=PASSWORD,
            platform_admin=platform_admin,
            verified=verified,
        )

    def organisation(self, slug: str = "") -> Organisation:
        number = self._next()
        slug = slug or f"org{number}"
        return organisations.create_organisation(
            self.session, actor="system", slug=slug, name=f"Vereniging {number}", short_name=slug
        )

    def org_admin(self, organisation: Organisation) -> User:
        user = self.user()
        self.session.add(OrganisationAdmin(organisation_id=organisation.id, user_id=user.id))
        self.session.commit()
        return user

    def bare_procedure(self, organisation: Organisation | None = None) -> Procedure:
        """A draft with only the essentials: the guideline check fails on it."""
        organisation = organisation or self.organisation()
        number = self._next()
        return editor.create_procedure(
            self.session,
            actor="system",
            organisation=organisation,
            reference=f"TST-{number}-2027",
            title=f"Testprocedure {number}",
            specialty="Anesthesiologie",
            region="Utrecht",
            places=2,
        )

    def procedure(
        self,
        organisation: Organisation | None = None,
        *,
        phase: Phase = Phase.DRAFT,
        applicants: int = 0,
        ties: dict[int, str] | None = None,
        extra_members: int = 0,
        institutions: tuple[tuple[str, str, str, int], ...] = (),
    ) -> Procedure:
        """A complete procedure (it passes the guideline check), walked to `phase`, with
        `applicants` applying (all meeting the minimum requirements). `ties` maps an
        applicant's number (1, 2, ...) to the committee role ("member", "chair") whose
        member they declare they know."""
        organisation = organisation or self.organisation()
        number = self._next()
        committee = [
            (self.user(f"Voorzitter {number}"), "chair", "opleider"),
            (self.user(f"Staflid {number}"), "member", "staff"),
            (self.user(f"Aios {number}"), "member", "aios"),
            (self.user(f"Waarnemer {number}"), "observer", ""),
        ]
        committee += [
            (self.user(f"Lid {number}.{i}"), "member", "nurse") for i in range(extra_members)
        ]
        early = list(Phase).index(phase) <= list(Phase).index(Phase.OPEN)
        spec = demo.DemoProcedure(
            organisation=organisation.slug,
            reference=f"TST-{number}-2027",
            phase=phase,
            places=sum(i[3] for i in institutions) if institutions else 2,
            title=f"Testprocedure {number}",
            specialty="Anesthesiologie",
            region="Utrecht",
            description="Een testprocedure.",
            closes_in_days=20 if early else -100,
            institutions=institutions,
        )
        people = tuple(self.user(f"Kandidaat {number}.{i}") for i in range(1, applicants + 1))
        self.last_applicants = people
        by_role = {role: user.email for user, role, _function in committee}
        return demo.complete_procedure(
            self.session,
            self.settings,
            organisation=organisation,
            spec=spec,
            committee=committee,
            actor="system",
            now=utcnow(),
            applicants=people,
            ties={people[i - 1].email: by_role[role] for i, role in (ties or {}).items()},
        )

    def committee(self, procedure: Procedure) -> dict[str, User]:
        """The procedure's chair, members (staff, aios) and observer, by role or function."""
        from sqlalchemy import select

        rows = self.session.execute(
            select(ProcedureMember, User)
            .join(User, User.id == ProcedureMember.user_id)
            .where(ProcedureMember.procedure_id == procedure.id)
        ).all()
        found = {}
        for member, user in rows:
            found[member.function if member.role == "member" else member.role] = user
        return found

    def member(self, procedure: Procedure, role: str = "member", user: User | None = None) -> User:
        user = user or self.user()
        self.session.add(
            ProcedureMember(
                procedure_id=procedure.id,
                user_id=user.id,
                role=role,
                function="staff" if role != "observer" else "",
                training_done=True,
            )
        )
        self.session.commit()
        return user


@pytest.fixture
def factory(session: Session, settings: Settings) -> Factory:
    return Factory(session, settings)


def kept_documents(app: FastAPI, session: Session) -> set[str]:
    """The keys of every document the app's store holds (files on disk or chunks in the
    database), whichever store DOCUMENTS_URL chose."""
    return stored_keys(app.state.storage, session)


def stored_keys(storage: Any, session: Session) -> set[str]:
    from app.applications.stores import DatabaseStorage, LocalStorage

    if isinstance(storage, LocalStorage):
        root = storage.files.root
        return {p.name for p in root.rglob("*") if p.is_file()} if root.exists() else set()
    assert isinstance(storage, DatabaseStorage)
    session.rollback()
    return set(storage.keys(session))


def outbox_link(session: Session, recipient: str, path: str) -> str:
    """The newest link to `path` e-mailed to `recipient`, as the recipient would click it."""
    from sqlalchemy import select

    from app.accounts.models import Mail

    session.rollback()
    bodies = session.execute(
        select(Mail.body).where(Mail.recipient == recipient).order_by(Mail.id.desc())  # type: ignore[union-attr]
    ).scalars()
    for body in bodies:
        match = re.search(rf"http://testserver({re.escape(path)}[\w\-/]+)", body)
        if match:
            return match.group(1)
    raise AssertionError(f"no mail to {recipient} with a link to {path}")
