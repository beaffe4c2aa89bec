"""Accounts under attack: no user enumeration, X-Forwarded-For only from trusted proxies,
no lock-out by strangers, and no flooding of a mailbox."""

from __future__ import annotations

import ipaddress
import re
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlmodel import Session

from app.accounts import passwords
from app.accounts.models import LoginFailure, Mail, MailRequest
from app.accounts.service import prune_expired
from app.config import Settings
from app.db import utcnow
from app.main import create_app
from tests.app.conftest import PASSWORD, Browser, Factory, outbox_link

STRANGER = ("198.51.100.66", 40000)
OWNER = ("203.0.113.10", 40000)


class CountingContext:
    """The passlib context, counting its argon2 hashes and verifications."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.calls: Counter[str] = Counter()

    def hash(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["hash"] += 1
        return self.inner.hash(*args, **kwargs)

    def verify(self, *args: Any, **kwargs: Any) -> Any:
        self.calls["verify"] += 1
        return self.inner.verify(*args, **kwargs)

    def needs_update(self, *args: Any, **kwargs: Any) -> Any:
        return self.inner.needs_update(*args, **kwargs)


@pytest.fixture
def argon2(monkeypatch: pytest.MonkeyPatch) -> CountingContext:
    counting = CountingContext(passwords._context)
    monkeypatch.setattr(passwords, "_context", counting)
    return counting


def app_with(settings: Settings, **changes: Any) -> Iterator[FastAPI]:
    application = create_app(settings.model_copy(update=changes))
    yield application
    application.state.database.dispose()


def mails_to(session: Session, recipient: str) -> int:
    session.rollback()
    return session.execute(
        select(func.count()).select_from(Mail).where(Mail.recipient == recipient)  # type: ignore[arg-type]
    ).scalar_one()


def without(text: str, *words: str) -> str:
    """The page with what the visitor typed taken out, to compare two answers' shape."""
    for word in words:
        text = text.replace(word, "EMAIL")
    return re.sub(r"\d\d:\d\d", "HH:MM", text)


# User enumeration ----------------------------------------------------------------------


def test_login_costs_one_argon2_verification_whether_or_not_the_account_exists(
    browser: Browser, factory: Factory, argon2: CountingContext
) -> None:
    user = factory.user()
    argon2.calls.clear()
    known = browser.post("/login", {"email": user.email, "password": "wrong password"})
    assert argon2.calls == {"verify": 1}
    unknown = browser.post("/login", {"email": "nobody@example.org", "password": "wrong password"})
    assert argon2.calls == {"verify": 2}
    assert known.status_code == unknown.status_code == 400
    assert without(known.text, user.email) == without(unknown.text, "nobody@example.org")


def test_registration_hashes_and_answers_the_same_whether_or_not_the_address_is_taken(
    browser: Browser, factory: Factory, session: Session, argon2: CountingContext
) -> None:
    user = factory.user()
    argon2.calls.clear()
    form = {"name": "Iemand", "password": PASSWORD, "password_confirm": PASSWORD}
    taken = browser.post("/register", {**form, "email": user.email})
    assert argon2.calls == {"hash": 1}
    new = browser.post("/register", {**form, "email": "new@example.org"})
    assert argon2.calls == {"hash": 2}
    assert taken.status_code == new.status_code == 200
    assert without(taken.text, user.email) == without(new.text, "new@example.org")
    # Each address gets one message: the owner a warning, the newcomer the link.
    assert mails_to(session, user.email) == 1
    assert mails_to(session, "new@example.org") == 1
    outbox_link(session, "new@example.org", "/verify/")


def test_a_password_reset_sends_one_mail_and_the_same_page_either_way(
    browser: Browser, factory: Factory, session: Session
) -> None:
    user = factory.user()
    known = browser.post("/password/forgot", {"email": user.email})
    unknown = browser.post("/password/forgot", {"email": "nobody@example.org"})
    assert known.status_code == unknown.status_code == 200
    assert without(known.text, user.email) == without(unknown.text, "nobody@example.org")
    assert mails_to(session, user.email) == 1
    assert mails_to(session, "nobody@example.org") == 1
    outbox_link(session, user.email, "/password/reset/")
    with pytest.raises(AssertionError):
        outbox_link(session, "nobody@example.org", "/password/reset/")


