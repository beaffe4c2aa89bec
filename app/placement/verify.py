"""Recompute a published placement round step by step (shared/spec/placement.md), as
`python -m app verify-placement` and the page /placement/verify do. Pure code.

Each step says in plain language what it checked; given the previous round it also checks
the chain between the rounds, and given the ordering draw that the priority is its order.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from app.lottery import draw as drawlib
from app.lottery.draw import Step, Verdict
from app.placement import match
from app.placement.match import PlacementError

__all__ = ["Step", "Verdict", "parse", "verify"]


def parse(text: str) -> Mapping[str, Any]:
    """A record from its JSON text; PlacementError with a plain reason when it is not one."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise PlacementError(
            "json",
            f"not valid JSON (line {error.lineno}, column {error.colno})",
            line=error.lineno,
            column=error.colno,
        ) from None
    if not isinstance(value, dict):
        raise PlacementError("not_object", "the record must be a JSON object")
    return value


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _string_list(value: object) -> list[str]:
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _well_formed(record: Mapping[str, Any]) -> bool:
    institutions = record.get("institutions")
    preferences = record.get("preferences")
    assignment = record.get("assignment")
    round_ = record.get("round")
    previous = record.get("previous")
    return (
        isinstance(record.get("placement_id"), str)
        and isinstance(round_, int)
        and not isinstance(round_, bool)
        and isinstance(institutions, list)
        and all(isinstance(i, dict) and set(i) == {"code", "capacity"} for i in institutions)
        and isinstance(record.get("priority_from"), dict)
        and _strings(record.get("priority"))
        and isinstance(preferences, dict)
        and all(isinstance(wanted, list) for wanted in preferences.values())
        and _strings(record.get("withdrawn"))
        and (previous is None or isinstance(previous, str))
        and isinstance(assignment, dict)
        and all(code is None or isinstance(code, str) for code in assignment.values())
        and _strings(record.get("unplaced"))
    )


def _check(
    verdict: Verdict, what: str, detail: str, check: Callable[[], None], **values: object
) -> bool:
    """A step that passes when `check()` raises no PlacementError; a failure carries the
    error's key and figures, for a translated explanation."""
    try:
        check()
    except PlacementError as error:
        return verdict.add(False, what, str(error), problem=error.key, **error.values)
    return verdict.add(True, what, detail, **values)


def _listing(assignment: Mapping[str, str | None]) -> str:
    return ", ".join(f"{ref} → {code or '-'}" for ref, code in assignment.items())


