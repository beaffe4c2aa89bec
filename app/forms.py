"""Parsing form values into typed values, refusing bad input with a message in the user's
language that names the field (never a 500)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from app.errors import InvalidInput
from app.i18n import current_language
from app.i18n import gettext as _

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# The largest value every integer column holds on both databases (PostgreSQL's INTEGER);
# SQLite would take 2^63 - 1, so the bound is set by the stricter one.
INT_MAX = 2**31 - 1
# ASCII digits only: str.isdigit() and int() also take '²', '٣' and full-width digits.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{1,12}")


def parse_whole_number(raw: object, *, minimum: int = 0, maximum: int = INT_MAX) -> int | None:
    """The number, or None when `raw` is not ASCII digits within the bounds."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int):
        value = raw
    elif isinstance(raw, str) and _WHOLE_NUMBER.fullmatch(text := raw.strip()):
        value = int(text)
    else:
        return None
    return value if minimum <= value <= maximum else None


def integer(raw: str, field: str, label: str, *, minimum: int = 0, maximum: int = INT_MAX) -> int:
    """A whole number typed into a form field; anything else is a 422 naming the field."""
    value = parse_whole_number(raw, minimum=minimum, maximum=maximum)
    if value is None:
        raise InvalidInput(
            _(
                "Enter a whole number from %(minimum)s to %(maximum)s for %(field)s.",
                field=label,
                minimum=minimum,
                maximum=maximum,
            ),
            field=field,
        )
    return value


def optional_integer(
    raw: str, field: str, label: str, *, minimum: int = 0, maximum: int = INT_MAX
) -> int | None:
    if not raw.strip():
        return None
    return integer(raw, field, label, minimum=minimum, maximum=maximum)


def integers(
    raws: list[str], field: str, label: str, *, minimum: int = 0, maximum: int = INT_MAX
) -> list[int]:
    """Every value of a repeated field (checkboxes, a list of ids), each parsed strictly."""
    return [integer(raw, field, label, minimum=minimum, maximum=maximum) for raw in raws]


def identifier(raw: str, field: str) -> int:
    """A row id sent in a form (a document, a remark, a member): 1 up to the column's size."""
    return integer(raw, field, field, minimum=1)


def _path_id(raw: object) -> int:
    value = parse_whole_number(raw, minimum=1)
    if value is None:
        raise ValueError("not an id")  # FastAPI answers 422 naming the parameter
    return value


# A row id in a path or query: ASCII digits, 1 to INT_MAX. Use it for every `…_id: Id`.
Id = Annotated[int, BeforeValidator(_path_id), Field(ge=1, le=INT_MAX)]


