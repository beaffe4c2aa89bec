"""Small diversity groups stay hidden, and no hidden count follows from what is shown."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from app.applications.disclosure import shown_groups


def test_groups_under_five_are_not_shown() -> None:
    assert shown_groups({"woman": 7, "man": 6, "other": 0}) == {"man": 6, "woman": 7}


def test_one_hidden_group_takes_the_next_smallest_with_it() -> None:
    # Hiding "x" alone: the total (15, known from any other question) minus 8 and 6 is 1.
    assert shown_groups({"woman": 8, "man": 6, "x": 1}) == {"woman": 8}
    # Ties for the next smallest are broken by name.
    assert shown_groups({"a": 6, "b": 6, "c": 2}) == {"b": 6}


def test_two_small_groups_hide_each_other() -> None:
    assert shown_groups({"woman": 8, "man": 6, "x": 1, "unanswered": 2}) == {
        "man": 6,
        "woman": 8,
    }


def test_few_respondents_show_nothing() -> None:
    assert shown_groups({"woman": 3, "man": 1}) == {}
    assert shown_groups({"woman": 4}) == {}
    assert shown_groups({"woman": 9, "man": 2}) == {}
    assert shown_groups({}) == {}


def test_a_single_group_big_enough_is_shown() -> None:
    assert shown_groups({"unanswered": 5}) == {"unanswered": 5}


@given(st.dictionaries(st.sampled_from("abcdefg"), st.integers(min_value=0, max_value=40)))
def test_no_small_group_shows_and_hidden_groups_never_stand_alone(counts: dict[str, int]) -> None:
    shown = shown_groups(counts)
    present = {g for g, n in counts.items() if n > 0}
    hidden = present - set(shown)
    assert all(n >= 5 for n in shown.values())
    assert all(counts[g] == n for g, n in shown.items())
    # Knowing the total, a reader works out a hidden group that is hidden alone; that
    # happens only when it is the only group, so the total is under five and every group of
    # every question is hidden too.
    assert len(hidden) != 1 or (present == hidden and sum(counts.values()) < 5)
    assert {g for g in present if counts[g] < 5} <= hidden
