"""Ranking by the procedure's published rule, and where a lottery must decide. Pure code.

Rules (the procedure's `ranking_rule`):
- lottery_among_suitable: everyone found suitable is equal; published pluses count only
  between them (more pluses first); a lottery orders those still tied at the last place.
- score_then_lottery_at_cut: suitable candidates by weighted total of the joint levels
  (then pluses); a lottery decides between candidates tied at the last place.
Those not suitable are never ranked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import groupby

from app.procedures.vocabulary import RankingRule


@dataclass(frozen=True)
class Candidate:
    reference: str
    suitable: bool
    total: int = 0  # the weighted total of the joint levels
    pluses: int = 0  # how many published pluses the committee found to apply


@dataclass
class Ranking:
    # Certain of a place, in rank order (ties within it need no order: all are placed).
    placed: list[str] = field(default_factory=list)
    # The group tied at the last place, when it is larger than the places left for it.
    tie: list[str] = field(default_factory=list)
    tie_places: int = 0
    # Suitable but ranked after the tied group: the reserve list continues with them.
    below: list[list[str]] = field(default_factory=list)
    not_suitable: list[str] = field(default_factory=list)

    @property
    def needs_draw(self) -> bool:
        return bool(self.tie)


def _key(candidate: Candidate, rule: str) -> tuple[int, ...]:
    if rule == RankingRule.SCORE_THEN_LOTTERY:
        return (candidate.total, candidate.pluses)
    return (candidate.pluses,)


def tiers(candidates: Sequence[Candidate], rule: str) -> list[list[str]]:
    """Suitable candidates in groups of equals, best first; each group by reference."""
    suitable = sorted(
        (c for c in candidates if c.suitable), key=lambda c: _key(c, rule), reverse=True
    )
    return [
        sorted(c.reference for c in group)
        for _key_value, group in groupby(suitable, key=lambda c: _key(c, rule))
    ]


def rank(candidates: Sequence[Candidate], places: int, rule: str) -> Ranking:
    result = Ranking(not_suitable=sorted(c.reference for c in candidates if not c.suitable))
    left = places
    for group in tiers(candidates, rule):
        if left <= 0:
            result.below.append(group)
        elif len(group) <= left:
            result.placed += group
            left -= len(group)
        else:
            result.tie, result.tie_places = group, left
            left = 0
    return result
