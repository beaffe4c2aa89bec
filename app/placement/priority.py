"""The placement's priority: who chooses first. It follows the procedure's published ranking
rule (shared/spec/placement.md, "priority_from"):

- the suitable candidates with a list, in the rule's groups of equals, best first: under
  "lottery among the suitable" one group (unless published pluses separate them), under
  "score, then lottery" one group per weighted total and pluses;
- within a group of more than one, the order of an *ordering draw* over exactly that group
  (places equal to its candidates), held with the usual ceremony after the preference
  deadline, so that nobody knows the order while the lists can still change.

With one group the priority is its draw's order (`{"draw", "seed"}`); with several it is the
ranking with a draw per tied group (`{"ranking", "draws"}`, the draws in priority order), so
that a verifier finds each draw's candidates in the priority in the draw's order; without
ties there is no draw at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from app.errors import Conflict
from app.i18n import gettext as _
from app.lottery import draws as lottery_draws
from app.lottery import ranking as rankinglib
from app.lottery.models import Draw
from app.lottery.vocabulary import DrawPurpose, DrawStatus
from app.placement import preferences
from app.placement.models import PlacementRound
from app.procedures.models import Procedure
from app.procedures.queries import institutions
from app.procedures.vocabulary import Phase


@dataclass(frozen=True)
class Priority:
    """Who takes part, in which groups of equals, and (once drawn) in which order."""

    lists: dict[str, list[str]]  # every candidate's fixed list, by reference
    groups: list[list[str]]  # the rule's groups of equals, best first, each by reference
    draws: list[Draw]  # the ordering draws that are not void
    rule: str  # the published ranking rule

    @property
    def candidates(self) -> list[str]:
        return sorted(self.lists, key=lambda ref: ref.encode("utf-8"))

    @property
    def tied(self) -> list[list[str]]:
        """The groups of more than one: each needs an ordering draw over exactly it."""
        return [group for group in self.groups if len(group) > 1]

    @property
    def needs_draw(self) -> bool:
        return bool(self.tied)

    def draw_for(self, group: list[str]) -> Draw | None:
        return next((d for d in self.draws if sorted(d.candidates) == sorted(group)), None)

    @property
    def undrawn(self) -> list[list[str]]:
        """The tied groups without an ordering draw yet."""
        return [group for group in self.tied if self.draw_for(group) is None]

    @property
    def ready(self) -> bool:
        return bool(self.lists) and all(
            (drawn := self.draw_for(group)) is not None and drawn.status == DrawStatus.DRAWN
            for group in self.tied
        )

    def order(self) -> tuple[list[str], dict[str, Any]]:
        """The priority and its `priority_from`, once `ready`."""
        ordered: list[str] = []
        used: list[Draw] = []
        for group in self.groups:
            drawn = self.draw_for(group) if len(group) > 1 else None
            if drawn is None:
                ordered += group
                continue
            ordered += drawn.order
            used.append(drawn)
        if len(self.groups) == 1 and used:
            assert used[0].seed is not None
            return ordered, {"draw": used[0].draw_id, "seed": used[0].seed}
        if used:
            return ordered, {"ranking": self.rule, "draws": [d.draw_id for d in used]}
        return ordered, {"ranking": self.rule}


def placement_id(procedure: Procedure) -> str:
    return f"{procedure.reference}/placement-1"


def ordering_draws(session: Session, procedure: Procedure) -> list[Draw]:
    """The placement's ordering draws, the void ones too, in the order they were prepared."""
    return [d for d in lottery_draws.draws(session, procedure) if d.purpose == DrawPurpose.ORDERING]


def load(session: Session, procedure: Procedure) -> Priority:
    """The candidates with a non-empty list (fixed at the deadline), in the rule's groups."""
    lists = {
        ref: codes for ref, codes in preferences.fixed_lists(session, procedure).items() if codes
    }
    people = lottery_draws.candidates(session, procedure)
    groups = [
        [ref for ref in group if ref in lists]
        for group in rankinglib.tiers(people, procedure.ranking_rule)
    ]
    live = [d for d in ordering_draws(session, procedure) if d.status != DrawStatus.VOID]
    return Priority(lists, [g for g in groups if g], live, procedure.ranking_rule)


def has_rounds(session: Session, procedure: Procedure) -> bool:
    return (
        session.execute(
            select(PlacementRound.id).where(PlacementRound.procedure_id == procedure.id).limit(1)
        ).first()
        is not None
    )


def prepare_draws(session: Session, *, actor: str, procedure: Procedure) -> list[Draw]:
    """An ordering draw over each group of equals that has none yet (one group: every
    candidate of the placement), after the lists are fixed and before round 1."""
    if procedure.phase != Phase.RESULTS or not preferences.is_cluster(
        institutions(session, procedure)
    ):
        raise Conflict(_("An ordering draw is held in a cluster's placement, after the results."))
    if procedure.preferences_fixed_at is None:
        raise Conflict(
            _(
                "The order of priority is drawn after the preference deadline, once the lists "
                "are fixed."
            )
        )
    if has_rounds(session, procedure):
        raise Conflict(_("The first round is published: its priority stands."))
    priority = load(session, procedure)
    if not priority.needs_draw:
        raise Conflict(
            _("No draw is needed: the published rule orders every candidate of the placement.")
        )
    if not priority.undrawn:
        raise Conflict(_("Every group of equals has its ordering draw already."))
    return [
        lottery_draws.create(
            session,
            actor=actor,
            procedure=procedure,
            candidates=group,
            places=len(group),
            purpose=DrawPurpose.ORDERING,
        )
        for group in priority.undrawn
    ]


def ordering_draw(session: Session, procedure: Procedure, number: int) -> Draw:
    """The placement's ordering draw by its number (…/draw-N)."""
    found = lottery_draws.get_draw(session, procedure, number)
    if found.purpose != DrawPurpose.ORDERING:
        raise Conflict(_("That draw is not one of the placement's ordering draws."))
    return found


def void_draw(
    session: Session, *, actor: str, procedure: Procedure, draw: Draw, reason: str
) -> None:
    """A contributor did not reveal: the ordering draw is void (it stays on the record) and a
    new one may be prepared. Not once the first round rests on it."""
    if draw.purpose != DrawPurpose.ORDERING:
        raise Conflict(_("That draw is not one of the placement's ordering draws."))
    if has_rounds(session, procedure):
        raise Conflict(_("The first round is published: the ordering draw stands."))
    lottery_draws.mark_void(session, actor=actor, procedure=procedure, draw=draw, reason=reason)


def draw_by_id(session: Session, draw_id: str) -> Draw | None:
    return session.execute(select(Draw).where(col(Draw.draw_id) == draw_id)).scalar_one_or_none()
