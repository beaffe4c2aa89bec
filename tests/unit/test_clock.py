"""The clock's part of the life cycle, with plain values: which phase the published times put
a procedure in, whether it takes applications, and which step the scheduled job takes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from app.procedures import lifecycle
from app.procedures.vocabulary import Phase

OPENS = datetime(2027, 1, 5, 9, 0, tzinfo=UTC)
CLOSES = datetime(2027, 2, 1, 22, 59, tzinfo=UTC)  # 23:59 in Amsterdam
SECOND = timedelta(seconds=1)


@dataclass
class Timed:
    phase: str
    opens_at: datetime | None = OPENS
    closes_at: datetime | None = CLOSES


@pytest.mark.parametrize(
    ("stored", "now", "expected"),
    [
        (Phase.PUBLISHED, OPENS - SECOND, Phase.PUBLISHED),
        (Phase.PUBLISHED, OPENS, Phase.OPEN),
        (Phase.OPEN, CLOSES - SECOND, Phase.OPEN),
        (Phase.OPEN, CLOSES, Phase.CLOSED),  # the deadline itself is too late
        (Phase.OPEN, CLOSES + SECOND, Phase.CLOSED),
        (Phase.PUBLISHED, CLOSES + SECOND, Phase.CLOSED),  # the job never saw it open
        (Phase.DRAFT, CLOSES + SECOND, Phase.DRAFT),  # never published: the clock waits
        (Phase.CLOSED, CLOSES + SECOND, Phase.CLOSED),
        (Phase.LETTER_ROUND, CLOSES + SECOND, Phase.LETTER_ROUND),
    ],
)
def test_the_phase_by_the_clock(stored: Phase, now: datetime, expected: Phase) -> None:
    procedure = Timed(stored.value)
    assert lifecycle.phase_at(procedure, now) == expected
    assert lifecycle.takes_applications(procedure, now) == (expected == Phase.OPEN)


def test_without_a_published_time_the_clock_takes_no_step() -> None:
    assert lifecycle.phase_at(Timed("published", opens_at=None), CLOSES) == Phase.PUBLISHED
    assert lifecycle.phase_at(Timed("open", closes_at=None), CLOSES + SECOND) == Phase.OPEN


def test_the_job_opens_then_closes_and_then_does_nothing() -> None:
    procedure = Timed("published")
    assert lifecycle.clock_step(procedure, OPENS - SECOND) is None
    assert lifecycle.clock_step(procedure, CLOSES + SECOND).action == "open"  # type: ignore[union-attr]
    procedure.phase = "open"
    assert lifecycle.clock_step(procedure, CLOSES - SECOND) is None
    assert lifecycle.clock_step(procedure, CLOSES + SECOND).action == "close"  # type: ignore[union-attr]
    procedure.phase = "closed"
    assert lifecycle.clock_step(procedure, CLOSES + SECOND) is None


def test_late_drafts_are_kept_only_until_the_letter_round() -> None:
    late = CLOSES + SECOND
    assert not lifecycle.keeps_late_drafts(Timed("open"), CLOSES - SECOND)  # still open
    assert lifecycle.keeps_late_drafts(Timed("open"), late)
    assert lifecycle.keeps_late_drafts(Timed("closed"), late)
    assert not lifecycle.keeps_late_drafts(Timed("letter_round"), late)
    assert not lifecycle.keeps_late_drafts(Timed("published"), OPENS - SECOND)  # not yet open
