"""Placement after selection, shared/spec/placement.md version 1: serial dictatorship over a
public priority order. Pure code: inputs in, assignments and records out; no database, no web.

In priority order each candidate gets the first institution on their own list that still
has room; a later round leaves the withdrawn out. `verify.py` recomputes a published record.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from app.audit.chain import canonical_json
from app.lottery.draw import HEX64

VERSION = "selection-placement/v1"
# The fields a later round repeats from the round before it, unchanged.
FIXED = ("version", "placement_id", "institutions", "priority_from", "priority", "preferences")


class PlacementError(ValueError):
    """Input the rule cannot take. `key` names the problem for a translated message
    (app/placement/messages.py), `values` holds its figures; str() is the English text."""

    def __init__(self, key: str, message: str, **values: object) -> None:
        super().__init__(message)
        self.key = key
        self.values = {name: str(value) for name, value in values.items()}


@dataclass(frozen=True)
class Institution:
    code: str
    capacity: int


@dataclass(frozen=True)
class Outcome:
    assignment: dict[str, str | None]  # in priority order, the withdrawn left out
    unplaced: list[str]  # in priority order


def by_bytes(values: Iterable[str]) -> list[str]:
    """Ascending by UTF-8 bytes, as the record stores codes and withdrawn references."""
    return sorted(values, key=lambda value: value.encode("utf-8"))


def assign(
    institutions: Sequence[Institution],
    priority: Sequence[str],
    preferences: Mapping[str, Sequence[str]],
    withdrawn: Iterable[str] = (),
) -> Outcome:
    """The spec's computation, on inputs that `validate` accepts."""
    left = {institution.code: institution.capacity for institution in institutions}
    gone = set(withdrawn)
    assignment: dict[str, str | None] = {}
    for ref in priority:
        if ref in gone:
            continue
        chosen = next((code for code in preferences[ref] if left[code] > 0), None)
        if chosen is not None:
            left[chosen] -= 1
        assignment[ref] = chosen
    return Outcome(assignment, [ref for ref, code in assignment.items() if code is None])


# Validation -------------------------------------------------------------------------------


def _one_line(value: object) -> bool:
    return isinstance(value, str) and value != "" and "\n" not in value


def validate_placement_id(placement_id: object) -> None:
    if not (_one_line(placement_id) and str(placement_id).isascii()):
        raise PlacementError(
            "placement_id",
            f"the placement_id {placement_id!r} must be ASCII text on one line",
            found=repr(placement_id),
        )


def validate_code(code: object) -> None:
    if not isinstance(code, str) or code == "":
        raise PlacementError("code_format", f"{code!r} is not an institution code", code=repr(code))
    if not code.isascii():
        raise PlacementError("code_not_ascii", f"the code {code!r} is not ASCII", code=code)
    if "\n" in code:
        raise PlacementError("code_newline", f"the code {code!r} has a newline", code=repr(code))


def validate_institutions(institutions: Sequence[Institution], *, stored: bool = False) -> None:
    """Codes ASCII, one line, unique; capacities whole numbers of at least 1. `stored`: also
    sorted ascending, as a record holds them."""
    if not institutions:
        raise PlacementError("no_institutions", "there are no institutions")
    seen: set[str] = set()
    for institution in institutions:
        validate_code(institution.code)
        if institution.code in seen:
            raise PlacementError(
                "duplicate_code",
                f"the institution {institution.code} is listed twice",
                code=institution.code,
            )
        seen.add(institution.code)
        capacity = institution.capacity
        if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
            raise PlacementError(
                "capacity",
                f"the capacity of {institution.code} is {capacity!r}; it must be at least 1",
                code=institution.code,
                capacity=repr(capacity),
            )
    codes = [institution.code for institution in institutions]
    if stored and codes != by_bytes(codes):
        raise PlacementError(
            "institutions_unsorted",
            "the institutions are not sorted ascending by code: " + ", ".join(codes),
            codes=", ".join(codes),
        )