def verify(
    record: Mapping[str, Any],
    previous: Mapping[str, Any] | None = None,
    draw: Mapping[str, Any] | None = None,
) -> Verdict:
    """Recompute a round's record; with `previous`, the chain from the round before; with
    `draw`, the ordering draw its priority comes from."""
    verdict = Verdict()
    if not verdict.add(
        record.get("version") == match.VERSION,
        "version",
        f"the record says {record.get('version')!r}; expected {match.VERSION!r}",
        found=record.get("version"),
        expected=match.VERSION,
    ):
        return verdict
    if not verdict.add(
        _well_formed(record),
        "fields",
        "placement_id, round, institutions, priority_from, priority, preferences, withdrawn, "
        "previous, assignment and unplaced are present and of the right kind",
    ):
        return verdict
    round_: int = record["round"]
    priority: list[str] = record["priority"]
    withdrawn: list[str] = record["withdrawn"]
    institutions = match.institutions_of(record["institutions"])
    codes = [i.code for i in institutions]
    _check(
        verdict,
        "placement_id",
        "ASCII text on one line",
        lambda: match.validate_placement_id(record["placement_id"]),
    )
    verdict.add(round_ >= 1, "round", f"round {round_} (rounds count from 1)", round=round_)
    listing = ", ".join(f"{i.code} ({i.capacity})" for i in institutions)
    _check(
        verdict,
        "institutions",
        f"each code once, ASCII, sorted ascending; every capacity at least 1: {listing}",
        lambda: match.validate_institutions(institutions, stored=True),
        listing=listing,
    )
    _check(
        verdict,
        "priority_from",
        "a draw with its seed, or a ranking rule",
        lambda: match.validate_priority_from(record["priority_from"]),
    )
    _check(
        verdict,
        "candidates",
        f"{len(priority)} candidates, each once",
        lambda: match.validate_priority(priority),
        count=len(priority),
    )
    _check(
        verdict,
        "preferences",
        "every candidate has a list of institutions of this placement, none twice, and "
        "nobody else has one",
        lambda: match.validate_preferences(codes, priority, record["preferences"]),
    )
    _check(
        verdict,
        "withdrawn",
        f"{', '.join(withdrawn) or 'nobody'} (each once, sorted ascending)",
        lambda: _validate_withdrawn(round_, priority, withdrawn),
        refs=", ".join(withdrawn),
    )
    if not verdict.ok:
        return verdict

    if previous is None:
        _previous_form(verdict, record)
    else:
        _against_previous(verdict, record, previous)

    outcome = match.assign(institutions, priority, record["preferences"], withdrawn)
    published = record["assignment"]
    differs = [
        f"{ref} ({published[ref] or '-'} ≠ {code or '-'})" if ref in published else ref
        for ref, code in outcome.assignment.items()
        if published.get(ref, "") != code
    ] + [ref for ref in published if ref not in outcome.assignment]
    verdict.add(
        not differs,
        "assignment",
        f"recomputed in priority order: {_listing(outcome.assignment)}"
        + (f"; the record differs for {', '.join(differs)}" if differs else ""),
        assignment=_listing(outcome.assignment),
        differs=", ".join(differs),
    )
    verdict.add(
        outcome.unplaced == record["unplaced"],
        "unplaced",
        f"recomputed: {', '.join(outcome.unplaced) or 'nobody'}; "
        f"the record says {', '.join(record['unplaced']) or 'nobody'}",
        unplaced=", ".join(outcome.unplaced),
        published=", ".join(record["unplaced"]),
    )
    _capacity(verdict, institutions, record["assignment"])
    if draw is not None:
        _against_draw(verdict, record, draw)
    return verdict


def _validate_withdrawn(round_: int, priority: list[str], withdrawn: list[str]) -> None:
    match.validate_withdrawn(priority, withdrawn, stored=True)
    if round_ == 1 and withdrawn:
        raise PlacementError("withdrawn_in_round_one", "round 1 has no withdrawn candidates")


def _previous_form(verdict: Verdict, record: Mapping[str, Any]) -> None:
    """Without the previous round only the form of `previous` can be checked."""
    value = record["previous"]
    if record["round"] == 1:
        verdict.add(
            value is None,
            "previous",
            "round 1 has no previous round"
            + ("" if value is None else f", but the record names {value}"),
            first="1",
            published=value,
        )
    else:
        verdict.add(
            isinstance(value, str) and bool(drawlib.HEX64.match(value)),
            "previous",
            f"a SHA-256 in hex: {value}; not compared, the previous round was not given",
            published=value,
            unchecked="1",
        )


def _against_previous(
    verdict: Verdict, record: Mapping[str, Any], previous: Mapping[str, Any]
) -> None:
    try:
        computed = match.record_hash(previous)
    except TypeError as error:
        verdict.add(
            False, "previous", f"the previous record has no canonical form: {error}", form="no"
        )
        return
    verdict.add(
        computed == record["previous"],
        "previous",
        f"SHA-256 of the previous round's canonical JSON is {computed}; "
        f"the record says {record['previous']}",
        computed=computed,
        published=record["previous"],
    )
    before = previous.get("round")
    verdict.add(
        before == record["round"] - 1,
        "sequence",
        f"round {record['round']} follows round {before}",
        round=record["round"],
        before=before,
    )
    own = verify(previous)
    failed = [step.what for step in own.steps if not step.ok]
    if not verdict.add(
        own.ok,
        "previous_round",
        "the previous round checks out on its own"
        if own.ok
        else "the previous round fails at: " + ", ".join(failed),
        failed=", ".join(failed),
    ):
        return
    changed = [name for name in match.FIXED if previous.get(name) != record.get(name)]
    verdict.add(
        not changed,
        "unchanged",
        "only round, withdrawn, previous, assignment and unplaced changed"
        if not changed
        else "changed since the previous round: " + ", ".join(changed),
        changed=", ".join(changed),
    )
    withdrawn = set(record["withdrawn"])
    lost = [ref for ref in previous["withdrawn"] if ref not in withdrawn]
    verdict.add(
        not lost,
        "withdrawn_grew",
        "everyone withdrawn before is still withdrawn"
        if not lost
        else "withdrawn before, but no longer: " + ", ".join(lost),
        lost=", ".join(lost),
    )
    preferences = record["preferences"]
    down = []
    for ref, before_code in previous["assignment"].items():
        if before_code is None or ref in withdrawn:
            continue
        now = record["assignment"].get(ref)
        wanted = preferences.get(ref, [])
        rank = {code: place for place, code in enumerate(wanted)}
        if now is None or rank.get(now, len(wanted)) > rank.get(before_code, -1):
            down.append(f"{ref} ({before_code} → {now or '-'})")
    verdict.add(
        not down,
        "moved_down",
        "nobody has a place lower on their own list than in the previous round"
        if not down
        else "lower on their own list than before: " + ", ".join(down),
        down=", ".join(down),
    )


