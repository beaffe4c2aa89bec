"""Bad input gets a clear 4xx naming what is wrong, on pages and on the JSON API."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import Session, select

from app.applications.models import Application
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_permissions import MATRIX


def test_the_api_answers_errors_as_problem_details(browser: Browser, factory: Factory) -> None:
    missing = browser.get("/api/procedures/NOPE-2027")
    assert missing.status_code == 404
    assert missing.headers["content-type"] == "application/problem+json"
    problem = missing.json()
    assert problem["status"] == 404 and problem["title"] == "Not Found"
    assert problem["instance"] == "/api/procedures/NOPE-2027" and problem["detail"]

    invalid = browser.get("/api/procedures?status=nonsense")
    assert invalid.status_code == 422
    assert invalid.headers["content-type"] == "application/problem+json"
    assert [p["name"] for p in invalid.json()["invalid_params"]] == ["query.status"]

    unknown = browser.get("/api/nothing-here")
    assert unknown.status_code == 404 and unknown.json()["status"] == 404
    # Pages keep answering with pages.
    page = browser.get("/procedures/NOPE-2027")
    assert page.status_code == 404 and page.headers["content-type"].startswith("text/html")


def test_search_treats_like_wildcards_as_characters(browser: Browser, factory: Factory) -> None:
    organisation = factory.organisation()
    plain = factory.procedure(organisation, phase=Phase.OPEN)
    for wildcard in ("%", "_", "%%", "\\"):
        assert browser.get("/api/procedures", params={"q": wildcard}).json() == []
        assert browser.get("/api/procedures", params={"region": wildcard}).json() == []
        assert plain.title not in browser.get("/", params={"q": wildcard}).text
    found = browser.get("/api/procedures", params={"q": plain.title.lower()}).json()
    assert [item["reference"] for item in found] == [plain.reference]


def test_serve_points_the_mailed_links_at_its_own_port(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import uvicorn

    from app import __main__ as cli
    from app.config import get_settings

    seen: dict[str, str] = {}

    def fake_run(*_args: object, **_kwargs: object) -> None:
        seen["env"] = os.environ["BASE_URL"]
        seen["settings"] = get_settings().base_url

    monkeypatch.setattr(uvicorn, "run", fake_run)
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.delenv("BASE_URL", raising=False)
    try:
        assert cli.main(["serve", "--port", "8123"]) == 0
        assert seen == {"env": "http://127.0.0.1:8123", "settings": "http://127.0.0.1:8123"}
        monkeypatch.setenv("BASE_URL", "https://selectie.example.org")
        get_settings.cache_clear()
        assert cli.main(["serve", "--port", "8124"]) == 0
        assert seen["settings"] == "https://selectie.example.org"
    finally:
        monkeypatch.delenv("BASE_URL", raising=False)
        get_settings.cache_clear()


ID_ROUTES = sorted(
    (method, path)
    for method, path in MATRIX
    if any(f"{{{name}}}" in path for name in ("mail_id", "document_id", "requirement_id",
                                              "plus_id", "member_id", "number"))
)  # fmt: skip


@pytest.mark.parametrize("bad", ["²", "１２", "9" * 5000, str(2**31), str(2**63), "0", "1_0"])
def test_ids_in_paths_are_refused_naming_the_parameter(
    new_browser: Any, factory: Factory, session: Session, bad: str
) -> None:
    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.INTERVIEWS, applicants=1)
    application = session.exec(
        select(Application).where(Application.procedure_id == procedure.id)
    ).one()
    admin = new_browser()
    admin.login(factory.org_admin(organisation).email)
    platform = new_browser()
    platform.login(factory.user(platform_admin=True).email)
    values = {"reference": procedure.reference, "application_reference": application.reference}
    assert ID_ROUTES
    for method, path in ID_ROUTES:
        ids = {name: bad for name in ("mail_id", "document_id", "requirement_id", "plus_id",
                                      "member_id", "number")}  # fmt: skip
        url = path.format(**(values | ids))
        for who in (admin, platform):
            response = who.get(url) if method == "GET" else who.post(url, {})
            assert response.status_code == 422, (method, path, response.status_code)
            assert "not valid" in response.text


def test_numbered_form_fields_are_refused_naming_the_field(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    from tests.app.test_letter_round_and_privacy import apply, to_letter_round

    organisation = factory.organisation()
    procedure = factory.procedure(organisation, phase=Phase.OPEN)
    applicant = new_browser()
    reference = apply(applicant, session, procedure, factory.user("Sanne"))
    for name in ("answer-²", "relation-١", f"answer-{2**63}", "relation-9" + "9" * 5000):
        refused = applicant.post(f"/procedures/{procedure.reference}/apply", {name: "x"})
        assert refused.status_code == 422, name
        assert name[:20] in refused.text

    procedure = to_letter_round(session, procedure)
    admin = new_browser()
    admin.login(factory.org_admin(organisation).email)
    url = f"/manage/procedures/{procedure.reference}/letter-round/{reference}"
    for name in ("met-²", f"met-{2**31}"):
        refused = admin.post(url, {name: "met"})
        assert refused.status_code == 422 and name in refused.text, name


def test_a_content_length_of_thousands_of_digits_is_too_large(browser: Browser) -> None:
    response = browser.client.post("/login", content=b"x", headers={"content-length": "9" * 5000})
    assert response.status_code == 413
