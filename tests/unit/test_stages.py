"""Where an application stands (app/conduct/stages.py): every state an applicant can be in,
with the stage that says it, the next date and the one thing to do."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from app.conduct.stages import ApplicationFacts, Placement, Preferences, State, progress
from app.i18n import set_language

NOW = datetime(2027, 3, 1, 12, 0, tzinfo=UTC)
DAY = timedelta(days=1)


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")


def base(**change: object) -> ApplicationFacts:
    facts = ApplicationFacts(
        reference="TST-1-2027-0001",
        procedure="TST-1-2027",
        status="submitted",
        phase="open",
        opens_at=NOW - 10 * DAY,
        closes_at=NOW + 10 * DAY,
        letter_round_result_at=NOW + 20 * DAY,
        interview_days=((NOW + 30 * DAY).date(), (NOW + 31 * DAY).date()),
        final_result_at=NOW + 40 * DAY,
        submitted_at=NOW - DAY,
    )
    return replace(facts, **change)  # type: ignore[arg-type]


def states(facts: ApplicationFacts, now: datetime = NOW) -> list[str]:
    return [stage.state.value for stage in progress(facts, now).stages]


def test_the_five_stages_in_order() -> None:
    found = progress(base(), NOW)
    assert [s.key for s in found.stages] == [
        "application", "letter_round", "interview", "outcome", "placement",
    ]  # fmt: skip
    assert [s.name for s in found.stages] == [
        "Application", "Letter round", "Interview", "Outcome", "Placement",
    ]  # fmt: skip


def test_a_draft_before_the_opening_and_while_open() -> None:
    early = progress(base(status="draft", phase="published", opens_at=NOW + DAY), NOW)
    assert early.now.key == "application" and early.now.state == State.CURRENT
    assert "open on" in early.now.text
    assert early.next is not None and early.next.label == "Applications open"
    assert early.action is None

    open_ = progress(base(status="draft", submitted_at=None), NOW)
    assert open_.now.state == State.CURRENT and "before the deadline" in open_.now.text
    assert open_.next is not None and open_.next.label == "Deadline"
    assert open_.next.moment == NOW + 10 * DAY
    assert open_.action is not None and open_.action.href == "/procedures/TST-1-2027/apply"


def test_a_draft_not_sent_before_the_deadline_ends_there() -> None:
    late = progress(base(status="draft", phase="closed", closes_at=NOW - DAY), NOW)
    assert [s.state for s in late.stages] == [State.ENDED] + [State.SKIPPED] * 4
    assert "Not sent before the deadline" in late.now.text
    assert late.next is None and late.action is None


def test_a_withdrawn_application_ends_at_once_and_has_nothing_next() -> None:
    gone = progress(
        base(status="withdrawn", phase="interviews", withdrawn_at=NOW - DAY,
             letter_round_outcome="invited"),
        NOW,
    )  # fmt: skip
    assert [s.state for s in gone.stages] == [State.ENDED] + [State.SKIPPED] * 4
    assert "withdrew" in gone.now.text
    assert all(s.text == "" for s in gone.stages[1:])
    assert gone.next is None and gone.action is None


def test_sent_and_waiting_for_the_letter_round() -> None:
    waiting = progress(base(phase="closed", closes_at=NOW - DAY), NOW)
    assert states(base(phase="closed", closes_at=NOW - DAY)) == [
        "done", "current", "upcoming", "upcoming", "upcoming",
    ]  # fmt: skip
    assert waiting.now.key == "letter_round" and "expected on" in waiting.now.text
    assert waiting.next is not None and waiting.next.label == "Letter-round result"
    # While applications are still open the letter round is still to come.
    assert states(base())[:2] == ["done", "upcoming"]
    # A planned date that has passed without the result says so.
    late = progress(base(phase="letter_round", letter_round_result_at=NOW - DAY), NOW)
    assert "not published yet" in late.now.text and late.next is None


def test_not_invited_ends_at_the_letter_round() -> None:
    refused = progress(base(phase="letter_round", letter_round_outcome="not_invited"), NOW)
    assert [s.state for s in refused.stages] == [State.DONE, State.ENDED] + [State.SKIPPED] * 3
    assert refused.action is not None and refused.action.href == "/applications/TST-1-2027-0001"


def test_invited_the_interview_days_and_then_the_result() -> None:
    facts = base(phase="interviews", letter_round_outcome="invited")
    invited = progress(facts, NOW)
    assert states(facts) == ["done", "done", "current", "upcoming", "upcoming"]
    assert invited.next is not None and invited.next.label == "Interview day"
    assert invited.next.day and invited.next.moment == (NOW + 30 * DAY).date()
    # After the first day the next is the second, then the final result.
    second = progress(facts, NOW + 30 * DAY + timedelta(hours=12))
    assert second.next is not None and second.next.moment == (NOW + 31 * DAY).date()
    after = progress(facts, NOW + 32 * DAY)
    assert after.next is not None and after.next.label == "Final result"

    deliberating = replace(facts, phase="deliberation")
    assert states(deliberating) == ["done", "done", "done", "current", "upcoming"]
    assert progress(deliberating, NOW).now.key == "outcome"


def test_not_suitable_ends_at_the_outcome() -> None:
    facts = base(phase="results", letter_round_outcome="invited", standing="not_suitable")
    found = progress(facts, NOW)
    assert states(facts) == ["done", "done", "done", "ended", "skipped"]
    assert found.action is not None and found.action.href.endswith("#result")


@pytest.mark.parametrize(
    ("standing", "state", "words"),
    [
        ("placed", "done", "You have a training place."),
        ("reserve", "current", "number 2 on the reserve list"),
        ("declined", "ended", "declined it"),
        ("not_placed", "ended", "no place for you in this round"),
    ],
)
def test_the_placement_by_the_ranking(standing: str, state: str, words: str) -> None:
    facts = base(
        phase="results", letter_round_outcome="invited", standing=standing, reserve_position=2
    )
    found = progress(facts, NOW)
    assert states(facts)[:4] == ["done", "done", "done", "done"]
    assert found.stages[-1].state.value == state and words in found.stages[-1].text
    assert found.next is None


def cluster(**change: object) -> ApplicationFacts:
    facts = {"phase": "results", "letter_round_outcome": "invited", "standing": "placed",
             "cluster": True, "preference_deadline": NOW + 5 * DAY}  # fmt: skip
    return base(**(facts | change))


def offer(**change: object) -> Placement:
    found = Placement(
        round=1, offer="open", place="UMC Utrecht, Utrecht", answers_due=NOW + 2 * DAY,
        can_answer=True, withdrawn=False, unplaced=False, closed=False,
    )  # fmt: skip
    return replace(found, **change)  # type: ignore[arg-type]


def test_a_cluster_asks_for_the_preferences_until_the_deadline() -> None:
    facts = cluster(preferences=Preferences(open=True, fixed=False, listed=0))
    found = progress(facts, NOW)
    placement = found.stages[-1]
    assert placement.state == State.CURRENT and "in order before" in placement.text
    assert "empty" in placement.text  # nothing listed yet: as it stands, no place
    assert found.next is not None and found.next.label == "Preference deadline"
    assert found.action is not None and found.action.href.endswith("#preferences")
    listed = progress(cluster(preferences=Preferences(True, False, 3)), NOW).stages[-1]
    assert "empty" not in listed.text

    fixed = progress(cluster(preferences=Preferences(False, True, 3)), NOW)
    assert "fixed" in fixed.stages[-1].text and fixed.action is not None
    assert fixed.action.href.endswith("#result") and fixed.next is None
    unknown = cluster(preferences=Preferences(False, False, 0), preference_deadline=None)
    assert "not published yet" in progress(unknown, NOW).stages[-1].text
    # The ranking's own standing does not speak for a cluster: the placement does.
    assert "training place" not in progress(facts, NOW).stages[-1].text


def test_a_cluster_offer_waits_for_an_answer() -> None:
    found = progress(cluster(placement=offer()), NOW)
    placement = found.stages[-1]
    assert placement.state == State.CURRENT
    assert "offered a training place at UMC Utrecht, Utrecht" in placement.text
    assert found.next is not None and found.next.label == "Answer the offer by"
    assert found.action is not None and found.action.href.endswith("#placement")


@pytest.mark.parametrize(
    ("change", "state", "words"),
    [
        ({"offer": "accepted"}, "done", "You accepted a place at UMC Utrecht"),
        ({"offer": "accepted", "closed": True}, "done", "Your training place: UMC Utrecht"),
        ({"offer": "declined"}, "ended", "You declined the place at UMC Utrecht"),
        ({"offer": "lapsed"}, "ended", "did not answer the offer"),
        ({"can_answer": False}, "ended", "did not answer the offer"),
        ({"offer": None, "unplaced": True}, "current", "a later round may still place you"),
        ({"offer": None, "unplaced": True, "closed": True}, "ended", "no place on your list"),
        ({"offer": None, "withdrawn": True}, "ended", "no longer take part"),
    ],
)
def test_a_cluster_placement_after_the_offer(change: dict, state: str, words: str) -> None:
    found = progress(cluster(placement=offer(**change)), NOW)
    assert found.stages[-1].state.value == state and words in found.stages[-1].text
    assert found.next is None
    assert found.action is not None and found.action.href.endswith("#result")


def test_before_the_results_a_cluster_explains_the_match() -> None:
    facts = base(phase="deliberation", letter_round_outcome="invited", cluster=True)
    assert "match" in progress(facts, NOW).stages[-1].text


def test_every_text_is_dutch_on_a_dutch_page() -> None:
    set_language("nl")
    found = progress(cluster(placement=offer()), NOW)
    assert [s.name for s in found.stages] == [
        "Sollicitatie", "Brievenronde", "Gesprek", "Uitkomst", "Plaatsing",
    ]  # fmt: skip
    assert found.action is not None and found.action.label == "Beantwoord het aanbod"
    assert found.next is not None and found.next.label == "Antwoord uiterlijk"
