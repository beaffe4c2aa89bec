"""Dates typed into the page's text fields: the page's own form (Dutch 01-03-2027 09:30,
English 01/03/2027 09:30), the ISO form and a month by name, always day first, in Dutch
time; anything else refused with the form the page asks for."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app import forms
from app.errors import InvalidInput
from app.i18n import set_language

NINE_THIRTY = datetime(2027, 3, 1, 8, 30, tzinfo=UTC)  # 09:30 in Amsterdam (winter time)


@pytest.mark.parametrize(
    "typed",
    [
        "01-03-2027 09:30",
        "1-3-2027 9:30",
        "01/03/2027 09:30",
        "1.3.2027 09.30",
        "2027-03-01T09:30",
        "2027-03-01 09:30",
        "2027-03-01T09:30:00",
        "1 maart 2027 om 09:30",
        "1 mrt 2027 09:30",
        "1 March 2027 at 09:30",
        "  01-03-2027   09:30 ",
    ],
)
def test_a_moment_in_any_of_the_forms_a_person_types(typed: str) -> None:
    assert forms.local_datetime(typed, "closes_at") == NINE_THIRTY


def test_summer_time_counts() -> None:
    assert forms.local_datetime("01-07-2027 09:30", "x") == datetime(2027, 7, 1, 7, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    "typed",
    [
        "morgen",
        "01-03-2027",  # a moment needs its time
        "03/13/2027 09:30",  # month first: there is no 13th month
        "32-01-2027 10:00",
        "01-03-2027 25:00",
        "1 foo 2027 10:00",
        "２０２７-03-01 09:30",  # full-width digits
        "01-03-1999 09:30",
        "2027-03-01T09:30+05:00",
    ],
)
def test_anything_else_is_refused_with_the_form_the_page_asks(typed: str) -> None:
    set_language("nl")
    with pytest.raises(InvalidInput) as refused:
        forms.local_datetime(typed, "closes_at")
    assert refused.value.field == "closes_at"
    if "1999" not in typed:
        assert "01-03-2027 09:30" in refused.value.message
        assert "2027-03-01 09:30" in refused.value.message


def test_days_and_their_refusal() -> None:
    assert forms.dates(["13-01-2027", "2027-01-14", "15 jan 2027", " "], "days") == [
        date(2027, 1, 13), date(2027, 1, 14), date(2027, 1, 15),
    ]  # fmt: skip
    set_language("en")
    with pytest.raises(InvalidInput) as refused:
        forms.dates(["13-01-2027 10:00"], "days")
    assert "01/03/2027" in refused.value.message
    set_language("nl")


def test_shown_in_the_pages_own_form() -> None:
    set_language("nl")
    assert forms.local_input(NINE_THIRTY) == "01-03-2027 09:30"
    assert forms.day_input("2027-01-13") == "13-01-2027"
    assert "01-03-2027 09:30" in forms.input_hint()
    set_language("en")
    assert forms.local_input(NINE_THIRTY) == "01/03/2027 09:30"
    assert forms.day_input(date(2027, 1, 13)) == "13/01/2027"
    assert "01/03/2027" in forms.input_hint(False)
    set_language("nl")
    # What is shown is taken back as it is.
    assert forms.local_datetime(forms.local_input(NINE_THIRTY), "x") == NINE_THIRTY