def validate_reference(ref: object) -> None:
    if not _one_line(ref):
        raise PlacementError(
            "reference_format", f"{ref!r} is not an application reference", ref=repr(ref)
        )


def validate_priority(priority: Sequence[str]) -> None:
    if not priority:
        raise PlacementError("no_candidates", "the priority holds no candidates")
    seen: set[str] = set()
    for ref in priority:
        validate_reference(ref)
        if ref in seen:
            raise PlacementError(
                "duplicate_candidate", f"{ref} is in the priority more than once", ref=ref
            )
        seen.add(ref)


def validate_list(codes: Iterable[str], ref: str, wanted: object) -> None:
    """One candidate's list: at least one code, each an institution's, none twice."""
    known = codes if isinstance(codes, set | frozenset) else set(codes)
    if not isinstance(wanted, list | tuple) or not wanted:
        raise PlacementError("empty_list", f"the list of {ref} names no institution", ref=ref)
    seen: set[str] = set()
    for code in wanted:
        if not isinstance(code, str) or code not in known:
            raise PlacementError(
                "unknown_code",
                f"the list of {ref} names {code!r}, which is not an institution of this placement",
                ref=ref,
                code=code if isinstance(code, str) else repr(code),
            )
        if code in seen:
            raise PlacementError(
                "repeated_code", f"the list of {ref} names {code} twice", ref=ref, code=code
            )
        seen.add(code)


def validate_preferences(
    codes: Iterable[str], priority: Sequence[str], preferences: Mapping[str, object]
) -> None:
    """A valid list for every candidate of the priority, and for nobody else."""
    known = frozenset(codes)
    for ref in priority:
        if ref not in preferences:
            raise PlacementError(
                "no_preferences", f"{ref} is in the priority but has no preferences", ref=ref
            )
        validate_list(known, ref, preferences[ref])
    listed = set(priority)
    others = [ref for ref in preferences if ref not in listed]
    if others:
        raise PlacementError(
            "preferences_not_in_priority",
            "preferences for candidates who are not in the priority: " + ", ".join(others),
            refs=", ".join(str(ref) for ref in others),
        )


def validate_withdrawn(
    priority: Sequence[str], withdrawn: Sequence[str], *, stored: bool = False
) -> None:
    """Every withdrawn candidate once, from the priority; `stored`: sorted as well."""
    known = set(priority)
    seen: set[str] = set()
    for ref in withdrawn:
        if ref not in known:
            raise PlacementError(
                "withdrawn_unknown", f"{ref!r} is withdrawn but not in the priority", ref=ref
            )
        if ref in seen:
            raise PlacementError("withdrawn_repeated", f"{ref} is withdrawn twice", ref=ref)
        seen.add(ref)
    if stored and list(withdrawn) != by_bytes(withdrawn):
        raise PlacementError(
            "withdrawn_unsorted",
            "the withdrawn candidates are not sorted ascending: " + ", ".join(withdrawn),
            refs=", ".join(withdrawn),
        )


def validate_priority_from(value: object) -> None:
    """{"draw": draw_id, "seed": hex}, {"ranking": rule} or {"ranking": rule, "draws": [...]}."""
    ok = False
    if isinstance(value, Mapping):
        keys = set(value)
        if keys == {"draw", "seed"}:
            seed = value["seed"]
            ok = _one_line(value["draw"]) and isinstance(seed, str) and bool(HEX64.match(seed))
        elif keys in ({"ranking"}, {"ranking", "draws"}):
            draws = value.get("draws", [])
            ok = (
                _one_line(value["ranking"])
                and isinstance(draws, list)
                and all(_one_line(draw) for draw in draws)
            )
    if not ok:
        raise PlacementError(
            "priority_from",
            'priority_from must be {"draw": id, "seed": 64 hex digits} or {"ranking": rule} '
            'with an optional "draws": [id, ...]',
        )


