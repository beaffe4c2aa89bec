"""The lottery of shared/spec/lottery.md: the worked example, and properties of the draw."""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from app.lottery import draw

# The worked example of shared/spec/lottery.md, copied verbatim.
WORKED_EXAMPLE = """
{
  "version": "selection-lottery/v1",
  "draw_id": "ANE-UTR-2027-1/draw-1",
  "candidates": [
    "ANE-UTR-2027-1-0003",
    "ANE-UTR-2027-1-0007",
    "ANE-UTR-2027-1-0010",
    "ANE-UTR-2027-1-0012"
  ],
  "places": 2,
  "contributors": [
    {
      "name": "observer",
      "commitment": "0b437f97b01394f20fce42dff365b7021686c98c447038fde659931da731b136",
      "secret": "kleurrijke-tulp-4471"
    },
    {
      "name": "chair",
      "commitment": "dfc37abaadcdcf36f0655afcca41d7d6f274734d319b8f688bbf6c9c76250edb",
      "secret": "stille-rivier-9023"
    },
    {
      "name": "platform",
      "commitment": "c1ae7c70271ec8039d2d09623bc523c7873270344dfbaf73f929830b02f35584",
      "secret": "3f9c2a7be1d04c55a8e0"
    }
  ],
  "beacon": null,
  "seed": "4aba8ebab4991291f134459db0703107241db5642eb9bce20f050c41312075e5",
  "order": [
    "ANE-UTR-2027-1-0007",
    "ANE-UTR-2027-1-0010",
    "ANE-UTR-2027-1-0012",
    "ANE-UTR-2027-1-0003"
  ],
  "winners": [
    "ANE-UTR-2027-1-0007",
    "ANE-UTR-2027-1-0010"
  ],
  "reserve": [
    "ANE-UTR-2027-1-0012",
    "ANE-UTR-2027-1-0003"
  ]
}
"""


def worked_example() -> dict:  # type: ignore[type-arg]
    return json.loads(WORKED_EXAMPLE)


def test_the_worked_example_reproduces_exactly() -> None:
    record = worked_example()
    contributors = [
        draw.Contributor(c["name"], c["commitment"], c["secret"]) for c in record["contributors"]
    ]
    for contributor in contributors:
        assert contributor.secret is not None
        assert draw.commitment(contributor.secret) == contributor.commitment
    outcome = draw.draw(record["draw_id"], record["candidates"], record["places"], contributors)
    assert outcome.seed == record["seed"]
    assert outcome.order == record["order"]
    assert outcome.winners == record["winners"]
    assert outcome.reserve == record["reserve"]
    rebuilt = draw.record(
        record["draw_id"], record["candidates"], record["places"], contributors, None, outcome
    )
    assert rebuilt == record
    assert draw.verify(record).ok


def test_verify_names_the_step_that_fails() -> None:
    record = worked_example()
    record["contributors"][1]["secret"] = "een-ander-geheim-123"
    verdict = draw.verify(record)
    assert not verdict.ok
    failed = [step for step in verdict.steps if not step.ok]
    assert failed[0].what == "commitment" and "chair" in failed[0].detail
    record = worked_example()
    record["winners"] = list(reversed(record["winners"]))
    failed = [step for step in draw.verify(record).steps if not step.ok]
    assert [step.what for step in failed] == ["winners"]
    assert not draw.verify({"version": "v0"}).ok


references = st.lists(
    st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-", min_size=1, max_size=24),
    min_size=2,
    max_size=12,
    unique=True,
)
secret = st.text(min_size=16, max_size=40).filter(lambda s: "\n" not in s)


@settings(max_examples=200, deadline=None)
@given(candidates=references, secrets=st.lists(secret, min_size=1, max_size=3), data=st.data())
def test_any_permutation_of_the_candidates_gives_the_same_order(
    candidates: list[str], secrets: list[str], data: st.DataObject
) -> None:
    contributors = [draw.Contributor(f"c{i}", draw.commitment(s), s) for i, s in enumerate(secrets)]
    places = data.draw(st.integers(min_value=1, max_value=len(candidates) - 1))
    shuffled = data.draw(st.permutations(candidates))
    first = draw.draw("X/draw-1", candidates, places, contributors)
    second = draw.draw("X/draw-1", shuffled, places, contributors)
    assert first == second
    assert sorted(first.order) == sorted(candidates)
    assert first.winners + first.reserve == first.order and len(first.winners) == places


@settings(max_examples=200, deadline=None)
@given(candidates=references, secrets=st.lists(secret, min_size=2, max_size=3), other=secret)
def test_changing_one_secret_changes_the_seed(
    candidates: list[str], secrets: list[str], other: str
) -> None:
    places = 1
    contributors = [draw.Contributor(f"c{i}", draw.commitment(s), s) for i, s in enumerate(secrets)]
    changed = [*contributors[:-1], draw.Contributor("c", draw.commitment(other), other)]
    first = draw.draw("X/draw-1", candidates, places, contributors)
    second = draw.draw("X/draw-1", candidates, places, changed)
    assert (first.seed == second.seed) == (other == secrets[-1])
