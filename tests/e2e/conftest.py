"""Browser tests: a real server on 127.0.0.1 with the demo data, driven by Debian's Chromium.

Run with `make e2e`. Screenshots go to test-artifacts/e2e/ (kept, not committed), each with
the page's HTML beside it, which `make html` gives to the Nu HTML checker.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

from app import demo
from app.config import ROOT

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = ROOT / "test-artifacts" / "e2e"
SIZES = {"phone": (390, 844), "tablet": (820, 1180), "desktop": (1366, 900)}


@dataclass
class Server:
    url: str
    var_dir: Path
    accounts: list[demo.DemoAccount]
    # The server's database, for a test that adds data through the service layer.
    database_url: str = ""

    def account(self, role: str) -> demo.DemoAccount:
        return next(a for a in self.accounts if a.role == role)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve_demo(tmp_path_factory.mktemp("var")) as running:
        yield running


@contextmanager
def serve_demo(var_dir: Path, database_url: str | None = None) -> Iterator[Server]:
    """A server with fresh demo data: a test that changes the demo's state for good (a draw
    voided, a deadline moved) starts its own, on its own SQLite database, so that it does
    not depend on the order the tests run in."""
    port = _free_port()
    sqlite = f"sqlite:///{var_dir / 'app.db'}"
    env = {
        **os.environ,
        "VAR_DIR": str(var_dir),
        "DATABASE_URL": database_url or os.environ.get("E2E_DATABASE_URL", sqlite),
        "BASE_URL": f"http://127.0.0.1:{port}",
        # Procedures open and close at their published times within a second.
        "CLOCK_SECONDS": "1",
    }
    log = (var_dir / "server.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "app", "serve", "--demo", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=ROOT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError((var_dir / "server.log").read_text())
        time.sleep(0.2)
    try:
        yield Server(
            url=url,
            var_dir=var_dir,
            accounts=demo.saved_accounts(var_dir),
            database_url=env["DATABASE_URL"],
        )
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium chromium-driver")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser: Browser) -> Iterator[object]:
    """A fresh browser context (its own cookies) per call, at a named screen size."""
    contexts = []

    def make(size: str = "desktop", language: str = "nl") -> Page:
        width, height = SIZES[size]
        context = browser.new_context(viewport={"width": width, "height": height}, locale=language)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def screenshot(page: Page, name: str) -> Path:
    """Keep a picture of the page and its HTML (the document as the browser holds it, for
    the Nu HTML checker), and check on the way that it fits its screen: nothing makes a
    phone or a tablet scroll sideways (a wide table scrolls in its own region)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    (ARTIFACTS / f"{name}.html").write_text(page.content(), encoding="utf-8")
    scroll_width, width = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert scroll_width <= width, f"{name}: {scroll_width} px wide on a {width} px screen"
    return path


NEW_APPLICANT_PASSWORD = "een nieuw wachtwoord hier"


def new_applicant(server: Server, email: str, password: str = NEW_APPLICANT_PASSWORD) -> None:
    """A verified applicant who has applied nowhere, written straight into the server's
    database, for a test that must not depend on what other tests did with the demo's
    applicants."""
    from app.accounts.models import User
    from app.accounts.passwords import hash_password
    from app.db import connect, utcnow

    database = connect(server.database_url)
    with database.session(write=True) as session:
        session.add(
            User(
                email=email,
                name=email.split("@")[0],
                password_hash=hash_password(password),
                email_verified_at=utcnow(),
            )
        )
        session.commit()
    database.dispose()


def log_in(page: Page, server: Server, email: str, password: str) -> None:
    page.goto(f"{server.url}/login")
    page.fill("#f-email", email)
    page.fill("#f-password", password)
    page.click("button[type=submit].button-primary")
    page.wait_for_load_state()


def tab_to(page: Page, selector: str, limit: int = 120) -> None:
    """Press Tab until the element matching `selector` has the focus, as a keyboard user
    would; fails when it is not reachable that way."""
    for _ in range(limit):
        if page.evaluate(
            "(selector) => document.activeElement && document.activeElement.matches(selector)",
            selector,
        ):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{selector} cannot be reached with the Tab key")


def choose_file_with_keyboard(page: Page, selector: str, path: Path) -> None:
    """Tab to a file input, open its chooser with Space and pick `path`, as a keyboard
    user would. Chromium opens no second chooser while the last one is still closing, so
    Space is pressed again (at most three times) when no chooser opens, and the choice
    counts only once the input holds the file."""
    tab_to(page, selector)
    for attempt in range(3):
        try:
            with page.expect_file_chooser(timeout=5_000) as chooser:
                page.keyboard.press("Space")
        except PlaywrightTimeoutError:
            if attempt == 2:
                raise
            continue
        chooser.value.set_files(path)
        break
    page.wait_for_function(
        "([selector, name]) => [...document.querySelector(selector).files]"
        ".some(file => file.name === name)",
        arg=[selector, path.name],
    )


def confirm(page: Page, button: str, name: str, recipients: int | None = None) -> None:
    """On the confirmation step of an action that mails people or cannot be undone: check
    it says so (and how many are e-mailed, with the mail), keep a picture, and confirm."""
    expect(page.locator("main")).to_contain_text("Dit kan niet ongedaan worden gemaakt.")
    if recipients:
        expect(page.locator(".confirm-recipients")).to_contain_text(
            f"{recipients} personen krijgen een e-mail"
        )
        expect(page.locator(".mail-body")).to_contain_text("Beste")
    elif recipients == 0:
        expect(page.locator(".confirm-recipients")).to_contain_text("Niemand krijgt een e-mail")
    expect(page.get_by_role("link", name="Annuleren")).to_be_visible()
    screenshot(page, name)
    with page.expect_navigation():
        page.get_by_role("button", name=button).click()
    expect(page.locator("#flash .alert")).to_be_visible()
