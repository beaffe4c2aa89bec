"""What a well-kept site does on every page: a favicon, a description, compressed answers,
static files under hashed names with long caching, valid markup for htmx, the success
message after a save, and an error page that knows who is logged in."""

from __future__ import annotations

import hashlib
import itertools
import re
from typing import Any

from sqlmodel import Session, col, select

from app import flash
from app.applications.models import Application, Document
from app.assets import STATIC_DIR
from app.i18n import set_language
from app.lottery import draw as drawlib
from app.lottery import labels as lottery_labels
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory


def test_the_favicon_is_linked_and_served_where_browsers_ask(browser: Browser) -> None:
    page = browser.get("/")
    assert re.search(r'<link rel="icon" href="/static/favicon\.[0-9a-f]{8}\.svg"', page.text)
    assert '<link rel="icon" href="/favicon.ico"' in page.text
    icon = browser.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content == (STATIC_DIR / "favicon.ico").read_bytes()


def test_static_files_have_hashed_names_cached_for_a_year(browser: Browser) -> None:
    page = browser.get("/")
    digest = hashlib.sha256((STATIC_DIR / "css/app.css").read_bytes()).hexdigest()[:8]
    assert f'href="/static/css/app.{digest}.css"' in page.text
    assert re.search(r'src="/static/js/htmx\.min\.[0-9a-f]{8}\.js"', page.text)
    hashed = browser.get(f"/static/css/app.{digest}.css")
    assert hashed.status_code == 200 and b".wrap" in hashed.content
    assert hashed.headers["cache-control"] == "public, max-age=31536000, immutable"
    # The plain name still works, briefly cached; so does a stale hash, never for good.
    for url in ("/static/css/app.css", "/static/css/app.00000000.css"):
        plain = browser.get(url)
        assert plain.status_code == 200 and plain.content == hashed.content
        assert "immutable" not in plain.headers["cache-control"]
    assert browser.get("/static/css/nothing.12345678.css").status_code == 404
    assert browser.get("/static/css/app.css/../../main.py").status_code == 404


def test_text_is_compressed_with_its_security_headers_and_binary_is_not(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=1)
    admin = factory.user(platform_admin=True)
    session.commit()
    browser.login(admin.email)
    raw = {"Accept-Encoding": "gzip"}
    page = browser.client.get("/", headers=raw)
    assert page.headers["content-encoding"] == "gzip"
    assert "Accept-Encoding" in page.headers["vary"]
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert page.headers["x-frame-options"] == "DENY"
    assert "</html>" in page.text  # httpx undoes the gzip
    # A small answer is not worth compressing.
    assert "content-encoding" not in browser.client.get("/healthz", headers=raw).headers
    # A streamed export arrives whole.
    chain = browser.client.get(f"/procedures/{procedure.reference}/audit.jsonl", headers=raw)
    plain = browser.client.get(
        f"/procedures/{procedure.reference}/audit.jsonl", headers={"Accept-Encoding": "identity"}
    )
    assert chain.status_code == 200 and chain.text == plain.text and chain.text.count("\n") > 3
    # A PDF is compressed inside already, and streams with its length.
    document, application = session.execute(
        select(Document, Application)
        .join(Application, col(Application.id) == col(Document.application_id))
        .where(Application.procedure_id == procedure.id)
    ).first()  # type: ignore[misc]
    applicant = Browser(browser.client.app, browser.settings)  # type: ignore[arg-type]
    applicant.login(factory.last_applicants[0].email)
    pdf = applicant.client.get(
        f"/applications/{application.reference}/documents/{document.id}", headers=raw
    )
    assert pdf.status_code == 200 and "content-encoding" not in pdf.headers
    assert pdf.content.startswith(b"%PDF") and pdf.headers["content-length"] == str(document.size)
    # A spreadsheet is a zip file already.
    xlsx = browser.client.get(f"/procedures/{procedure.reference}/report.xlsx", headers=raw)
    assert xlsx.status_code == 200 and "content-encoding" not in xlsx.headers
    assert xlsx.content[:2] == b"PK"