# The client's address --------------------------------------------------------------------


def test_serve_keeps_uvicorn_from_believing_x_forwarded_for(
    settings: Settings, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app as `python -m app serve` hands it to uvicorn, connected from 127.0.0.1
    (which uvicorn trusts by default): a forged X-Forwarded-For must not give each guess
    an address of its own."""
    import app.__main__ as cli

    passed: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: passed.update(kwargs))
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.setenv("BASE_URL", settings.base_url)
    assert cli.main(["serve", "--port", "8123"]) == 0
    served = create_app(settings)
    options = {
        name: passed[name] for name in ("proxy_headers", "forwarded_allow_ips") if name in passed
    }
    config = uvicorn.Config(served, lifespan="off", **options)
    config.load()
    attacker = Browser(config.loaded_app, settings, client=("127.0.0.1", 40000))
    victim = factory.user()
    for number in range(settings.login_max_failures_per_address):
        attacker.post(
            "/login",
            {"email": f"guess{number}@example.org", "password": "x"},
            headers={"X-Forwarded-For": f"192.0.2.{number}"},
        )
    response = attacker.post(
        "/login",
        {"email": victim.email, "password": PASSWORD},
        headers={"X-Forwarded-For": "192.0.2.250"},
    )
    assert response.status_code == 429
    served.state.database.dispose()


def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    settings: Settings, factory: Factory
) -> None:
    victim = factory.user()
    for application in app_with(settings):
        direct = Browser(application, settings, client=STRANGER)
        for number in range(settings.login_max_failures_per_address):
            direct.post(
                "/login",
                {"email": f"guess{number}@example.org", "password": "x"},
                headers={"X-Forwarded-For": f"192.0.2.{number}"},
            )
        response = direct.post(
            "/login",
            {"email": victim.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.250"},
        )
        assert response.status_code == 429

    trusted = (ipaddress.ip_network("10.0.0.0/24"),)
    for application in app_with(settings, trusted_proxies=trusted):
        via_proxy = Browser(application, settings, client=("10.0.0.5", 40000))
        for number in range(settings.login_max_failures_per_address):
            via_proxy.post(
                "/login",
                {"email": f"guess{number}@example.org", "password": "x"},
                # What the client wrote itself, then what the proxy saw: only the last counts.
                headers={"X-Forwarded-For": f"192.0.2.{number}, 198.51.100.1"},
            )
        blocked = via_proxy.post(
            "/login",
            {"email": victim.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "192.0.2.250, 198.51.100.1"},
        )
        assert blocked.status_code == 429
        # Another client behind the same proxy is someone else.
        other = via_proxy.post(
            "/login",
            {"email": victim.email, "password": PASSWORD},
            headers={"X-Forwarded-For": "198.51.100.2"},
        )
        assert other.status_code == 303


# Lock-out ----------------------------------------------------------------------------------


def test_a_strangers_failures_do_not_lock_the_owner_out_from_elsewhere(
    app: FastAPI, settings: Settings, factory: Factory
) -> None:
    user = factory.user()
    stranger = Browser(app, settings, client=STRANGER)
    for _ in range(settings.login_max_failures):
        assert stranger.post("/login", {"email": user.email, "password": "no"}).status_code == 400
    refused = stranger.post("/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    owner = Browser(app, settings, client=OWNER)
    assert owner.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 303


def test_the_ceiling_per_account_stops_guessing_from_many_places_but_not_the_owner(
    settings: Settings, factory: Factory
) -> None:
    user = factory.user()
    for application in app_with(settings, login_max_failures_per_account=8):
        owner = Browser(application, settings, client=OWNER)
        owner.login(user.email)
        # Strangers from two addresses reach the ceiling of the account together.
        for host, tries in (("198.51.100.1", 5), ("198.51.100.2", 3)):
            stranger = Browser(application, settings, client=(host, 40000))
            for _ in range(tries):
                response = stranger.post("/login", {"email": user.email, "password": "no"})
                assert response.status_code == 400
        third = Browser(application, settings, client=("198.51.100.3", 40000))
        refused = third.post("/login", {"email": user.email, "password": PASSWORD})
        assert refused.status_code == 429
        assert 1 <= int(refused.headers["retry-after"]) <= settings.login_window_seconds
        assert re.search(r"Try again in \d+ seconds \(at \d\d:\d\d:\d\d\)", refused.text)
        assert 'value="' + user.email + '"' in refused.text  # the form keeps the address
        # The owner's browser has logged in before: the ceiling is not for it.
        assert owner.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 303
        # A mark for another account does not help.
        other = factory.user()
        marked = Browser(application, settings, client=("198.51.100.3", 40000))
        marked.login(other.email)
        response = marked.post("/login", {"email": user.email, "password": PASSWORD})
        assert response.status_code == 429


def test_the_wait_is_said_in_dutch(app: FastAPI, settings: Settings, factory: Factory) -> None:
    user = factory.user()
    stranger = Browser(app, settings, client=STRANGER)
    stranger.get("/lang/nl")
    for _ in range(settings.login_max_failures):
        stranger.post("/login", {"email": user.email, "password": "no"})
    refused = stranger.post("/login", {"email": user.email, "password": PASSWORD})
    assert refused.status_code == 429
    assert re.search(r"Probeer het opnieuw over \d+ seconden \(om \d\d:\d\d:\d\d\)", refused.text)


# Mail flooding -----------------------------------------------------------------------------


def test_a_mailbox_gets_a_limited_number_of_mails_whether_or_not_it_has_an_account(
    browser: Browser, factory: Factory, session: Session, settings: Settings
) -> None:
    user = factory.user()
    answers: dict[str, list[Any]] = {}
    for address in (user.email, "nobody@example.org"):
        answers[address] = [
            browser.post("/password/forgot", {"email": address})
            for _ in range(settings.mail_max_per_mailbox + 1)
        ]
        assert mails_to(session, address) == settings.mail_max_per_mailbox
    known, unknown = answers[user.email], answers["nobody@example.org"]
    assert [r.status_code for r in known] == [r.status_code for r in unknown]
    assert [r.status_code for r in known][-2:] == [200, 429]
    for ours, theirs in zip(known, unknown, strict=True):
        assert without(ours.text, user.email) == without(theirs.text, "nobody@example.org")
    refused = known[-1]
    assert 3500 <= int(refused.headers["retry-after"]) <= settings.mail_window_seconds
    assert re.search(r"Try again in 60 minutes \(at \d\d:\d\d\)", refused.text)

    # Registration counts for the same mailbox, from any address.
    elsewhere = Browser(browser.client.app, settings, client=OWNER)
    form = {"name": "N", "password": PASSWORD, "password_confirm": PASSWORD}
    response = elsewhere.post("/register", {**form, "email": "nobody@example.org"})
    assert response.status_code == 429
    assert 'value="nobody@example.org"' in response.text  # what was typed stays


def test_the_confirmation_link_cannot_be_sent_again_and_again(
    browser: Browser, session: Session, settings: Settings
) -> None:
    form = {"name": "Nieuw", "email": "new@example.org", "password": PASSWORD}
    browser.post("/register", {**form, "password_confirm": PASSWORD})
    browser.login("new@example.org")
    statuses = [
        browser.post("/account/verification").status_code
        for _ in range(settings.mail_max_per_mailbox)
    ]
    assert statuses == [200] * (settings.mail_max_per_mailbox - 1) + [429]
    assert mails_to(session, "new@example.org") == settings.mail_max_per_mailbox


def test_one_address_cannot_send_mail_to_many_mailboxes(
    browser: Browser, session: Session, settings: Settings
) -> None:
    for number in range(settings.mail_max_per_address):
        response = browser.post("/password/forgot", {"email": f"target{number}@example.org"})
        assert response.status_code == 200
    refused = browser.post("/password/forgot", {"email": "one-more@example.org"})
    assert refused.status_code == 429 and "retry-after" in refused.headers
    assert mails_to(session, "one-more@example.org") == 0
    # Someone else is not held back by it.
    other = Browser(browser.client.app, settings, client=OWNER)
    assert other.post("/password/forgot", {"email": "one-more@example.org"}).status_code == 200


def test_prune_removes_throttling_records_past_their_window(
    session: Session, settings: Settings
) -> None:
    now = utcnow()
    old_login = now - timedelta(seconds=settings.login_window_seconds + 1)
    old_mail = now - timedelta(seconds=settings.mail_window_seconds + 1)
    session.add_all(
        [
            LoginFailure(account="a@example.org", address="192.0.2.1", at=old_login),
            LoginFailure(account="b@example.org", address="192.0.2.1", at=now),
            MailRequest(mailbox="a@example.org", address="192.0.2.1", at=old_mail),
            MailRequest(
                mailbox="b@example.org", address="192.0.2.1", at=now - timedelta(minutes=5)
            ),
        ]
    )
    session.commit()
    prune_expired(session, settings)
    session.rollback()
    assert session.execute(select(LoginFailure.account)).scalars().all() == ["b@example.org"]
    assert session.execute(select(MailRequest.mailbox)).scalars().all() == ["b@example.org"]


def test_parallel_guesses_are_counted_one_by_one(
    app: FastAPI, settings: Settings, factory: Factory
) -> None:
    """A burst of guesses at once gets no more tries than the same guesses one by one (on
    PostgreSQL several workers count at the same time)."""
    user = factory.user()
    browsers = [Browser(app, settings, client=STRANGER) for _ in range(12)]
    for each in browsers:
        each.token()
    start = threading.Barrier(len(browsers))

    def guess(each: Browser) -> int:
        start.wait()
        return each.post("/login", {"email": user.email, "password": "no"}).status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = Counter(pool.map(guess, browsers))
    assert statuses == {400: settings.login_max_failures, 429: 12 - settings.login_max_failures}


def test_many_people_logging_in_at_once_behind_one_address_are_not_throttled(
    app: FastAPI, settings: Settings, factory: Factory
) -> None:
    """Interview day: the whole committee logs in at nine on the hospital's network (one
    address). Attempts whose password is still being checked count against their own
    account only, not against the address's or the account's wider limits (the scoring
    storm's thirty logins at once got 429 when they did)."""
    people = [factory.user() for _ in range(settings.login_max_failures_per_address + 5)]
    browsers = [Browser(app, settings, client=STRANGER) for _ in people]
    for each in browsers:
        each.token()
    start = threading.Barrier(len(browsers))

    def log_in(pair: tuple[Browser, Any]) -> int:
        each, person = pair
        start.wait()
        return each.post("/login", {"email": person.email, "password": PASSWORD}).status_code

    with ThreadPoolExecutor(len(browsers)) as pool:
        statuses = Counter(pool.map(log_in, zip(browsers, people, strict=True)))
    assert statuses == {303: len(people)}


def test_an_attempt_in_flight_counts_for_its_own_account_only(
    app: FastAPI, settings: Settings, factory: Factory, session: Session
) -> None:
    owner = factory.user()
    address = STRANGER[0]
    # As many in-flight attempts from this address as its limit, each at another account.
    session.add_all(
        LoginFailure(account=f"other{n}@example.org", address=address, pending=True)
        for n in range(settings.login_max_failures_per_address)
    )
    session.commit()
    assert Browser(app, settings, client=STRANGER).login(owner.email).status_code == 303
    # Settled failures from the address do count.
    session.execute(LoginFailure.__table__.update().values(pending=False))  # type: ignore[attr-defined]
    session.commit()
    refused = Browser(app, settings, client=STRANGER).post(
        "/login", {"email": owner.email, "password": PASSWORD}
    )
    assert refused.status_code == 429
