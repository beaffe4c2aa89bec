"""The deliberation's figures and Krippendorff's alpha."""

from __future__ import annotations

import math

import pytest

from app.scoring import stats


def test_summary_of_a_criterion() -> None:
    summary = stats.summarise([2, 4, 3])
    assert summary is not None
    assert summary.median == 3 and (summary.low, summary.high) == (2, 4)
    assert summary.spread == pytest.approx(math.sqrt(2 / 3))
    assert summary.flagged  # two levels apart
    close = stats.summarise([3, 4, 4])
    assert close is not None and not close.flagged
    assert stats.summarise([]) is None


def test_distribution_counts_each_level() -> None:
    assert stats.distribution([1, 3, 3, 5], 5) == [1, 0, 2, 0, 1]


def test_alpha_is_one_when_members_agree_and_low_when_they_do_not() -> None:
    agree = {"a": {"m1": 2, "m2": 2}, "b": {"m1": 4, "m2": 4}, "c": {"m1": 5, "m2": 5}}
    assert stats.agreement(agree, 5).alpha == pytest.approx(1.0)
    assert stats.agreement(agree, 5).verdict == "good"
    disagree = {"a": {"m1": 1, "m2": 5}, "b": {"m1": 5, "m2": 1}, "c": {"m1": 3, "m2": 3}}
    result = stats.agreement(disagree, 5)
    assert result.alpha is not None and result.alpha < 0 and result.verdict == "poor"


def test_alpha_matches_krippendorffs_own_example() -> None:
    """Krippendorff (2011), 'Computing Krippendorff's alpha-reliability', section C: four
    observers, twelve units, missing data; interval alpha 0.849 and ordinal alpha 0.815."""
    rows = {
        "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    }
    ratings = {
        str(unit): {
            observer: values[unit] for observer, values in rows.items() if values[unit] is not None
        }
        for unit in range(12)
    }
    result = stats.agreement(ratings, 5)
    assert result.alpha == pytest.approx(0.815, abs=0.001)
    # Unit 12 has one rating: it cannot be paired, so it does not count.
    assert result.units == 11


def test_alpha_needs_two_units_and_some_variation() -> None:
    assert stats.agreement({"a": {"m1": 3, "m2": 4}}, 5).alpha is None
    same = {"a": {"m1": 3, "m2": 3}, "b": {"m1": 3, "m2": 3}}
    assert stats.agreement(same, 5).verdict == "unknown"


def test_alpha_on_fewer_ratings_than_the_published_minimum_is_marked() -> None:
    # Five applicants, two members each: ten ratings, under the minimum of thirty.
    few = stats.agreement({f"a{i}": {"m1": 3, "m2": 3 + i % 2} for i in range(5)}, 5)
    assert few.alpha is not None and few.ratings == 10 and few.few
    # Fifteen applicants, two members each: thirty ratings, the minimum itself.
    enough = stats.agreement({f"a{i}": {"m1": 2 + i % 3, "m2": 2 + i % 3} for i in range(15)}, 5)
    assert enough.ratings == stats.MIN_RATINGS and not enough.few
    # Nothing computed, nothing to mark.
    assert not stats.agreement({"a": {"m1": 3}}, 5).few
