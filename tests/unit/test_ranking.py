"""Ranking by the published rule, and where the lottery must decide."""

from __future__ import annotations

from app.lottery.ranking import Candidate, rank
from app.procedures.vocabulary import RankingRule


def candidate(reference: str, total: int = 20, pluses: int = 0, suitable: bool = True) -> Candidate:
    return Candidate(reference, suitable, total, pluses)


def test_everyone_suitable_is_equal_and_a_draw_decides() -> None:
    people = [
        candidate("A"),
        candidate("B", total=29),
        candidate("C"),
        candidate("D", suitable=False),
    ]
    ranked = rank(people, 2, RankingRule.LOTTERY_AMONG_SUITABLE)
    assert ranked.placed == [] and ranked.tie == ["A", "B", "C"] and ranked.tie_places == 2
    assert ranked.not_suitable == ["D"] and ranked.needs_draw


def test_pluses_count_only_between_the_equally_suitable() -> None:
    people = [
        candidate("A", pluses=1),
        candidate("B"),
        candidate("C"),
        candidate("D", pluses=2, suitable=False),
    ]
    ranked = rank(people, 2, RankingRule.LOTTERY_AMONG_SUITABLE)
    assert ranked.placed == ["A"] and ranked.tie == ["B", "C"] and ranked.tie_places == 1
    assert ranked.not_suitable == ["D"]  # a plus never makes someone suitable


def test_score_then_lottery_at_the_cut() -> None:
    people = [
        candidate("A", 27),
        candidate("B", 25),
        candidate("C", 25),
        candidate("D", 25),
        candidate("E", 20),
    ]
    ranked = rank(people, 2, RankingRule.SCORE_THEN_LOTTERY)
    assert ranked.placed == ["A"] and ranked.tie == ["B", "C", "D"] and ranked.tie_places == 1
    assert ranked.below == [["E"]]


def test_no_draw_when_the_places_suffice() -> None:
    people = [candidate("A", 27), candidate("B", 25), candidate("C", 25)]
    ranked = rank(people, 3, RankingRule.SCORE_THEN_LOTTERY)
    assert ranked.placed == ["A", "B", "C"] and not ranked.needs_draw
    exact = rank(people, 1, RankingRule.SCORE_THEN_LOTTERY)
    assert exact.placed == ["A"] and not exact.needs_draw and exact.below == [["B", "C"]]
