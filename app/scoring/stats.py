"""The numbers a deliberation and a round report show. Pure code: lists of levels in,
figures out.

Per applicant and criterion: the median, the range and the spread (the population standard
deviation) of the members' levels, and a flag when two members are two levels or more apart.
Per round and criterion: Krippendorff's alpha with the ordinal metric, which allows for
missing ratings (a conflicted member scores nobody they know, so not every member rates
every applicant), computed by the `krippendorff` package.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import krippendorff
import numpy as np

# Members this many levels apart on a criterion discuss it before the joint outcome.
DISAGREEMENT = 2
# Alpha on fewer pairable ratings than this says little (a few ratings move it far either
# way); the pages say so, naming this number.
MIN_RATINGS = 30


@dataclass(frozen=True)
class Summary:
    levels: tuple[int, ...]
    median: float
    low: int
    high: int
    spread: float

    @property
    def flagged(self) -> bool:
        return self.high - self.low >= DISAGREEMENT


def summarise(levels: Sequence[int]) -> Summary | None:
    if not levels:
        return None
    return Summary(
        levels=tuple(levels),
        median=float(statistics.median(levels)),
        low=min(levels),
        high=max(levels),
        spread=statistics.pstdev(levels),
    )


def distribution(levels: Sequence[int], max_level: int) -> list[int]:
    """How many ratings fell on each level 1..max_level."""
    counts = [0] * max_level
    for level in levels:
        if 1 <= level <= max_level:
            counts[level - 1] += 1
    return counts


@dataclass(frozen=True)
class Agreement:
    alpha: float | None  # None when it cannot be computed (too few applicants or no variation)
    units: int  # applicants with at least two ratings
    ratings: int

    minimum: int = MIN_RATINGS

    @property
    def few(self) -> bool:
        """Computed, but on fewer ratings than the published minimum."""
        return self.alpha is not None and self.ratings < self.minimum

    @property
    def verdict(self) -> str:
        """Krippendorff's own reading: >= .800 reliable, >= .667 tentative, below: not."""
        if self.alpha is None:
            return "unknown"
        if self.alpha >= 0.8:
            return "good"
        if self.alpha >= 0.667:
            return "tentative"
        return "poor"


def agreement(ratings: Mapping[str, Mapping[str, int]], max_level: int) -> Agreement:
    """Krippendorff's alpha (ordinal) for one criterion.

    `ratings` maps each applicant to {member: level}; a member who did not rate an
    applicant is missing data, which alpha allows for.
    """
    raters = sorted({member for by_member in ratings.values() for member in by_member})
    row = {member: at for at, member in enumerate(raters)}
    data = np.full((len(raters), len(ratings)), np.nan)
    for column, by_member in enumerate(ratings.values()):
        for member, level in by_member.items():
            data[row[member], column] = level
    return agreement_of(data, max_level)


def agreement_of(data: np.ndarray, max_level: int) -> Agreement:
    """Krippendorff's alpha (ordinal) for one criterion, from its reliability data: one row
    per member, one column per applicant, NaN where the member did not rate the applicant.
    Only applicants with two ratings or more count, and the members who rated one of them."""
    rated = ~np.isnan(data)
    pairable = rated.sum(axis=0) >= 2
    data, rated = data[:, pairable], rated[:, pairable]
    raters = rated.any(axis=1)
    data = data[raters]
    units, count = data.shape[1], int(rated.sum())
    if units < 2 or data.shape[0] < 2:
        return Agreement(None, units, count)
    present = data[rated[raters]]
    if present.min() == present.max():
        return Agreement(None, units, count)
    alpha = float(
        krippendorff.alpha(
            reliability_data=data,
            level_of_measurement="ordinal",
            value_domain=list(range(1, max_level + 1)),
        )
    )
    return Agreement(None if math.isnan(alpha) else alpha, units, count)
