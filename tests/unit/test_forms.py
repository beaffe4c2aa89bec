"""The one parser for numbers typed into forms, paths and queries: ASCII digits, bounded."""

from __future__ import annotations

import pytest

from app import forms
from app.errors import InvalidInput


@pytest.mark.parametrize(
    "raw",
    [
        "²",  # str.isdigit() is true, int() fails
        "١٢",  # Arabic-Indic digits: int() takes them
        "１２",  # full-width digits: int() takes them too
        "9" * 5000,  # int() refuses more than 4,300 digits with ValueError
        str(2**31),  # past PostgreSQL's INTEGER
        str(2**63),  # past SQLite's INTEGER
        "1_000",
        "+5",
        "1.0",
        "0x10",
        "",
        " ",
        "-1",
    ],
)
def test_anything_but_ascii_digits_within_the_column_is_refused_naming_the_field(
    raw: str,
) -> None:
    with pytest.raises(InvalidInput) as refused:
        forms.integer(raw, "places", "places")
    assert refused.value.field == "places"
    assert "places" in refused.value.message
    assert str(forms.INT_MAX) in refused.value.message


def test_ascii_digits_within_the_bounds() -> None:
    assert forms.integer(" 12 ", "places", "places") == 12
    assert forms.integer(str(forms.INT_MAX), "x", "x") == forms.INT_MAX
    assert forms.integer("-3", "x", "x", minimum=-5) == -3
    assert forms.optional_integer("  ", "x", "x") is None
    assert forms.integers(["1", "2"], "x", "x") == [1, 2]
    with pytest.raises(InvalidInput):
        forms.integer("6", "level", "level", minimum=1, maximum=5)
    with pytest.raises(InvalidInput):
        forms.identifier("0", "document")


def test_a_boolean_is_not_a_number() -> None:
    assert forms.parse_whole_number(True) is None
    assert forms.parse_whole_number(7) == 7
    assert forms.parse_whole_number(None) is None
