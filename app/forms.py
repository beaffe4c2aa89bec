"""Parsing form values into typed values, refusing bad input with a message in the user's
language that names the field (never a 500)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field

from app.errors import InvalidInput
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


def local_datetime(raw: str, field: str) -> datetime | None:
    """A datetime-local value typed in Europe/Amsterdam time, as an aware UTC datetime."""
    raw = raw.strip()
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(_("Enter a date and time like 2027-03-01 09:30."), field=field) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=AMSTERDAM)
    if not 2000 <= moment.year <= 2100:
        raise InvalidInput(_("Enter a date between 2000 and 2100."), field=field)
    return moment.astimezone(UTC)


def dates(raws: list[str], field: str) -> list[date]:
    result = []
    for raw in raws:
        raw = raw.strip()
        if not raw:
            continue
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            raise InvalidInput(_("Enter a date like 2027-03-01."), field=field) from None
        if not 2000 <= day.year <= 2100:
            raise InvalidInput(_("Enter a date between 2000 and 2100."), field=field)
        result.append(day)
    return result


def local_input(moment: datetime | None) -> str:
    """The value for a datetime-local input: Amsterdam wall-clock time."""
    if moment is None:
        return ""
    return moment.astimezone(AMSTERDAM).strftime("%Y-%m-%dT%H:%M")
