"""Uploads and downloads of documents through the HTTP client: every crafted PDF is refused
quickly with a 422 that names the file (in Dutch and English) and never a 500; any file name
can be uploaded, is kept in a safe form, and downloads with an RFC 6266 `filename*`."""

from __future__ import annotations

import html
import re
import time
from pathlib import Path
from urllib.parse import unquote

import pytest
from sqlalchemy import select
from sqlmodel import Session

from app.applications.models import Document
from app.procedures.models import Procedure
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory
from tests.app.test_applications import form, fresh, make_pdf
from tests.data import pdf as crafted

MESSAGES = {
    "page-tree-bomb.pdf": ("is not a readable PDF", "is geen leesbare PDF"),
    "cyclic-page-tree.pdf": ("is not a readable PDF", "is geen leesbare PDF"),
    "ten-thousand-pages.pdf": ("has more than 500 pages", "heeft meer dan 500 pagina's"),
    "truncated.pdf": ("is not a readable PDF", "is geen leesbare PDF"),
    "text-renamed.pdf": ("is not a PDF file", "is geen PDF-bestand"),
    "encrypted.pdf": ("is protected with a password", "is beveiligd met een wachtwoord"),
}


@pytest.fixture
def open_procedure(factory: Factory) -> Procedure:
    return factory.procedure(phase=Phase.OPEN)


def text_of(response: object) -> str:
    return html.unescape(response.text)  # type: ignore[attr-defined]


def disposition(header: str) -> tuple[str, str]:
    """The ASCII `filename` and the decoded `filename*` (or the plain one when there is none)."""
    plain = re.search(r'filename="([^"]*)"', header)
    extended = re.search(r"filename\*=UTF-8''([^;\s]+)", header)
    assert plain is not None, header
    return plain.group(1), unquote(extended.group(1)) if extended else plain.group(1)


@pytest.mark.parametrize("path", list(crafted.REFUSED), ids=lambda path: path.name)
@pytest.mark.parametrize("language", ["en", "nl"])
def test_each_crafted_pdf_is_refused_quickly_with_a_message_naming_the_file(
    browser: Browser,
    factory: Factory,
    session: Session,
    open_procedure: Procedure,
    path: Path,
    language: str,
) -> None:
    browser.login(factory.user().email)
    browser.get(f"/lang/{language}?next=/")
    url = f"/procedures/{open_procedure.reference}/apply"
    name = f"Şule {path.name}"
    started = time.monotonic()
    refused = browser.post(
        url,
        {**form(session, open_procedure), "action": "save"},
        files=[("cv", (name, path.read_bytes(), "application/pdf"))],
    )
    elapsed = time.monotonic() - started
    assert refused.status_code == 422, refused.text[:500]
    english, dutch = MESSAGES[path.name]
    assert f"{name} {dutch if language == 'nl' else english}" in text_of(refused)
    assert elapsed < 8  # the bomb alone cost 6.4 s of CPU before; now within the budget
    fresh(session)
    assert session.execute(select(Document)).first() is None


def test_a_valid_crafted_pdf_is_accepted(
    browser: Browser, factory: Factory, session: Session, open_procedure: Procedure
) -> None:
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    (path,) = crafted.ACCEPTED
    saved = browser.post(
        url,
        {**form(session, open_procedure), "action": "save"},
        files=[("cv", ("cv.pdf", path.read_bytes(), "application/pdf"))],
    )
    assert saved.status_code == 303, saved.text[:500]
    fresh(session)
    assert session.execute(select(Document.kind)).scalar_one() == "cv"


def test_the_page_limit_is_a_setting(
    factory: Factory, session: Session, open_procedure: Procedure, settings: object
) -> None:
    from pypdf import PdfWriter

    from app.config import Settings
    from app.main import create_app

    assert isinstance(settings, Settings)
    app = create_app(settings.model_copy(update={"pdf_max_pages": 2}))
    browser = Browser(app, settings)
    browser.login(factory.user().email)
    writer = PdfWriter()
    for _ in range(3):
        writer.add_blank_page(width=595, height=842)
    import io

    buffer = io.BytesIO()
    writer.write(buffer)
    refused = browser.post(
        f"/procedures/{open_procedure.reference}/apply",
        {**form(session, open_procedure), "action": "save"},
        files=[("cv", ("drie.pdf", buffer.getvalue(), "application/pdf"))],
    )
    assert refused.status_code == 422
    assert "drie.pdf has more than 2 pages" in text_of(refused)
    app.state.database.dispose()


# File names -------------------------------------------------------------------------------

NAMES = {
    # as sent by the browser: (as kept and shown, the ASCII fallback)
    "履歴書.pdf": ("履歴書.pdf", "document.pdf"),
    "Şule Yılmaz CV.pdf": ("Şule Yılmaz CV.pdf", "Sule Y_lmaz CV.pdf"),
    "Brief Zoë (def).PDF": ("Brief Zoë (def).pdf", "Brief Zoe (def).pdf"),
    "../../etc/passwd": ("passwd.pdf", "passwd.pdf"),
    "C:\\Users\\sanne\\cv.pdf": ("cv.pdf", "cv.pdf"),
    # the client sends a quote as %22, as browsers do
    'zeg "hallo"; filename=evil.exe': (
        "zeg _22hallo_22_ filename_evil.exe.pdf",
        "zeg _22hallo_22_ filename_evil.exe.pdf",
    ),
    "cv\u202efdp.exe": ("cvfdp.exe.pdf", "cvfdp.exe.pdf"),
    # the client sends a control character as %07, as browsers do (raw ones: test_downloads)
    "brief\x07.pdf": ("brief_07.pdf", "brief_07.pdf"),
    "a" * 300 + ".pdf": ("a" * 116 + ".pdf", "a" * 116 + ".pdf"),
    "...pdf": ("document.pdf", "document.pdf"),
    ".pdf": ("document.pdf", "document.pdf"),
    "مرحبا.pdf": ("مرحبا.pdf", "document.pdf"),
}


@pytest.mark.parametrize("sent", list(NAMES), ids=range(len(NAMES)))
def test_any_file_name_is_kept_safely_and_downloads(
    browser: Browser,
    factory: Factory,
    session: Session,
    open_procedure: Procedure,
    sent: str,
) -> None:
    kept, fallback = NAMES[sent]
    browser.login(factory.user().email)
    url = f"/procedures/{open_procedure.reference}/apply"
    content = make_pdf(title="CV")
    saved = browser.post(
        url,
        {**form(session, open_procedure), "action": "save"},
        files=[("cv", (sent, content, "application/pdf"))],
    )
    assert saved.status_code == 303, saved.text[:500]
    fresh(session)
    document = session.execute(select(Document)).scalar_one()
    assert document.filename == kept
    page = browser.get(url)
    assert f"<bdi>{html.escape(kept, quote=False)}</bdi>" in page.text.replace("&#39;", "'")

    download = browser.get(f"/applications/{open_procedure.reference}-0001/documents/{document.id}")
    assert download.status_code == 200 and download.content == content
    header = download.headers["content-disposition"]
    header.encode("ascii")  # every byte of the header is ASCII
    assert header.startswith("attachment; ")
    assert disposition(header) == (fallback, kept)
