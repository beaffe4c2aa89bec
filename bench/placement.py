"""Computing and verifying a placement (shared/spec/placement.md) of 2,000 candidates over
30 institutions, against a plain loop over the same lists.

The instance is random with a fixed seed: every candidate lists 1 to 30 institutions in a
random order, capacities are 40 to 80 places (about 1,800 in all, so some stay unplaced),
and the priority is the order of an ordering draw over all candidates. Timed, each the
median of `--runs` runs on one core, in-process:

- the baseline: a bare nested loop doing the same assignment, no validation, no record;
- round 1: validate the inputs, assign, and build the published record;
- verify round 1 with its ordering draw (which is verified too);
- round 2 after `--decliners` decline, and its verification with round 1 and the draw.

    .venv/bin/python bench/placement.py
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from app.lottery import draw as drawlib  # noqa: E402
from app.placement import match  # noqa: E402
from app.placement.verify import verify  # noqa: E402


def instance(candidates: int, institutions: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    codes = [f"H{number:02d}" for number in range(1, institutions + 1)]
    places = [match.Institution(code, rng.randint(40, 80)) for code in codes]
    refs = [f"BENCH-2027-1-{number:04d}" for number in range(1, candidates + 1)]
    preferences = {ref: rng.sample(codes, rng.randint(1, institutions)) for ref in refs}
    contributors = [
        drawlib.Contributor(name, drawlib.commitment(secret), secret)
        for name, secret in (("observer", "bench-observer-secret"), ("chair", "bench-chair-secret"))
    ]
    draw_id = "BENCH-2027-1/draw-1"
    outcome = drawlib.draw(draw_id, refs, len(refs), contributors)
    draw = drawlib.record(draw_id, refs, len(refs), contributors, None, outcome)
    return {"institutions": places, "preferences": preferences, "draw": draw}


def bare_loop(
    capacity: dict[str, int], priority: list[str], preferences: dict[str, list[str]]
) -> dict[str, str | None]:
    left = dict(capacity)
    assignment: dict[str, str | None] = {}
    for ref in priority:
        assignment[ref] = None
        for code in preferences[ref]:
            if left[code] > 0:
                left[code] -= 1
                assignment[ref] = code
                break
    return assignment


def timed(work: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        start = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=2000)
    parser.add_argument("--institutions", type=int, default=30)
    parser.add_argument("--decliners", type=int, default=100)
    parser.add_argument("--runs", type=int, default=21)
    parser.add_argument("--seed", type=int, default=2027)
    args = parser.parse_args()

    data = instance(args.candidates, args.institutions, args.seed)
    draw, institutions, preferences = data["draw"], data["institutions"], data["preferences"]
    priority = draw["order"]
    source = {"draw": draw["draw_id"], "seed": draw["seed"]}
    capacity = {i.code: i.capacity for i in institutions}

    bare, expected = timed(lambda: bare_loop(capacity, priority, preferences), args.runs)

    def build() -> dict[str, Any]:
        return match.record("BENCH/placement-1", institutions, source, priority, preferences)

    first_time, first = timed(build, args.runs)
    assert first["assignment"] == expected, "the rule and the plain loop disagree"
    verify_first, verdict = timed(lambda: verify(first, draw=draw), args.runs)
    assert verdict.ok
    placed = [ref for ref, code in first["assignment"].items() if code is not None]
    declined = random.Random(args.seed).sample(placed, args.decliners)
    second_time, second = timed(lambda: match.next_round(first, declined), args.runs)
    verify_second, verdict = timed(lambda: verify(second, first, draw), args.runs)
    assert verdict.ok

    unplaced = len(first["unplaced"])
    print(f"{args.candidates} candidates, {args.institutions} institutions, "
          f"{sum(capacity.values())} places, {unplaced} unplaced in round 1; "
          f"median of {args.runs} runs; Python {platform.python_version()}")  # fmt: skip
    rows = [
        ("plain loop (baseline)", bare),
        ("round 1: validate, assign, record", first_time),
        ("verify round 1 with the draw", verify_first),
        (f"round 2 after {args.decliners} declined", second_time),
        ("verify round 2 with round 1 and the draw", verify_second),
    ]
    for name, seconds in rows:
        print(f"{name:44} {seconds * 1000:9.2f} ms  {seconds / bare:7.1f} × baseline")
    return 0


if __name__ == "__main__":
    sys.exit(main())