# Dates are typed, not picked: a browser's date input follows the browser's language, not
# the page's, so a Dutch page would ask for mm/dd/yyyy. A text input shows the page's own
# form (Dutch 01-03-2027 09:30, English 01/03/2027 09:30) and these accept both, the ISO
# form (2027-03-01 09:30, 2027-03-01T09:30) and a month by name (1 maart 2027 09:30).
# Always day before month, and ASCII digits only.
_TIME = r"(?:[ T,]+(?:om |at )?(?P<hour>[0-9]{1,2})[:.](?P<minute>[0-9]{2})(?::[0-9]{2})?)?"
_ISO = re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{1,2})-(?P<day>[0-9]{1,2})" + _TIME, re.A)
_NUMERIC = re.compile(
    r"(?P<day>[0-9]{1,2})[-/.](?P<month>[0-9]{1,2})[-/.](?P<year>[0-9]{4})" + _TIME, re.A
)
_NAMED = re.compile(
    r"(?P<day>[0-9]{1,2})\s+(?P<name>[a-z]+)\.?\s+(?P<year>[0-9]{4})" + _TIME, re.A | re.I
)
_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("januari", "january", "jan"),
            ("februari", "february", "feb"),
            ("maart", "march", "mrt", "mar"),
            ("april", "apr"),
            ("mei", "may"),
            ("juni", "june", "jun"),
            ("juli", "july", "jul"),
            ("augustus", "august", "aug"),
            ("september", "sep", "sept"),
            ("oktober", "october", "okt", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
# How a date (and a moment) is shown in a form field, per language.
INPUT_FORMATS = {"nl": ("%d-%m-%Y", "%d-%m-%Y %H:%M"), "en": ("%d/%m/%Y", "%d/%m/%Y %H:%M")}


def _parts(raw: str) -> tuple[int, int, int, int | None, int | None] | None:
    """Year, month, day, hour and minute (None without a time) of a typed date."""
    text = " ".join(raw.split())
    for pattern in (_ISO, _NUMERIC, _NAMED):
        found = pattern.fullmatch(text)
        if found is None:
            continue
        if pattern is _NAMED:
            month = _MONTHS.get(found["name"].lower())
            if month is None:
                return None
        else:
            month = int(found["month"])
        hour = int(found["hour"]) if found["hour"] is not None else None
        minute = int(found["minute"]) if found["minute"] is not None else None
        return int(found["year"]), month, int(found["day"]), hour, minute
    return None


def _example(with_time: bool) -> str:
    """The form the page asks for, shown in the message of a refused date."""
    sample = datetime(2027, 3, 1, 9, 30)
    day, moment = INPUT_FORMATS.get(current_language(), INPUT_FORMATS["nl"])
    return sample.strftime(moment if with_time else day)


def local_datetime(raw: str, field: str) -> datetime | None:
    """A moment typed in Europe/Amsterdam time, as an aware UTC datetime."""
    raw = raw.strip()
    if not raw:
        return None
    parts = _parts(raw)
    refusal = _(
        "Enter a date and time with the day first, like %(example)s (or 2027-03-01 09:30).",
        example=_example(True),
    )
    if parts is None:
        raise InvalidInput(refusal, field=field)
    year, month, day, hour, minute = parts
    if hour is None or minute is None:
        raise InvalidInput(refusal, field=field)
    if not 2000 <= year <= 2100:
        raise InvalidInput(_("Enter a date between 2000 and 2100."), field=field)
    try:
        moment = datetime(year, month, day, hour, minute, tzinfo=AMSTERDAM)
    except ValueError:
        raise InvalidInput(refusal, field=field) from None
    return moment.astimezone(UTC)


def dates(raws: list[str], field: str) -> list[date]:
    result = []
    for raw in raws:
        raw = raw.strip()
        if not raw:
            continue
        parts = _parts(raw)
        refusal = _(
            "Enter a date with the day first, like %(example)s (or 2027-03-01).",
            example=_example(False),
        )
        if parts is None or parts[3] is not None:
            raise InvalidInput(refusal, field=field)
        year, month, number = parts[:3]
        if not 2000 <= year <= 2100:
            raise InvalidInput(_("Enter a date between 2000 and 2100."), field=field)
        try:
            result.append(date(year, month, number))
        except ValueError:
            raise InvalidInput(refusal, field=field) from None
    return result


def local_input(moment: datetime | None) -> str:
    """A moment as a form field shows it: Amsterdam wall-clock time in the page's form."""
    if moment is None:
        return ""
    form = INPUT_FORMATS.get(current_language(), INPUT_FORMATS["nl"])[1]
    return moment.astimezone(AMSTERDAM).strftime(form)


def day_input(day: str | date | None) -> str:
    """A day (an ISO string or a date) as a form field shows it, in the page's form."""
    if not day:
        return ""
    value = date.fromisoformat(day) if isinstance(day, str) else day
    return value.strftime(INPUT_FORMATS.get(current_language(), INPUT_FORMATS["nl"])[0])


def input_hint(with_time: bool = True) -> str:
    """The hint beside a date field: the form it takes, with an example."""
    if with_time:
        return _(
            "Day, month, year and time (Dutch time), e.g. %(example)s.", example=_example(True)
        )
    return _("Day, month and year, e.g. %(example)s.", example=_example(False))
