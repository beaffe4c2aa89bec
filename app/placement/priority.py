"""The placement's priority: who chooses first. It follows the procedure's published ranking
rule (shared/spec/placement.md, "priority_from"):

- the suitable candidates with a list, in the rule's groups of equals, best first: under
  "lottery among the suitable" one group (unless published pluses separate them), under
  "score, then lottery" one group per weighted total and pluses;
- within a group the order of one *ordering draw* over every candidate of the placement
  (places equal to the candidates), held with the usual ceremony after the preference
  deadline, so that nobody knows the order while the lists can still change.

With one group the priority is the draw's order (`{"draw", "seed"}`); with several it is the
ranking with the draw breaking ties (`{"ranking", "draws"}`); without ties no draw at all.
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
    draw: Draw | None  # the ordering draw that is not void, if one was prepared
    rule: str  # the published ranking rule

    @property
    def candidates(self) -> list[str]:
        return sorted(self.lists, key=lambda ref: ref.encode("utf-8"))

    @property
    def needs_draw(self) -> bool:
        return any(len(group) > 1 for group in self.groups)

    @property
    def drawn(self) -> bool:
        return self.draw is not None and self.draw.status == DrawStatus.DRAWN

    @property
    def ready(self) -> bool:
        return bool(self.lists) and (self.drawn or not self.needs_draw)

    def order(self) -> tuple[list[str], dict[str, Any]]:
        """The priority and its `priority_from`, once `ready`."""
        if not self.needs_draw:
            return [ref for group in self.groups for ref in group], {"ranking": self.rule}
        assert self.draw is not None and self.draw.seed is not None
        position = {ref: at for at, ref in enumerate(self.draw.order)}
        ordered = [ref for group in self.groups for ref in sorted(group, key=position.__getitem__)]
        if len(self.groups) == 1:
            return ordered, {"draw": self.draw.draw_id, "seed": self.draw.seed}
        return ordered, {"ranking": self.rule, "draws": [self.draw.draw_id]}


def placement_id(procedure: Procedure) -> str:
    return f"{procedure.reference}/placement-1"


def ordering_draw(session: Session, procedure: Procedure) -> Draw | None:
    return lottery_draws.live(lottery_draws.draws(session, procedure), DrawPurpose.ORDERING)


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
    return Priority(lists, [g for g in groups if g], ordering_draw(session, procedure),
                    procedure.ranking_rule)  # fmt: skip


def has_rounds(session: Session, procedure: Procedure) -> bool:
    return (
        session.execute(
            select(PlacementRound.id).where(PlacementRound.procedure_id == procedure.id).limit(1)
        ).first()
        is not None
    )


def prepare_draw(session: Session, *, actor: str, procedure: Procedure) -> Draw:
    """The ordering draw over every candidate of the placement, after the lists are fixed."""
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
    if priority.draw is not None:
        raise Conflict(_("There is an ordering draw already; void it before preparing another."))
    if not priority.needs_draw:
        raise Conflict(
            _("No draw is needed: the published rule orders every candidate of the placement.")
        )
    return lottery_draws.create(
        session,
        actor=actor,
        procedure=procedure,
        candidates=priority.candidates,
        places=len(priority.candidates),
        purpose=DrawPurpose.ORDERING,
    )


def void_draw(session: Session, *, actor: str, procedure: Procedure, reason: str) -> None:
    """A contributor did not reveal: the ordering draw is void (it stays on the record) and a
    new one may be prepared. Not once the first round rests on it."""
    drawn = ordering_draw(session, procedure)
    if drawn is None:
        raise Conflict(_("There is no ordering draw to void."))
    if has_rounds(session, procedure):
        raise Conflict(_("The first round is published: the ordering draw stands."))
    lottery_draws.mark_void(session, actor=actor, procedure=procedure, draw=drawn, reason=reason)


def draw_by_id(session: Session, draw_id: str) -> Draw | None:
    return session.execute(select(Draw).where(col(Draw.draw_id) == draw_id)).scalar_one_or_none()
