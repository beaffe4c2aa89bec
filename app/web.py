"""Rendering: the Jinja2 environment and render(), which serves a whole page or, for an htmx
request, one named block of the same template, so a page and its fragment never drift."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from babel.dates import format_date as babel_format_date
from babel.dates import format_datetime as babel_format_datetime
from babel.numbers import format_decimal as babel_format_decimal
from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from jinja2_fragments.fastapi import Jinja2Blocks
from markupsafe import Markup

from app import flash
from app.config import ROOT
from app.forms import AMSTERDAM, day_input, input_hint, local_input
from app.i18n import current_language, gettext, template_ngettext
from app.security import SAFE_METHODS, csrf_token

_environment = Environment(
    loader=FileSystemLoader(ROOT / "templates"),
    autoescape=select_autoescape(["html"]),
    extensions=["jinja2.ext.i18n"],
    # Templates ship with the code: no file-system check on every render.
    auto_reload=False,
)
_environment.install_gettext_callables(gettext, template_ngettext, newstyle=True)  # type: ignore[attr-defined]
templates = Jinja2Blocks(env=_environment)


DATE_TIME_FORMATS = {
    ("nl", "medium"): "d MMMM y 'om' HH:mm",
    ("en", "medium"): "d MMMM y 'at' HH:mm",
    ("nl", "short"): "d MMM y HH:mm",
    ("en", "short"): "d MMM y HH:mm",
}


def local_time(moment: datetime | None, style: str = "medium") -> str:
    """A UTC moment as Dutch (or English) wall-clock time in Europe/Amsterdam."""
    if moment is None:
        return ""
    language = current_language()
    return babel_format_datetime(
        moment.astimezone(AMSTERDAM),
        format=DATE_TIME_FORMATS.get((language, style), style),
        locale=language,
    )


def local_date(day: str | date, style: str = "full") -> str:
    """A day in the reader's language: "full" names the weekday, "medium" is short."""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return babel_format_date(value, format=style, locale=current_language())


def decimal(value: float, digits: int = 2, *, fixed: bool = True) -> str:
    """A number as the reader writes it: 0,75 in Dutch, 0.75 in English; `fixed=False`
    drops trailing zeros (a median of 4 stays 4, 3.5 is 3,5)."""
    pattern = "0." + ("0" if fixed else "#") * digits if digits else "0"
    return babel_format_decimal(value, format=pattern, locale=current_language())


templates.env.filters["local_time"] = local_time
templates.env.filters["decimal"] = decimal
templates.env.filters["local_date"] = local_date
templates.env.filters["local_input"] = local_input
templates.env.filters["day_input"] = day_input
templates.env.globals["input_hint"] = input_hint


# Parts of a page that depend only on what never changes under a key (a pinned rubric's
# criteria, in one language), rendered once per process instead of on every request. The
# template marks with `slot` where the page puts its own values; the parts between the
# slots come back as markup, in order.
SLOT = "\x00"
_PARTS: dict[tuple[Any, ...], list[Markup]] = {}


def static_parts(template: str, key: tuple[Any, ...], **values: Any) -> list[Markup]:
    language = current_language()
    cached = _PARTS.get((template, language, *key))
    if cached is None:
        slot = Markup(SLOT)  # noqa: S704 (a constant)
        rendered = _environment.get_template(template).render(lang=language, slot=slot, **values)
        cached = _PARTS[(template, language, *key)] = [
            Markup(part)  # noqa: S704 (the template's autoescaped output)
            for part in rendered.split(SLOT)
        ]
    return cached


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
    block: str | None = None,
) -> HTMLResponse:
    values: dict[str, Any] = {
        "principal": getattr(request.state, "principal", None),
        "lang": current_language(),
        "csrf_token": csrf_token(request),
        "path": request.url.path,
        "language_next": _language_next(request),
    }
    values.update(context or {})
    if block is None and request.headers.get("hx-request") and "hx-boosted" not in request.headers:
        wanted = request.headers.get("x-fragment")
        # A fragment the template does not have (an error page answering an htmx request,
        # say) is not an error: the whole template is the answer.
        if wanted and wanted in templates.env.get_template(template).blocks:
            block = wanted
    if block:
        return templates.TemplateResponse(  # type: ignore[return-value]
            request, template, values, status_code=status_code, block_name=block
        )
    # A whole page shows the message the last change left (once), a fragment never does.
    pending = flash.FLASH_COOKIE in request.cookies and not request.headers.get("hx-request")
    if pending:
        values.setdefault("flash", flash.take(request))
    response = templates.TemplateResponse(request, template, values, status_code=status_code)
    if pending:
        flash.clear(response)
    return response  # type: ignore[return-value]


def _language_next(request: Request) -> str:
    """Where the language switch returns to: this page, or, for a page that answered a
    form (a POST cannot be repeated by a link), the page the form was on."""
    if request.method in SAFE_METHODS:
        return request.url.path
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.url.netloc and referer.path.startswith("/"):
        return referer.path
    return "/"
