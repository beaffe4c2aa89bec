"""CSRF on every state change, security headers, friendly error pages without stack traces."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlmodel import Session

from app.procedures.models import Organisation
from tests.app.conftest import Browser, Factory
from tests.app.test_permissions import MATRIX


def count_organisations(session: Session) -> int:
    session.rollback()
    return session.execute(select(func.count()).select_from(Organisation)).scalar_one()


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_a_form_without_a_valid_csrf_token_gets_403_and_changes_nothing(
    browser: Browser, factory: Factory, session: Session, token: str | None
) -> None:
    admin = factory.user(platform_admin=True)
    browser.login(admin.email)
    before = count_organisations(session)
    data = {
        "slug": "nvk",
        "name": "Nederlandse Vereniging voor Kindergeneeskunde",
        "short_name": "NVK",
    }
    if token is not None:
        data["csrf_token"] = token
    response = browser.client.post("/admin/organisations", data=data)
    assert response.status_code == 403
    assert "did not come from this site" in response.text
    assert count_organisations(session) == before
    # the same form with the token works
    data.pop("csrf_token", None)
    assert browser.post("/admin/organisations", data).status_code == 303
    assert count_organisations(session) == before + 1


def test_htmx_requests_carry_the_token_in_a_header(browser: Browser, factory: Factory) -> None:
    admin = factory.user(platform_admin=True)
    browser.login(admin.email)
    data = {"slug": "nvk", "name": "NVK", "short_name": "NVK"}
    refused = browser.client.post("/admin/organisations", data=data, headers={"HX-Request": "true"})
    assert refused.status_code == 403 and refused.text.startswith('<div class="alert')
    accepted = browser.client.post(
        "/admin/organisations",
        data=data,
        headers={"HX-Request": "true", "X-CSRF-Token": browser.token()},
    )
    assert accepted.status_code == 303


def test_a_token_from_another_browser_is_refused(
    browser: Browser,
    new_browser,
    factory: Factory,  # type: ignore[no-untyped-def]
) -> None:
    other = new_browser()
    stolen = other.token()
    response = browser.client.post(
        "/login", data={"email": "a@example.org", "password": "x", "csrf_token": stolen}
    )
    assert response.status_code == 403


def test_every_state_changing_route_checks_csrf(browser: Browser) -> None:
    """Each POST route of the permission matrix refuses a request without a token."""
    for method, path in MATRIX:
        if method == "GET":
            continue
        url = path.format(
            reference="X-1",
            slug="x",
            token="t",
            mail_id=1,
            language="nl",
            requirement_id=1,
            plus_id=1,
            institution_id=1,
            member_id=1,
            document_id=1,
            application_reference="X-1-0001",
            number=1,
            panel_id=1,
            entry_id=1,
        )
        response = browser.client.request(method, url, data={})
        assert response.status_code == 403, f"{method} {url} answered {response.status_code}"


def test_security_headers_on_every_page(browser: Browser) -> None:
    for url in ("/", "/login", "/no-such-page", "/static/css/app.css"):
        headers = browser.get(url).headers
        csp = headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "same-origin"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # only over https


def test_an_unknown_page_gets_the_friendly_404(browser: Browser) -> None:
    response = browser.get("/procedures/DOES-NOT-EXIST")
    assert response.status_code == 404
    assert "Page not found" in response.text and "<html" in response.text
    response = browser.get("/this/is/nothing")
    assert response.status_code == 404 and "Page not found" in response.text


def test_an_unexpected_error_gets_the_friendly_500_and_a_logged_traceback(
    app: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    @app.get("/boom", include_in_schema=False)
    def boom() -> None:
        raise RuntimeError("secret internals: table user_account")

    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.ERROR, logger="app"):
        response = client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text
    assert "secret internals" not in response.text and "Traceback" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "content-security-policy" in response.headers
    assert any("secret internals" in (r.exc_text or "") for r in caplog.records)


def test_malformed_input_gets_a_4xx_not_a_500(browser: Browser, factory: Factory) -> None:
    admin = factory.user(platform_admin=True)
    browser.login(admin.email)
    response = browser.get("/admin/outbox/not-a-number")
    assert response.status_code == 422 and "not valid" in response.text
    response = browser.post("/login", {"email": "x" * 5000, "password": "y"})
    assert response.status_code == 422


def test_health_check(browser: Browser) -> None:
    response = browser.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok"}


def test_open_redirects_are_refused(browser: Browser, factory: Factory) -> None:
    user = factory.user()
    response = browser.post(
        "/login",
        {"email": user.email, "password": "correct horse battery", "next": "//evil.example"},
    )
    assert response.headers["location"] == "/home"
    assert browser.get("/lang/en?next=//evil.example").headers["location"] == "/"


def test_control_characters_are_refused_before_they_reach_the_database(
    browser: Browser, factory: Factory
) -> None:
    organisation = factory.organisation()
    admin = factory.org_admin(organisation)
    procedure = factory.bare_procedure(organisation)
    browser.login(admin.email)
    form = {"title": "A\x00B", "specialty": "S", "region": "R", "places": "2", "quorum": "3"}
    response = browser.post(f"/manage/procedures/{procedure.reference}/basics", form)
    assert response.status_code == 422 and "control characters" in response.text
    assert browser.get("/procedures/X%00Y").status_code == 422
    assert browser.get("/?q=%00").status_code == 422
    form["title"] = "Regel één\r\nregel twee\t."
    assert browser.post(f"/manage/procedures/{procedure.reference}/basics", form).status_code == 303
