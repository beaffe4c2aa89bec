"""Dutch first, English second: gettext catalogues (Babel) chosen per request.

Message ids are English; `locale/nl/LC_MESSAGES/messages.po` holds the Dutch. The .po files
are compiled in memory when the app starts, so no compiled catalogue is committed.
"""

from __future__ import annotations

import io
from contextvars import ContextVar
from functools import lru_cache
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LANGUAGES = ("nl", "en")
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_current = ContextVar[str]("language", default="nl")


@lru_cache
def translations(language: str) -> NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def set_language(language: str) -> None:
    _current.set(language if language in LANGUAGES else "nl")


def current_language() -> str:
    return _current.get()


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_language()).ugettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_language()).ungettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


def template_ngettext(singular: str, plural: str, n: int) -> str:
    """For Jinja2's newstyle gettext, which fills in `num` and the other variables itself."""
    return str(translations(current_language()).ungettext(singular, plural, n))


def N_(message: str) -> str:
    """Mark a constant for extraction; it is translated where it is shown, with _()."""
    return message


_ = gettext