def validate(
    institutions: Sequence[Institution],
    priority: Sequence[str],
    preferences: Mapping[str, object],
    withdrawn: Sequence[str] = (),
) -> None:
    """Everything `assign` needs, with the first problem found raised as PlacementError."""
    validate_institutions(institutions)
    validate_priority(priority)
    validate_preferences([i.code for i in institutions], priority, preferences)
    validate_withdrawn(priority, withdrawn)


def compute(
    institutions: Sequence[Institution],
    priority: Sequence[str],
    preferences: Mapping[str, Sequence[str]],
    withdrawn: Sequence[str] = (),
) -> Outcome:
    validate(institutions, priority, preferences, withdrawn)
    return assign(institutions, priority, preferences, withdrawn)


# Records ----------------------------------------------------------------------------------


def record_hash(record_: Mapping[str, Any]) -> str:
    """Lowercase hex SHA-256 of the record's canonical JSON (audit-log.md)."""
    return hashlib.sha256(canonical_json(record_).encode("utf-8")).hexdigest()


def institutions_of(items: Iterable[Mapping[str, Any]]) -> list[Institution]:
    """The institutions of a record's `institutions` list."""
    return [Institution(item["code"], item["capacity"]) for item in items]


def record(
    placement_id: str,
    institutions: Sequence[Institution],
    priority_from: Mapping[str, Any],
    priority: Sequence[str],
    preferences: Mapping[str, Sequence[str]],
    withdrawn: Iterable[str] = (),
    previous: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The published record of a round: round 1 without `previous`; a later round given the
    previous round's record, whose fixed fields it repeats and whose withdrawn it keeps."""
    validate_placement_id(placement_id)
    validate_priority_from(priority_from)
    stored = sorted(institutions, key=lambda institution: institution.code.encode("utf-8"))
    gone = list(withdrawn)
    validate(stored, priority, preferences, gone)
    result: dict[str, Any] = {
        "version": VERSION,
        "placement_id": placement_id,
        "round": 1,
        "institutions": [{"code": i.code, "capacity": i.capacity} for i in stored],
        "priority_from": dict(priority_from),
        "priority": list(priority),
        "preferences": {ref: list(preferences[ref]) for ref in by_bytes(priority)},
        "withdrawn": by_bytes(gone),
        "previous": None,
    }
    if previous is None and gone:
        raise PlacementError("withdrawn_in_round_one", "round 1 has no withdrawn candidates")
    if previous is not None:
        for name in FIXED:
            if previous.get(name) != result[name]:
                raise PlacementError(
                    "changed_between_rounds",
                    f"{name} differs from the previous round; only the withdrawn may change",
                    field=name,
                )
        kept = set(gone)
        lost = [ref for ref in previous.get("withdrawn", []) if ref not in kept]
        if lost:
            raise PlacementError(
                "withdrawn_shrunk",
                "withdrawn in the previous round but not in this one: " + ", ".join(lost),
                refs=", ".join(lost),
            )
        result["round"] = int(previous["round"]) + 1
        result["previous"] = record_hash(previous)
    outcome = assign(stored, priority, preferences, gone)
    result["assignment"] = outcome.assignment
    result["unplaced"] = outcome.unplaced
    return result


def next_round(previous: Mapping[str, Any], declined: Iterable[str]) -> dict[str, Any]:
    """The record of the round after `previous`, once `declined` have declined or withdrawn."""
    already = set(previous["withdrawn"])
    new = list(declined)
    for ref in new:
        if ref in already:
            raise PlacementError("already_withdrawn", f"{ref} is withdrawn already", ref=ref)
    return record(
        previous["placement_id"],
        institutions_of(previous["institutions"]),
        previous["priority_from"],
        previous["priority"],
        previous["preferences"],
        [*previous["withdrawn"], *new],
        previous,
    )