def test_every_page_has_a_description_and_the_home_and_procedure_pages_their_own(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    session.commit()

    def description(url: str) -> str:
        found = re.search(r'<meta name="description" content="([^"]+)">', browser.get(url).text)
        assert found, url
        return found.group(1)

    default = description("/login")
    assert default.startswith("Selection procedures for postgraduate medical training")
    home = description("/")
    assert home != default and "before you apply" in home
    public = description(f"/procedures/{procedure.reference}")
    assert procedure.title in public and procedure.specialty in public


def test_htmx_attributes_are_valid_html_and_the_headings_do_not_skip(
    browser: Browser, factory: Factory, session: Session
) -> None:
    procedure = factory.procedure(phase=Phase.OPEN)
    session.commit()
    page = browser.get(f"/procedures/{procedure.reference}").text
    assert re.search(r"<body data-hx-headers='\{\"X-CSRF-Token\": \"[^\"]+\"\}'>", page)
    assert not re.search(r"\shx-[a-z-]+=", page)
    levels = [int(level) for level in re.findall(r"<h([1-6])[\s>]", page)]
    assert all(b <= a + 1 for a, b in itertools.pairwise(levels)), levels


def test_a_save_says_so_once_in_a_live_region(
    new_browser: Any, factory: Factory, session: Session
) -> None:
    organisation = factory.organisation()
    admin_user = factory.org_admin(organisation)
    procedure = factory.procedure(organisation)
    session.commit()
    admin = new_browser()
    admin.login(admin_user.email)
    saved = admin.post(
        f"/manage/procedures/{procedure.reference}/timeline",
        {"opens_at": "morgen", "closes_at": "", "final_result_at": ""},
    )
    # Refused (the dates are missing): no success message, the error in place.
    assert saved.status_code == 422 and "The timeline is saved." not in saved.text
    saved = admin.post(
        f"/manage/procedures/{procedure.reference}/pluses",
        {"plus_kind": "phd", "plus_description": "Promotieonderzoek"},
    )
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/manage/procedures/{procedure.reference}#pluses"
    editor = admin.get(f"/manage/procedures/{procedure.reference}")
    live_region = '<div id="flash" class="flash" role="status" data-close="Close">'
    assert f'{live_region}<p class="alert alert-ok">' in editor.text
    assert "The plus is added." in editor.text and "/static/js/flash." in editor.text
    again = admin.get(f"/manage/procedures/{procedure.reference}")
    assert "The plus is added." not in again.text
    assert f"{live_region}</div>" in again.text


def test_a_flash_cookie_not_made_by_the_site_is_not_shown(browser: Browser) -> None:
    secret = browser.settings.secret_key
    assert flash.decode(secret, flash.encode(secret, "Opgeslagen — ✓")) == "Opgeslagen — ✓"
    forged = flash.encode("another-secret", "Your account is closed; call 0900-FRAUD")
    assert flash.decode(secret, forged) is None
    browser.client.cookies.set(flash.FLASH_COOKIE, forged)
    assert "0900-FRAUD" not in browser.get("/").text


def test_an_error_page_knows_who_is_logged_in(browser: Browser, factory: Factory) -> None:
    user = factory.user("Lotte de Jong")
    factory.session.commit()
    browser.login(user.email)
    missing = browser.get("/this/page/does/not/exist")
    assert missing.status_code == 404
    assert "Lotte de Jong" in missing.text and 'href="/login"' not in missing.text
    refused = browser.get("/manage/procedures/NOPE-1")
    assert refused.status_code in (403, 404) and "Lotte de Jong" in refused.text


def test_places_and_candidates_are_counted_in_words(browser: Browser) -> None:
    step = drawlib.Step(True, "places", "", {"places": 1, "count": 3})
    for language, expected in (("en", "1 place for 3 candidates"), ("nl", "1 plaats voor 3")):
        set_language(language)
        assert lottery_labels.explain(step).startswith(expected)
    set_language("nl")
    several = drawlib.Step(True, "places", "", {"places": 2, "count": 3})
    assert lottery_labels.explain(several) == "2 plaatsen voor 3 kandidaten"
