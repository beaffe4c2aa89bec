"""Accounts as a user meets them: register, confirm, log in, throttling, reset, invitations."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update
from sqlmodel import Session

from app.accounts import passwords
from app.accounts.models import LoginSession, Token, User
from app.audit import service as audit
from app.config import Settings
from app.db import utcnow
from app.deps import SESSION_COOKIE
from app.main import create_app
from tests.app.conftest import PASSWORD, Browser, Factory, outbox_link


def test_register_confirm_and_log_in(browser: Browser, session: Session) -> None:
    response = browser.post(
        "/register",
        {
            "name": "Sanne Jansen",
            "email": "Sanne@Example.org",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 200 and "sanne@example.org" in response.text.lower()
    user = session.execute(select(User).where(User.email == "sanne@example.org")).scalar_one()
    assert user.email_verified_at is None
    assert user.password_hash and user.password_hash.startswith("$argon2id$")

    link = outbox_link(session, "sanne@example.org", "/verify/")
    assert browser.get(link).status_code == 200
    assert browser.post(link).status_code == 200
    session.rollback()
    assert session.get(User, user.id).email_verified_at is not None  # type: ignore[union-attr]
    assert browser.post(link).status_code == 404  # single use

    response = browser.login("sanne@example.org")
    assert response.headers["location"] == "/home"
    assert browser.get("/home").headers["location"] == "/my"
    session.rollback()
    actions = [e["action"] for e in audit.entries(session, audit.PLATFORM_CHAIN)]
    assert "account.registered" in actions and "account.verified" in actions


def test_registration_refuses_bad_input_with_a_specific_message(browser: Browser) -> None:
    base = {"name": "A", "email": "a@example.org", "password": PASSWORD}
    cases = [
        ({**base, "email": "not-an-address"}, "valid e-mail"),
        ({**base, "password": "short", "password_confirm": "short"}, "at least 10"),
        ({**base, "password_confirm": PASSWORD + "x"}, "not the same"),
        ({**base, "name": "  ", "password_confirm": PASSWORD}, "Enter your name"),
    ]
    for data, message in cases:
        data.setdefault("password_confirm", data["password"])
        response = browser.post("/register", data)
        assert response.status_code == 422, data
        assert message in response.text


def test_registering_an_existing_address_reveals_nothing(
    browser: Browser, factory: Factory, session: Session
) -> None:
    user = factory.user()
    response = browser.post(
        "/register",
        {"name": "X", "email": user.email, "password": PASSWORD, "password_confirm": PASSWORD},
    )
    assert response.status_code == 200
    session.rollback()
    assert len(session.execute(select(User).where(User.email == user.email)).all()) == 1


def test_a_wrong_password_gets_one_generic_message(browser: Browser, factory: Factory) -> None:
    user = factory.user()
    wrong_password = browser.post("/login", {"email": user.email, "password": "wrong password"})
    unknown = browser.post("/login", {"email": "nobody@example.org", "password": "whatever"})
    for response in (wrong_password, unknown):
        assert response.status_code == 400
        assert "The e-mail address or password is not correct." in response.text
        assert SESSION_COOKIE not in response.cookies


def test_the_sixth_wrong_attempt_within_a_minute_gets_429(
    browser: Browser, factory: Factory
) -> None:
    user = factory.user()
    for _ in range(5):
        assert browser.post("/login", {"email": user.email, "password": "nope"}).status_code == 400
    response = browser.post("/login", {"email": user.email, "password": "nope"})
    assert response.status_code == 429
    assert "Too many failed attempts" in response.text
    # Until the first failure leaves the one-minute window.
    assert 50 <= int(response.headers["retry-after"]) <= 60
    # Even the right password waits: that is what stops guessing.
    assert browser.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 429


def test_throttling_also_counts_per_address(
    browser: Browser, factory: Factory, settings: Settings
) -> None:
    victim = factory.user()
    for number in range(settings.login_max_failures_per_address):
        browser.post("/login", {"email": f"guess{number}@example.org", "password": "x"})
    response = browser.post("/login", {"email": victim.email, "password": PASSWORD})
    assert response.status_code == 429


def test_failures_older_than_the_window_do_not_count(
    browser: Browser, factory: Factory, session: Session
) -> None:
    from app.accounts.models import LoginFailure

    user = factory.user()
    for _ in range(5):
        browser.post("/login", {"email": user.email, "password": "nope"})
    session.execute(update(LoginFailure).values(at=utcnow() - timedelta(minutes=2)))
    session.commit()
    assert browser.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 303


def test_session_cookie_flags_and_logout(
    browser: Browser, factory: Factory, session: Session
) -> None:
    user = factory.user()
    response = browser.login(user.email)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie
    assert browser.get("/account").status_code == 200
    assert browser.post("/logout").status_code == 303
    session.rollback()
    assert session.execute(select(LoginSession)).scalars().all() == []
    assert browser.get("/account").status_code == 303  # back to the login page


def test_cookies_are_secure_when_served_over_https(settings: Settings, factory: Factory) -> None:
    https_settings = settings.model_copy(update={"base_url": "https://selectie.example.org"})
    app = create_app(https_settings)
    secure_browser = Browser(app, https_settings)
    secure_browser.client.base_url = "https://testserver"  # type: ignore[assignment]
    first = secure_browser.get("/")
    assert "strict-transport-security" in first.headers
    assert "Secure" in first.headers["set-cookie"]
    response = secure_browser.login(factory.user().email)
    assert "Secure" in response.headers["set-cookie"]
    app.state.database.dispose()


def test_password_reset_is_single_use_and_expires(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    user = factory.user()
    other_device = new_browser()
    other_device.login(user.email)
    assert browser.post("/password/forgot", {"email": user.email}).status_code == 200
    link = outbox_link(session, user.email, "/password/reset/")
    assert browser.get(link).status_code == 200
    new = "a brand new password"
    response = browser.post(link, {"password": new, "password_confirm": new})
    assert response.status_code == 303
    assert browser.get("/account").status_code == 200
    # the old password is gone, the old sessions too, and the link is used up
    assert other_device.get("/account").status_code == 303
    assert browser.post(link, {"password": new, "password_confirm": new}).status_code == 404
    fresh = new_browser()
    assert fresh.post("/login", {"email": user.email, "password": PASSWORD}).status_code == 400
    fresh.login(user.email, new)

    browser.post("/password/forgot", {"email": user.email})
    expired = outbox_link(session, user.email, "/password/reset/")
    session.execute(update(Token).values(expires_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    assert browser.get(expired).status_code == 404
    assert "expired" in browser.get(expired).text


def test_forgot_password_does_not_reveal_accounts(browser: Browser, session: Session) -> None:
    response = browser.post("/password/forgot", {"email": "nobody@example.org"})
    assert response.status_code == 200 and "If an account exists" in response.text
    assert browser.post("/password/forgot", {"email": "nonsense"}).status_code == 422


def test_invitation_to_a_committee(
    browser: Browser,
    new_browser,
    factory: Factory,
    session: Session,  # type: ignore[no-untyped-def]
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.bare_procedure(organisation)
    browser.login(admin.email)
    response = browser.post(
        f"/manage/procedures/{procedure.reference}/invitations",
        {
            "email": "lid@example.org",
            "name": "Nieuw Lid",
            "role": "member",
            "function": "aios",
            "training_done": "true",
        },
    )
    assert response.status_code == 303 and response.headers["location"].endswith("#committee")
    assert "Invitation sent to lid@example.org." in browser.get(response.headers["location"]).text
    link = outbox_link(session, "lid@example.org", "/invitations/")
    invitee = new_browser()
    assert invitee.get(link).status_code == 200
    short = invitee.post(link, {"name": "Nieuw Lid", "password": "x", "password_confirm": "x"})
    assert short.status_code == 422
    response = invitee.post(
        link, {"name": "Nieuw Lid", "password": PASSWORD, "password_confirm": PASSWORD}
    )
    assert response.status_code == 303
    assert invitee.get("/home").headers["location"] == "/committee"
    assert procedure.title in invitee.get("/committee").text
    assert invitee.get(link).status_code == 404
    session.rollback()
    actions = [e["action"] for e in audit.entries(session, procedure.reference)]
    assert "committee.invited" in actions


def test_invitation_refusals_are_specific(browser: Browser, factory: Factory) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.bare_procedure(organisation)
    factory.member(procedure, "observer")
    browser.login(admin.email)
    url = f"/manage/procedures/{procedure.reference}/invitations"
    base = {"email": "w@example.org", "name": "W", "role": "observer", "function": ""}
    response = browser.post(url, base)
    assert response.status_code == 409 and "has an observer already" in response.text
    response = browser.post(url, {**base, "role": "king"})
    assert response.status_code == 422 and "Choose member, chair or observer" in response.text
    response = browser.post(url, {**base, "email": "broken"})
    assert response.status_code == 422 and "valid e-mail" in response.text


def test_production_hashes_passwords_with_owasps_argon2id_and_upgrades_cheaper_ones(
    database_url: str, tmp_path: Path, settings: Settings
) -> None:
    """The suite hashes at the tests' cost (tests/conftest.py); an app with the default
    settings hashes at OWASP's baseline (argon2id, 19 MiB, 2 passes, 1 lane), and a hash of
    any other cost is made anew at the next login."""
    assert Settings.model_fields["password_hash_cost"].default == "owasp"
    production = Settings(
        VAR_DIR=tmp_path / "production",
        DATABASE_URL=database_url,
        SECRET_KEY="test-secret-key-not-used-anywhere-else",
        BASE_URL="http://testserver",
    )
    assert production.password_hash_cost == "owasp"
    application = create_app(production)
    try:
        browser = Browser(application, production)
        form = {"name": "Sanne Jansen", "password": PASSWORD, "password_confirm": PASSWORD}
        assert browser.post("/register", {**form, "email": "sanne@example.org"}).status_code == 200
        assert stored_hash(application, "sanne@example.org").startswith(OWASP)
        passwords.use_cost("tests")
        cheaper = passwords.hash_password(PASSWORD)
        passwords.use_cost("owasp")
        assert cheaper.startswith("$argon2id$v=19$m=64,t=1,p=1$")
        with application.state.database.session() as session:
            session.execute(
                update(User)
                .where(User.email == "sanne@example.org")  # type: ignore[arg-type]
                .values(password_hash=cheaper, email_verified_at=utcnow())
            )
            session.commit()
        browser.login("sanne@example.org")
        assert stored_hash(application, "sanne@example.org").startswith(OWASP)
    finally:
        application.state.database.dispose()
        passwords.use_cost(settings.password_hash_cost)


OWASP = "$argon2id$v=19$m=19456,t=2,p=1$"


def stored_hash(application: Any, email: str) -> str:
    with application.state.database.session() as session:
        found = session.execute(
            select(User.password_hash).where(User.email == email)  # type: ignore[arg-type]
        ).scalar_one()
    assert found is not None
    return str(found)
