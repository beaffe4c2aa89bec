"""Placement after selection (shared/spec/placement.md): the worked example with its ordering
draw, the verifier on tampered records, refused inputs, and properties of the match."""

from __future__ import annotations

import copy
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.i18n import set_language
from app.lottery import draw as drawlib
from app.placement import match, messages
from app.placement.match import Institution, PlacementError
from app.placement.verify import parse, verify
from tests.unit.test_lottery import worked_example

# The spec's three records, copied verbatim from its worked example.
DATA = Path(__file__).resolve().parents[1] / "data" / "placement"
ROUND_1_HASH = "66a07a06440a8f9c16b356e2005b1899f8440ae5b00037b19b6df561d0342187"
DECLINER = "ANE-UTR-2027-1-0005"


def load(name: str) -> dict[str, Any]:
    return json.loads((DATA / f"{name}.json").read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def failed(verdict: Any) -> list[str]:
    return [step.what for step in verdict.steps if not step.ok]


def first_round(source: dict[str, Any]) -> dict[str, Any]:
    return match.record(
        source["placement_id"],
        match.institutions_of(source["institutions"]),
        source["priority_from"],
        source["priority"],
        source["preferences"],
    )


def recomputed(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its assignment and unplaced recomputed from its other fields."""
    outcome = match.assign(
        match.institutions_of(record["institutions"]),
        record["priority"],
        record["preferences"],
        record["withdrawn"],
    )
    return {**record, "assignment": outcome.assignment, "unplaced": outcome.unplaced}


def test_the_ordering_draw_reproduces_exactly() -> None:
    record = load("draw-2")
    contributors = [
        drawlib.Contributor(c["name"], c["commitment"], c["secret"]) for c in record["contributors"]
    ]
    outcome = drawlib.draw(record["draw_id"], record["candidates"], 6, contributors)
    assert outcome.seed == record["seed"] == load("round-1")["priority_from"]["seed"]
    assert outcome.order == record["order"] == outcome.winners and outcome.reserve == []
    rebuilt = drawlib.record(
        record["draw_id"], record["candidates"], 6, contributors, None, outcome
    )
    assert rebuilt == record
    verdict = drawlib.verify(record)
    assert verdict.ok
    [places] = [step for step in verdict.steps if step.what == "places"]
    assert "ordering draw" in places.detail


def test_a_draw_still_needs_at_least_one_place_and_no_more_than_candidates() -> None:
    record = load("draw-2")
    contributors = [
        drawlib.Contributor(c["name"], c["commitment"], c["secret"]) for c in record["contributors"]
    ]
    for places in (0, 7):
        with pytest.raises(ValueError):
            drawlib.draw(record["draw_id"], record["candidates"], places, contributors)
        assert "places" in failed(drawlib.verify({**record, "places": places}))


def test_both_rounds_reproduce_exactly() -> None:
    round_1, round_2 = load("round-1"), load("round-2")
    built = first_round(round_1)
    assert built == round_1
    assert match.record_hash(built) == ROUND_1_HASH == round_2["previous"]
    assert match.next_round(built, [DECLINER]) == round_2
    outcome = match.compute(
        match.institutions_of(round_1["institutions"]),
        round_1["priority"],
        round_1["preferences"],
        [DECLINER],
    )
    assert outcome.assignment == round_2["assignment"] and outcome.unplaced == []


def test_verify_accepts_both_rounds() -> None:
    round_1, round_2, draw = load("round-1"), load("round-2"), load("draw-2")
    for verdict in (verify(round_1), verify(round_1, draw=draw), verify(round_2)):
        assert verdict.ok, failed(verdict)
    verdict = verify(round_2, round_1, draw)
    assert verdict.ok, failed(verdict)
    steps = {step.what for step in verdict.steps}
    assert {"previous", "unchanged", "withdrawn_grew", "moved_down", "seed", "priority"} <= steps


def tamper_assignment(record: dict[str, Any]) -> None:
    record["assignment"]["ANE-UTR-2027-1-0008"] = "RST"


def tamper_moved_down(record: dict[str, Any]) -> None:
    record["assignment"]["ANE-UTR-2027-1-0013"] = "MMA"
    record["assignment"]["ANE-UTR-2027-1-0002"] = "UMCU"


def tamper_preferences(record: dict[str, Any]) -> None:
    record["preferences"]["ANE-UTR-2027-1-0008"] = ["GV"]
    record.update(recomputed(record))


def tamper_previous(record: dict[str, Any]) -> None:
    record["previous"] = "0" * 64


def tamper_round(record: dict[str, Any]) -> None:
    record["round"] = 3


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        (tamper_assignment, {"assignment", "capacity"}),
        (tamper_moved_down, {"assignment", "moved_down"}),
        (tamper_preferences, {"unchanged"}),
        (tamper_previous, {"previous"}),
        (tamper_round, {"sequence"}),
    ],
)
def test_verify_names_the_step_that_fails(tamper: Any, expected: set[str]) -> None:
    round_1, round_2 = load("round-1"), load("round-2")
    tamper(round_2)
    assert set(failed(verify(round_2, round_1, load("draw-2")))) == expected


def test_the_failing_steps_say_who_and_what() -> None:
    round_1, round_2 = load("round-1"), load("round-2")
    tamper_moved_down(round_2)
    steps = {step.what: step for step in verify(round_2, round_1).steps}
    assert "ANE-UTR-2027-1-0013 (UMCU → MMA)" in steps["moved_down"].detail
    assert "ANE-UTR-2027-1-0013 (MMA ≠ UMCU)" in steps["assignment"].detail
    round_2 = load("round-2")
    tamper_preferences(round_2)
    steps = {step.what: step for step in verify(round_2, round_1).steps}
    assert steps["unchanged"].detail == "changed since the previous round: preferences"


def test_withdrawn_that_shrinks_is_named() -> None:
    round_2 = load("round-2")
    round_3 = match.next_round(round_2, ["ANE-UTR-2027-1-0011"])
    assert verify(round_3, round_2).ok
    shrunk = recomputed({**round_3, "withdrawn": ["ANE-UTR-2027-1-0011"]})
    steps = {step.what: step for step in verify(shrunk, round_2).steps}
    assert not steps["withdrawn_grew"].ok and DECLINER in steps["withdrawn_grew"].detail
    assert steps["assignment"].ok  # recomputed honestly: only the chain between rounds fails
    assert not steps["moved_down"].ok  # -0005 is back on MMA, so -0002 falls back to GV


def test_the_priority_must_be_the_draws_order() -> None:
    round_1, draw = load("round-1"), load("draw-2")
    swapped = copy.deepcopy(round_1)
    swapped["priority"][0], swapped["priority"][1] = swapped["priority"][1], swapped["priority"][0]
    assert failed(verify(recomputed(swapped), draw=draw)) == ["priority"]
    wrong_seed = {**round_1, "priority_from": {**round_1["priority_from"], "seed": "a" * 64}}
    assert failed(verify(wrong_seed, draw=draw)) == ["seed"]
    # A draw for places (the lottery spec's example) is not this placement's ordering draw.
    other = worked_example()
    assert set(failed(verify(round_1, draw=other))) >= {"draw_id", "ordering_draw", "seed"}
    broken = {**draw, "seed": "b" * 64}
    assert set(failed(verify(round_1, draw=broken))) == {"draw", "seed"}


def test_a_ranking_priority_checks_the_order_of_the_drawn_candidates() -> None:
    round_1, draw = load("round-1"), load("draw-2")
    ranked = {**round_1, "priority_from": {"ranking": "score", "draws": [draw["draw_id"]]}}
    assert verify(ranked, draw=draw).ok
    assert failed(verify({**ranked, "priority_from": {"ranking": "score"}}, draw=draw)) == [
        "draw_id"
    ]


@pytest.mark.parametrize(
    ("change", "step"),
    [
        (lambda r: r.update(version="selection-placement/v2"), "version"),
        (lambda r: r.pop("unplaced"), "fields"),
        (lambda r: r.update(round=True), "fields"),
        (lambda r: r["institutions"].reverse(), "institutions"),
        (lambda r: r["institutions"][0].update(capacity=0), "institutions"),
        (lambda r: r["preferences"]["ANE-UTR-2027-1-0004"].append("UMCU"), "preferences"),
        (lambda r: r["preferences"].pop("ANE-UTR-2027-1-0004"), "preferences"),
        (lambda r: r.update(withdrawn=[DECLINER]), "withdrawn"),
        (lambda r: r.update(priority_from={"draw": "x"}), "priority_from"),
        (lambda r: r.update(placement_id="plaatsing-é"), "placement_id"),
        (lambda r: r.update(previous="0" * 64), "previous"),
        (lambda r: r.update(unplaced=[]), "unplaced"),
    ],
)
def test_verify_refuses_malformed_records(change: Any, step: str) -> None:
    record = load("round-1")
    change(record)
    verdict = verify(record)
    assert not verdict.ok and failed(verdict)[0] == step


BAD_INPUTS = [
    ({"preferences": {"A": ["X"]}}, "unknown_code"),
    ({"preferences": {"A": ["P", "P"]}}, "repeated_code"),
    ({"preferences": {"A": []}}, "empty_list"),
    ({"preferences": {}}, "no_preferences"),
    ({"preferences": {"A": ["P"], "B": ["P"]}}, "preferences_not_in_priority"),
    ({"institutions": [Institution("P", 0)]}, "capacity"),
    ({"institutions": [Institution("P", True)]}, "capacity"),  # type: ignore[arg-type]
    ({"institutions": []}, "no_institutions"),
    ({"institutions": [Institution("Ü", 1)], "preferences": {"A": ["Ü"]}}, "code_not_ascii"),
    ({"institutions": [Institution("P\n", 1)], "preferences": {"A": ["P\n"]}}, "code_newline"),
    ({"institutions": [Institution("P", 1), Institution("P", 2)]}, "duplicate_code"),
    ({"priority": ["A", "A"]}, "duplicate_candidate"),
    ({"priority": []}, "no_candidates"),
    ({"withdrawn": ["Z"]}, "withdrawn_unknown"),
    ({"withdrawn": ["A", "A"]}, "withdrawn_repeated"),
]


@pytest.mark.parametrize(("change", "key"), BAD_INPUTS)
def test_bad_input_is_refused_with_a_specific_message(change: dict[str, Any], key: str) -> None:
    inputs: dict[str, Any] = {
        "institutions": [Institution("P", 1)],
        "priority": ["A"],
        "preferences": {"A": ["P"]},
        "withdrawn": [],
    } | change
    with pytest.raises(PlacementError) as caught:
        match.compute(**inputs)
    assert isinstance(caught.value, ValueError) and caught.value.key == key
    for language in ("en", "nl"):
        set_language(language)
        text = messages.error_message(caught.value)
        assert text != key and "%(" not in text
    set_language("en")


def test_the_record_refuses_what_the_rounds_forbid() -> None:
    round_1 = load("round-1")
    args = (round_1["placement_id"], match.institutions_of(round_1["institutions"]))
    source, priority = round_1["priority_from"], round_1["priority"]
    preferences = round_1["preferences"]
    cases = [
        (lambda: match.record("é", args[1], source, priority, preferences), "placement_id"),
        (lambda: match.record(*args, {"draw": "x"}, priority, preferences), "priority_from"),
        (
            lambda: match.record(*args, source, priority, preferences, [DECLINER]),
            "withdrawn_in_round_one",
        ),
        (lambda: match.next_round(load("round-2"), [DECLINER]), "already_withdrawn"),
        (
            lambda: match.record(
                *args, source, priority, {**preferences, DECLINER: ["GV"]}, [], round_1
            ),
            "changed_between_rounds",
        ),
        (
            lambda: match.record(*args, source, priority, preferences, [], load("round-2")),
            "withdrawn_shrunk",
        ),
        (lambda: parse("{niet json"), "json"),
        (lambda: parse("[1]"), "not_object"),
    ]
    for build, key in cases:
        with pytest.raises(PlacementError) as caught:
            build()
        assert caught.value.key == key
        assert messages.error_message(caught.value) != key


def test_every_step_has_a_label_and_an_explanation_in_both_languages() -> None:
    round_1, round_2, draw = load("round-1"), load("round-2"), load("draw-2")
    tampered = load("round-2")
    tamper_moved_down(tampered)
    verdicts = [verify(round_2, round_1, draw), verify(tampered, round_1, {**draw, "seed": "0"})]
    verdicts += [verify(round_2), verify({**round_2, "preferences": {}})]
    texts: dict[str, list[str]] = {}
    for language in ("en", "nl"):
        set_language(language)
        texts[language] = []
        for verdict in verdicts:
            for step in verdict.steps:
                assert messages.step_label(step.what) != step.what
                texts[language].append(messages.explain(step))
    set_language("en")
    for english, dutch in zip(texts["en"], texts["nl"], strict=True):
        assert english and "%(" not in english and "%(" not in dutch
        assert english != dutch, english


# Properties ---------------------------------------------------------------------------------


@st.composite
def instances(
    draw: Any, candidates: int = 8, codes: str = "ABCDE", every_code: bool = False
) -> dict[str, Any]:
    count = len(codes) if every_code else draw(st.integers(1, len(codes)))
    institutions = [Institution(code, draw(st.integers(1, 3))) for code in codes[:count]]
    people = [f"R{i}" for i in range(draw(st.integers(1, candidates)))]
    priority = draw(st.permutations(people))
    preferences = {}
    for ref in people:
        wanted = draw(st.lists(st.sampled_from(codes[:count]), min_size=1, unique=True))
        preferences[ref] = wanted
    withdrawn = draw(st.lists(st.sampled_from(people), unique=True))
    return {"institutions": institutions, "priority": priority, "preferences": preferences,
            "withdrawn": withdrawn}  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(instance=instances())
def test_capacity_holds_and_every_place_is_on_the_candidates_list(instance: dict[str, Any]) -> None:
    outcome = match.compute(**instance)
    capacity = {i.code: i.capacity for i in instance["institutions"]}
    taken = [code for code in outcome.assignment.values() if code is not None]
    assert all(taken.count(code) <= capacity[code] for code in capacity)
    assert set(outcome.assignment) == set(instance["priority"]) - set(instance["withdrawn"])
    for ref, code in outcome.assignment.items():
        wanted = instance["preferences"][ref]
        if code is None:  # unplaced only when every institution on the list is full
            assert all(taken.count(c) == capacity[c] for c in wanted)
        else:
            assert code in wanted
    unplaced = [ref for ref in instance["priority"] if outcome.assignment.get(ref, 0) is None]
    assert outcome.unplaced == unplaced


@settings(max_examples=300, deadline=None)
@given(instance=instances(), data=st.data())
def test_removing_decliners_never_moves_anyone_down(instance: dict[str, Any], data: Any) -> None:
    before = match.compute(**{**instance, "withdrawn": []})
    declined = data.draw(st.lists(st.sampled_from(instance["priority"]), unique=True))
    after = match.compute(**{**instance, "withdrawn": declined})
    for ref, code in before.assignment.items():
        if ref in declined or code is None:
            continue  # a candidate unplaced before may get a place now, or stay unplaced
        now = after.assignment[ref]
        wanted = instance["preferences"][ref]
        assert now is not None and wanted.index(now) <= wanted.index(code)
    # And the records of both rounds verify, the second with the first.
    source = {"draw": "X/draw-1", "seed": "c" * 64}
    first = match.record("X/placement-1", instance["institutions"], source,
                         instance["priority"], instance["preferences"])  # fmt: skip
    second = match.next_round(first, declined)
    assert verify(first).ok and verify(second, first).ok, failed(verify(second, first))


CODES = "ABC"
EVERY_LIST = [list(stated) for size in (1, 2, 3) for stated in itertools.permutations(CODES, size)]


@settings(max_examples=150, deadline=None)
@given(instance=instances(candidates=5, codes=CODES, every_code=True), data=st.data())
def test_no_candidate_gains_by_stating_false_preferences(
    instance: dict[str, Any], data: Any
) -> None:
    """Every candidate, every one of the 15 lists they could state: none gets a place they
    truly prefer to what their true list gives them (a code off the true list is unwanted)."""
    people = list(instance["priority"])
    withdrawn = data.draw(st.lists(st.sampled_from(people), unique=True, max_size=len(people) - 1))
    truth = instance["preferences"]
    truthful = match.compute(instance["institutions"], people, truth, withdrawn).assignment
    for ref in truthful:
        honest = truthful[ref]
        rank = truth[ref].index(honest) if honest is not None else len(truth[ref])
        for stated in EVERY_LIST:
            lied = match.compute(
                instance["institutions"], people, {**truth, ref: stated}, withdrawn
            )
            got = lied.assignment[ref]
            assert not (got in truth[ref] and truth[ref].index(got) < rank), (ref, stated, got)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(data=st.data(), value=JSON)
def test_any_damaged_record_gets_a_verdict_never_an_exception(data: Any, value: Any) -> None:
    """Any field of any of the three records, or one inside it, replaced by any JSON value."""
    records = {"record": load("round-2"), "previous": load("round-1"), "draw": load("draw-2")}
    target = records[data.draw(st.sampled_from(sorted(records)))]
    key = data.draw(st.sampled_from(sorted(target)))
    inner = target[key]
    if isinstance(inner, dict) and inner and data.draw(st.booleans()):
        inner[data.draw(st.sampled_from(sorted(inner)))] = value
    elif isinstance(inner, list) and inner and data.draw(st.booleans()):
        inner[data.draw(st.integers(0, len(inner) - 1))] = value
    else:
        target[key] = value
    verdict = verify(records["record"], records["previous"], records["draw"])
    assert verdict.steps
    originals = {"record": load("round-2"), "previous": load("round-1"), "draw": load("draw-2")}
    # Compared as JSON text: 1.0 == 1 and True == 1 in Python, but not in a record.
    unchanged = json.dumps(records, sort_keys=True) == json.dumps(originals, sort_keys=True)
    assert verdict.ok == unchanged
    for language in ("en", "nl"):
        set_language(language)
        assert all(messages.explain(step) for step in verdict.steps)
    set_language("en")
