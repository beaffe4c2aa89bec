"""Schemathesis against the app's own OpenAPI document: every operation, generated
requests (valid and invalid paths, queries and forms), zero 5xx. Run by `make fuzz`, which
.ci/run runs; FUZZ_EXAMPLES sets the examples per operation (the count is reported and must
reach 10,000).

The app runs on a migrated SQLite database with the demo loaded, so paths like
/procedures/ANE-UTR-2027-1 exist beside the generated ones; requests come anonymously and
as a logged-in platform admin, who can reach the admin pages."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app import demo
from app.config import Settings
from app.db import connect
from app.main import create_app
from app.migrate import upgrade

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "70"))
MINIMUM = int(os.environ.get("FUZZ_MINIMUM", "10000"))
TALLY: dict[str, Any] = {"requests": 0, "errors": []}
HOSTILE_NUMBERS = st.sampled_from(
    ["²", "١٢", "１２", "9" * 5000, str(2**31), str(2**63), str(2**64), "-1", "0", "1_0"]
)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    var = tmp_path_factory.mktemp("fuzz")
    url = f"sqlite:///{var / 'app.db'}"
    upgrade(url)
    config = Settings(
        VAR_DIR=var,
        DATABASE_URL=url,
        SECRET_KEY="fuzz-secret-key",
        BASE_URL="http://testserver",
        # Argon2id at the tests' cost: many of the generated requests log in, register or
        # set a password, and the cost of a hash tells nothing about a 5xx.
        PASSWORD_HASH_COST="tests",
    )
    database = connect(url)
    accounts = demo.load(database, config)
    database.dispose()
    app = create_app(config)
    admin = next(a for a in accounts if a.role == "platform admin")
    with TestClient(app) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        client.post("/login", data={"csrf_token": token.group(1), "email": admin.email,
                                    "password": admin.password})  # fmt: skip
        app.state.fuzz_cookies = dict(client.cookies)
        app.state.fuzz_token = token.group(1)
        yield app


def test_no_request_gets_a_server_error(fuzz_app: Any) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_app)
    for result in schema.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy(), hostile=st.one_of(st.none(), HOSTILE_NUMBERS))
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            derandomize=True,
            database=None,
        )
        def run(case: Any, hostile: str | None) -> None:
            if hostile is not None:
                # Every number in the path or query replaced by one a column cannot hold
                # or that is not ASCII digits (each was a 500 once).
                for part in (case.path_parameters, case.query):
                    for name, value in (part or {}).items():
                        if isinstance(value, int) and not isinstance(value, bool):
                            part[name] = hostile
            TALLY["requests"] += 2
            anonymous = case.call()
            admin = case.call(
                cookies=fuzz_app.state.fuzz_cookies,
                headers={"X-CSRF-Token": fuzz_app.state.fuzz_token},
            )
            for who, response in (("anonymous", anonymous), ("admin", admin)):
                if response.status_code >= 500:
                    TALLY["errors"].append(
                        f"{who} {case.method} {case.formatted_path}: {response.status_code}"
                    )

        run()
    assert not TALLY["errors"], "\n".join(TALLY["errors"][:20])


def test_enough_requests_were_made() -> None:
    report = Path(os.environ.get("FUZZ_REPORT", "test-artifacts/fuzz.txt"))
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(f"requests {TALLY['requests']}, 5xx {len(TALLY['errors'])}\n")
    print(f"\nschemathesis: {TALLY['requests']} requests, {len(TALLY['errors'])} with 5xx")
    assert not TALLY["errors"]
    assert TALLY["requests"] >= MINIMUM, f"only {TALLY['requests']} requests"