def _capacity(
    verdict: Verdict, institutions: list[match.Institution], assignment: Mapping[str, Any]
) -> None:
    capacity = {i.code: i.capacity for i in institutions}
    taken: dict[str, int] = {}
    for code in assignment.values():
        if code is not None:
            taken[code] = taken.get(code, 0) + 1
    taken_text = ", ".join(f"{code} {taken.get(code, 0)}/{cap}" for code, cap in capacity.items())
    over = ", ".join(
        f"{code} {count}/{capacity.get(code, 0)}"
        for code, count in taken.items()
        if count > capacity.get(code, 0)
    )
    verdict.add(
        not over,
        "capacity",
        f"candidates per institution, of its places: {taken_text}"
        if not over
        else f"more candidates than places: {over}",
        taken=taken_text,
        over=over,
    )


def _against_draw(verdict: Verdict, record: Mapping[str, Any], draw: Mapping[str, Any]) -> None:
    checked = drawlib.verify(draw)
    failed = [step.what for step in checked.steps if not step.ok]
    verdict.add(
        checked.ok,
        "draw",
        f"the draw record {draw.get('draw_id')} checks out"
        if checked.ok
        else "the draw record fails at: " + ", ".join(failed),
        draw=draw.get("draw_id"),
        failed=", ".join(failed),
    )
    source = record["priority_from"]
    priority = record["priority"]
    order = _string_list(draw.get("order"))
    if "draw" in source:
        verdict.add(
            source["draw"] == draw.get("draw_id"),
            "draw_id",
            f"priority_from names {source['draw']}; the draw record is {draw.get('draw_id')}",
            named=source["draw"],
            draw=draw.get("draw_id"),
        )
        candidates = _string_list(draw.get("candidates"))
        verdict.add(
            sorted(candidates) == sorted(priority) and draw.get("places") == len(candidates),
            "ordering_draw",
            "an ordering draw (as many places as candidates) over exactly these candidates",
        )
        verdict.add(
            source["seed"] == draw.get("seed"),
            "seed",
            f"priority_from says seed {source['seed']}; the draw's seed is {draw.get('seed')}",
            named=source["seed"],
            seed=draw.get("seed"),
        )
        verdict.add(
            priority == order,
            "priority",
            (
                "the priority is the draw's order: "
                if priority == order
                else "the priority differs from the draw's order: "
            )
            + ", ".join(order),
            order=", ".join(order),
        )
        return
    named = source.get("draws", [])
    verdict.add(
        draw.get("draw_id") in named,
        "draw_id",
        f"priority_from names the draws {', '.join(named) or 'none'}; the draw record is "
        f"{draw.get('draw_id')}",
        named=", ".join(named) or "-",
        draw=draw.get("draw_id"),
        ranking="1",
    )
    drawn = set(order)
    relative = [ref for ref in priority if ref in drawn]
    verdict.add(
        bool(order) and relative == order,
        "priority",
        f"in the priority the drawn candidates stand in this order: {', '.join(relative)}; "
        f"the draw's order is {', '.join(order)}",
        order=", ".join(order),
        relative=", ".join(relative),
    )
