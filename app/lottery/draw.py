"""The publicly verifiable lottery of shared/spec/lottery.md, version 1. Pure code: records
in, seeds, orders and verdicts out; no database, no web.

Anyone can recompute a published record with `verify` (or `python -m app verify-lottery`):
the commitments from the secrets, the seed from the fixed inputs, and the order from the
seed, each compared with what was published.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

VERSION = "selection-lottery/v1"
MIN_SECRET = 16
HEX64 = re.compile(r"^[0-9a-f]{64}$")


def commitment(secret: str) -> str:
    """Lowercase hex SHA-256 of the secret's UTF-8 bytes."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def sort_candidates(candidates: Sequence[str]) -> list[str]:
    """Ascending by UTF-8 bytes, as the record stores them."""
    return sorted(candidates, key=lambda ref: ref.encode("utf-8"))


def seed_input(
    draw_id: str,
    candidates: Sequence[str],
    places: int,
    secrets: Sequence[str],
    beacon_value: str | None,
) -> str:
    return (
        VERSION
        + "\n"
        + draw_id
        + "\n"
        + "\n".join(sort_candidates(candidates))
        + "\n"
        + str(places)
        + "\n"
        + "\n".join(secrets)
        + "\n"
        + (beacon_value or "")
    )


def seed(
    draw_id: str,
    candidates: Sequence[str],
    places: int,
    secrets: Sequence[str],
    beacon_value: str | None,
) -> bytes:
    text = seed_input(draw_id, candidates, places, secrets, beacon_value)
    return hashlib.sha256(text.encode("utf-8")).digest()


def key(seed_bytes: bytes, reference: str) -> bytes:
    return hashlib.sha256(seed_bytes + reference.encode("utf-8")).digest()


def order(seed_bytes: bytes, candidates: Sequence[str]) -> list[str]:
    """Candidates by their key ascending (bytewise); equal keys by reference ascending."""
    return sorted(candidates, key=lambda ref: (key(seed_bytes, ref), ref.encode("utf-8")))


@dataclass(frozen=True)
class Contributor:
    name: str
    commitment: str
    secret: str | None = None


@dataclass(frozen=True)
class Outcome:
    seed: str
    order: list[str]
    winners: list[str]
    reserve: list[str]


def draw(
    draw_id: str,
    candidates: Sequence[str],
    places: int,
    contributors: Sequence[Contributor],
    beacon_value: str | None = None,
) -> Outcome:
    """The outcome, once every contributor has revealed (the caller checked each secret).
    `places` equal to the number of candidates makes it an ordering draw: no reserve."""
    if not 0 < places <= len(set(candidates)):
        raise ValueError("a draw needs 0 < places <= the number of candidates")
    secrets = [c.secret for c in contributors]
    if any(secret is None for secret in secrets):
        raise ValueError("every contributor must have revealed")
    seed_bytes = seed(
        draw_id, candidates, places, [s for s in secrets if s is not None], beacon_value
    )
    ordered = order(seed_bytes, sort_candidates(candidates))
    return Outcome(seed_bytes.hex(), ordered, ordered[:places], ordered[places:])


def record(
    draw_id: str,
    candidates: Sequence[str],
    places: int,
    contributors: Sequence[Contributor],
    beacon: tuple[str, str] | None,
    outcome: Outcome | None,
) -> dict[str, Any]:
    """The record as published (the spec's JSON); before the draw, without its outcome."""
    result: dict[str, Any] = {
        "version": VERSION,
        "draw_id": draw_id,
        "candidates": sort_candidates(candidates),
        "places": places,
        "contributors": [
            {"name": c.name, "commitment": c.commitment, "secret": c.secret} for c in contributors
        ],
        "beacon": {"name": beacon[0], "value": beacon[1]} if beacon else None,
    }
    if outcome is not None:
        result |= {
            "seed": outcome.seed,
            "order": outcome.order,
            "winners": outcome.winners,
            "reserve": outcome.reserve,
        }
    return result


# Verification -----------------------------------------------------------------------------


@dataclass
class Step:
    """One check of a verification, in plain language, with what was computed."""

    ok: bool
    what: str
    detail: str = ""
    # The figures of the step, for a page that explains it in another language.
    values: dict[str, str] = field(default_factory=dict)


