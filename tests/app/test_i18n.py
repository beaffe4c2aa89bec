"""Dutch first, English second: every message has a Dutch translation, and the switch works."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po

from app.config import ROOT
from tests.app.conftest import Browser

PO = ROOT / "app" / "locale" / "nl" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\(\w+\)s")


def extracted_messages() -> set[str]:
    found: set[str] = set()
    methods = [("app/**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {**DEFAULT_KEYWORDS, "N_": None}
    for _file, _line, message, _comments, _context in extract_from_dir(
        Path(ROOT), method_map=methods, options_map=options, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_every_message_has_a_dutch_translation_with_the_same_placeholders() -> None:
    with PO.open("rb") as handle:
        catalog = read_po(handle)
    translated = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        texts = [message.string] if isinstance(message.string, str) else list(message.string)
        if all(texts):
            translated[ids[0]] = (ids, texts)
    missing = sorted(extracted_messages() - set(translated))
    assert not missing, f"untranslated (run `make messages` and translate): {missing[:10]}"
    for ids, texts in translated.values():
        for message_id, text in zip(ids, texts, strict=False):
            found, expected = set(PLACEHOLDER.findall(text)), set(PLACEHOLDER.findall(message_id))
            assert found == expected, message_id


def test_dutch_by_default_and_english_on_request(browser: Browser, settings) -> None:  # type: ignore[no-untyped-def]
    from app.main import create_app

    dutch_app = create_app(settings.model_copy(update={"default_language": "nl"}))
    dutch = Browser(dutch_app, settings)
    page = dutch.get("/login")
    assert '<html lang="nl">' in page.text and "Inloggen" in page.text
    switched = dutch.get("/lang/en?next=/login")
    assert switched.status_code == 303 and switched.headers["location"] == "/login"
    page = dutch.get("/login")
    assert '<html lang="en">' in page.text and "Log in" in page.text
    dutch.get("/lang/nl?next=/")
    assert "Inloggen" in dutch.get("/login").text
    dutch_app.state.database.dispose()


def test_figures_are_written_as_the_reader_writes_them() -> None:
    """Agreement, spread and median on the deliberation, round and report pages."""
    from app.i18n import set_language
    from app.web import decimal

    set_language("nl")
    assert [decimal(0.7512), decimal(-0.5), decimal(0.0)] == ["0,75", "-0,50", "0,00"]
    assert [decimal(4.0, 1, fixed=False), decimal(3.5, 1, fixed=False)] == ["4", "3,5"]
    set_language("en")
    assert [decimal(0.7512), decimal(3.5, 1, fixed=False)] == ["0.75", "3.5"]
    set_language("nl")
