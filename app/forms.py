"""Parsing form values into typed values, refusing bad input with a message in the user's
language that names the field (never a 500)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from app.errors import InvalidInput
from app.i18n import gettext as _

AMSTERDAM = ZoneInfo("Europe/Amsterdam")


def integer(raw: str, field: str, label: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidInput(
            _("Enter a whole number for %(field)s.", field=label), field=field
        ) from None


def optional_integer(raw: str, field: str, label: str) -> int | None:
    return integer(raw, field, label) if raw.strip() else None


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