@dataclass
class Verdict:
    steps: list[Step] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.steps) and all(step.ok for step in self.steps)

    def add(self, ok: bool, what: str, detail: str = "", **values: object) -> bool:
        self.steps.append(Step(ok, what, detail, {k: str(v) for k, v in values.items()}))
        return ok


def parse(text: str) -> Mapping[str, Any]:
    """A record from its JSON text; ValueError with a plain reason when it is not one."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"not valid JSON (line {error.lineno}, column {error.colno})") from None
    if not isinstance(value, dict):
        raise ValueError("the record must be a JSON object")
    return value


def _strings(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def verify(record_: Mapping[str, Any]) -> Verdict:
    """Recompute a published record step by step; every step says what it checked."""
    verdict = Verdict()
    if not verdict.add(
        record_.get("version") == VERSION,
        "version",
        f"the record says {record_.get('version')!r}; expected {VERSION!r}",
        found=record_.get("version"),
        expected=VERSION,
    ):
        return verdict
    draw_id = record_.get("draw_id")
    candidates = record_.get("candidates")
    places = record_.get("places")
    contributors = record_.get("contributors")
    beacon = record_.get("beacon")
    well_formed = (
        isinstance(draw_id, str)
        and _strings(candidates)
        and isinstance(places, int)
        and not isinstance(places, bool)
        and isinstance(contributors, list)
        and all(isinstance(c, dict) for c in contributors)
        and (beacon is None or isinstance(beacon, dict))
    )
    if not verdict.add(
        well_formed,
        "fields",
        "draw_id, candidates, places, contributors and beacon are present and of the right kind",
    ):
        return verdict
    assert isinstance(candidates, list) and isinstance(places, int)
    assert isinstance(contributors, list) and isinstance(draw_id, str)
    verdict.add(
        candidates == sort_candidates(candidates) and len(set(candidates)) == len(candidates),
        "candidates",
        "the candidates are listed once each, sorted ascending",
    )
    # places == candidates is an ordering draw: everyone gets a number, the reserve is empty.
    verdict.add(
        0 < places <= len(candidates),
        "places",
        f"{places} places for {len(candidates)} candidates"
        + (" (an ordering draw)" if places == len(candidates) else ""),
        places=places,
        count=len(candidates),
    )
    secrets: list[str] = []
    for index, contributor in enumerate(contributors, 1):
        name = str(contributor.get("name", ""))
        secret = contributor.get("secret")
        promised = str(contributor.get("commitment", ""))
        if not isinstance(secret, str):
            verdict.add(
                False,
                "commitment",
                f"contributor {index} ({name}) has no secret",
                index=index,
                name=name,
                missing=True,
            )
            continue
        computed = commitment(secret)
        verdict.add(
            computed == promised,
            "commitment",
            f"contributor {index} ({name}): SHA-256 of the secret is {computed}; "
            f"the announced commitment is {promised}",
            index=index,
            name=name,
            computed=computed,
            promised=promised,
        )
        secrets.append(secret)
    if len(secrets) != len(contributors) or not verdict.ok:
        return verdict
    beacon_value = None
    if beacon is not None:
        beacon_value = beacon.get("value")
        if not verdict.add(
            isinstance(beacon_value, str),
            "beacon",
            f"the beacon {beacon.get('name')!r} has a value",
            name=beacon.get("name"),
        ):
            return verdict
    seed_bytes = seed(draw_id, candidates, places, secrets, beacon_value)
    verdict.add(
        seed_bytes.hex() == record_.get("seed"),
        "seed",
        f"SHA-256 of the seed input is {seed_bytes.hex()}; the record says {record_.get('seed')}",
        computed=seed_bytes.hex(),
        published=record_.get("seed"),
    )
    ordered = order(seed_bytes, candidates)
    verdict.add(
        ordered == record_.get("order"),
        "order",
        "sorted by SHA-256(seed + reference): " + ", ".join(ordered),
        order=", ".join(ordered),
    )
    verdict.add(
        ordered[:places] == record_.get("winners"),
        "winners",
        "the first " + str(places) + ": " + ", ".join(ordered[:places]),
        places=places,
        winners=", ".join(ordered[:places]),
    )
    verdict.add(
        ordered[places:] == record_.get("reserve"),
        "reserve",
        "the rest, in order: " + ", ".join(ordered[places:]),
        reserve=", ".join(ordered[places:]),
    )
    return verdict
