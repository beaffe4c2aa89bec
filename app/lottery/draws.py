"""The draws of a procedure: looking them up, preparing one for the group tied at the last
place, voiding it, and the published records."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from app.audit import keys as signing_keys
from app.audit.chain import format_time
from app.audit.service import record
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.i18n import ngettext
from app.lottery import draw as drawlib
from app.lottery import ranking as rankinglib
from app.lottery.models import Draw, DrawContributor
from app.lottery.vocabulary import DrawPurpose, DrawStatus
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.queries import is_cluster, rubric_of
from app.procedures.vocabulary import Phase, ProcedureRole
from app.scoring import round as scoring_round

DRAW_PHASES = (Phase.DELIBERATION,)


def candidates(
    session: Session, procedure: Procedure, round_: scoring_round.Round | None = None
) -> list[rankinglib.Candidate]:
    """Every invited applicant with a joint outcome, as the ranking sees them: from the
    round when the caller has it, else from the outcomes alone (one query, no sheets)."""
    if round_ is None:
        weights = {c.id: c.weight for c in rubric_of(procedure).criteria}
        parsed = scoring_round.parsed
        unweighted = all(weight == 1 for weight in weights.values())  # a sum, then
        return [
            rankinglib.Candidate(
                reference,
                suitable,
                sum(parsed(levels).values())
                if unweighted
                else sum([weights.get(key, 1) * level for key, level in parsed(levels).items()]),
                len(parsed(pluses) or []),
            )
            for reference, levels, suitable, pluses in session.execute(
                scoring_round.invited_outcomes(procedure)
            ).all()
        ]
    weights = {c.id: c.weight for c in round_.rubric.criteria}
    result = []
    for application in round_.applications:
        assert application.id is not None
        outcome = round_.outcomes.get(application.id)
        if outcome is None:
            continue
        total = sum(weights.get(key, 1) * level for key, level in outcome.levels.items())
        result.append(
            rankinglib.Candidate(
                application.reference, outcome.suitable, total, len(outcome.pluses or [])
            )
        )
    return result


def rank(
    session: Session,
    procedure: Procedure,
    people: list[rankinglib.Candidate] | None = None,
) -> rankinglib.Ranking:
    """The ranking under the published rule. In a cluster there is no cut: every suitable
    candidate goes on to the placement, whose priority an ordering draw settles."""
    if people is None:
        people = candidates(session, procedure)
    places = procedure.places
    if is_cluster(session, procedure):
        places = max(places, sum(1 for person in people if person.suitable))
    return rankinglib.rank(people, places, procedure.ranking_rule)


def draws(session: Session, procedure: Procedure) -> list[Draw]:
    return list(
        session.execute(
            select(Draw).where(Draw.procedure_id == procedure.id).order_by(col(Draw.id))
        ).scalars()
    )


def derive_platform_secret(draw_id: str, prepared_at: datetime) -> str:
    """The platform's secret in a draw: an HMAC of the draw and the moment it was prepared
    under a key kept outside the database (`app/audit/keys.py`), 32 hex characters. Only its
    commitment is stored, so reading the database before the reveal tells nothing of it."""
    message = f"selection-lottery/v1 platform secret\n{draw_id}\n{format_time(prepared_at)}"
    key = signing_keys.active().draw_key()
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def platform_secret_of(draw: Draw) -> str:
    """The secret the platform committed to: a draw prepared before secrets were derived
    kept it in the database."""
    return draw.platform_secret or derive_platform_secret(draw.draw_id, draw.created_at)


def with_contributors(
    session: Session, procedure: Procedure
) -> tuple[list[Draw], dict[int | None, list[DrawContributor]]]:
    """The procedure's draws and, by draw id, their contributors in order: one query, however
    many draws there are (none, one, or voided ones with their successor)."""
    rows = session.execute(
        select(Draw, DrawContributor)
        .outerjoin(DrawContributor, col(DrawContributor.draw_id) == col(Draw.id))
        .where(Draw.procedure_id == procedure.id)
        .order_by(col(Draw.id), col(DrawContributor.position))
    ).all()
    found: dict[int | None, list[DrawContributor]] = {}
    for draw, contributor in rows:
        found.setdefault(draw.id, [])
        if contributor is not None:
            found[draw.id].append(contributor)
    every = list({draw.id: draw for draw, _c in rows}.values())
    return every, found


def contributors(session: Session, draw: Draw) -> list[DrawContributor]:
    return list(
        session.execute(
            select(DrawContributor)
            .where(DrawContributor.draw_id == draw.id)
            .order_by(col(DrawContributor.position))
        ).scalars()
    )


def get_draw(session: Session, procedure: Procedure, number: int) -> Draw:
    found = session.execute(
        select(Draw).where(Draw.draw_id == f"{procedure.reference}/draw-{number}")
    ).scalar_one_or_none()
    if found is None:
        raise NotFound(_("This page does not exist."))
    return found


def live(every: Sequence[Draw], purpose: str = DrawPurpose.TIE) -> Draw | None:
    """The draw of this purpose that is not void, if any (there is at most one)."""
    return next((d for d in every if d.status != DrawStatus.VOID and d.purpose == purpose), None)


def current_draw(session: Session, procedure: Procedure) -> Draw | None:
    """The tie draw that is not void, if any (there is at most one)."""
    return live(draws(session, procedure))


def prepare(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    chosen: list[str],
    places: int,
    now: datetime | None = None,
) -> Draw:
    """Set up a draw between `chosen` for `places`: they must be exactly the group tied at
    the last place under the published rule, and the places those left for it."""
    if procedure.phase not in DRAW_PHASES:
        raise Conflict(_("A draw is held during the deliberation, after every outcome."))
    if scoring_round.outcomes_missing(session, procedure):
        raise Conflict(_("Record every joint outcome first: the ranking needs them all."))
    if scoring_round.is_signed_off(session, procedure):
        raise Conflict(_("The observer has signed this round off; it is closed."))
    if current_draw(session, procedure) is not None:
        raise Conflict(_("There is a draw already; void it before preparing another."))
    if len(set(chosen)) < 2 or places < 1 or places >= len(set(chosen)):
        raise InvalidInput(
            ngettext(
                "A draw needs fewer places than candidates: %(num)s place for %(count)s "
                "candidates.",
                "A draw needs fewer places than candidates: %(num)s places for %(count)s "
                "candidates.",
                places,
                count=len(set(chosen)),
            ),
            field="places",
        )
    ranked = rank(session, procedure)
    if not ranked.needs_draw:
        raise Conflict(
            _("No draw is needed: the suitable candidates are ranked without ties at the cut.")
        )
    if sorted(set(chosen)) != ranked.tie or places != ranked.tie_places:
        raise InvalidInput(
            ngettext(
                "Under the published rule the candidates tied at the last place are %(tie)s, "
                "for %(num)s place; a draw between others is not allowed.",
                "Under the published rule the candidates tied at the last place are %(tie)s, "
                "for %(num)s places; a draw between others is not allowed.",
                ranked.tie_places,
                tie=", ".join(ranked.tie),
            )
        )
    return create(
        session,
        actor=actor,
        procedure=procedure,
        candidates=ranked.tie,
        places=places,
        purpose=DrawPurpose.TIE,
        now=now,
    )


def create(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    candidates: Sequence[str],
    places: int,
    purpose: str,
    now: datetime | None = None,
) -> Draw:
    """A new draw between `candidates` for `places`, its contributors the observer, the
    chair and the platform (whose commitment is fixed now); chained as prepared."""
    observer = draw_member(session, procedure, ProcedureRole.OBSERVER)
    chair = draw_member(session, procedure, ProcedureRole.CHAIR)
    number = len(draws(session, procedure)) + 1
    assert procedure.id is not None
    draw_id = f"{procedure.reference}/draw-{number}"
    prepared_at = utcnow()
    platform_secret = derive_platform_secret(draw_id, prepared_at)
    created = Draw(
        procedure_id=procedure.id,
        draw_id=draw_id,
        candidates=drawlib.sort_candidates(candidates),
        purpose=purpose,
        places=places,
        platform_secret="",  # derived when it is revealed, never stored before
        created_at=prepared_at,
    )
    session.add(created)
    session.flush()
    assert created.id is not None
    moment = now or utcnow()
    for position, (name, member) in enumerate(
        (("observer", observer), ("chair", chair), ("platform", None)), 1
    ):
        session.add(
            DrawContributor(
                draw_id=created.id,
                position=position,
                name=name,
                member_id=member.id if member else None,
                commitment=drawlib.commitment(platform_secret) if member is None else None,
                committed_at=moment if member is None else None,
            )
        )
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="draw.prepared",
        subject=f"draw:{created.draw_id}",
        data={"candidates": created.candidates, "places": places, "purpose": purpose},
    )
    session.commit()
    return created


def draw_member(session: Session, procedure: Procedure, role: str) -> ProcedureMember:
    member = session.execute(
        select(ProcedureMember).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.role == role
        )
    ).scalar_one_or_none()
    if member is None:
        raise Conflict(_("A draw needs an observer and a chair as contributors."))
    return member


def announced_record(
    session: Session,
    draw: Draw,
    *,
    revealed: bool = False,
    parties: list[DrawContributor] | None = None,
) -> dict[str, Any]:
    """The draw's record as the spec publishes it; `parties` are its contributors, when the
    caller read them already."""

    def secret(c: DrawContributor) -> str | None:
        return (
            (c.secret if c.name != "platform" else platform_secret_of(draw)) if revealed else None
        )

    recorded = [
        drawlib.Contributor(c.name, c.commitment or "", secret(c))
        for c in (contributors(session, draw) if parties is None else parties)
    ]
    beacon = (draw.beacon_name, draw.beacon_value or "") if draw.beacon_name else None
    # A draw voided after it was drawn keeps its outcome on the record.
    outcome = (
        drawlib.Outcome(draw.seed, draw.order, draw.winners, draw.reserve)
        if draw.drawn_at is not None and draw.seed
        else None
    )
    result = drawlib.record(draw.draw_id, draw.candidates, draw.places, recorded, beacon, outcome)
    if draw.beacon_name and not revealed:
        result["beacon"] = {"name": draw.beacon_name, "value": None}
    return result


def void(session: Session, *, actor: str, procedure: Procedure, draw: Draw, reason: str) -> None:
    """The draw is void: a contributor did not reveal, or an outcome in the ranking has to
    change after the draw. It stays on the public record with its reason; the committee may
    then deliberate again, and a new draw follows."""
    if draw.status == DrawStatus.VOID:
        raise Conflict(_("This draw is void already."))
    if draw.purpose != DrawPurpose.TIE:
        raise Conflict(_("The placement's ordering draw is voided on the placement page."))
    if procedure.phase not in DRAW_PHASES:
        raise Conflict(_("The results are published: the draw stands and can no longer be voided."))
    if scoring_round.is_signed_off(session, procedure):
        raise Conflict(_("The observer has signed this round off; it is closed."))
    mark_void(session, actor=actor, procedure=procedure, draw=draw, reason=reason)


def mark_void(
    session: Session, *, actor: str, procedure: Procedure, draw: Draw, reason: str
) -> None:
    """Void the draw with its public reason, once the caller has checked that it may be."""
    if draw.status == DrawStatus.VOID:
        raise Conflict(_("This draw is void already."))
    reason = reason.strip()
    if len(reason) < 10:
        raise InvalidInput(_("Say why the draw is void (at least 10 characters)."), field="reason")
    was = draw.status
    draw.status = DrawStatus.VOID
    draw.void_reason = reason[:1000]
    draw.voided_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="draw.void",
        subject=f"draw:{draw.draw_id}",
        data={"reason": draw.void_reason, "was": was},
    )
    session.commit()


def published(session: Session, procedure: Procedure) -> list[dict[str, Any]]:
    """Every announced draw's record as published: references only, no names; secrets once
    drawn."""
    every, parties = with_contributors(session, procedure)
    return [
        announced_record(session, d, revealed=d.drawn_at is not None, parties=parties[d.id])
        | {"status": d.status}
        | (
            {"void_reason": d.void_reason, "voided_at": format_time(d.voided_at)}
            if d.status == DrawStatus.VOID and d.voided_at
            else {}
        )
        for d in every
        if d.status != DrawStatus.PREPARING
    ]


def open_draws(session: Session, procedures_: Sequence[Procedure]) -> dict[int, list[Draw]]:
    """Per procedure, the draws that wait for their contributors (commitments or secrets):
    a tie draw, or a placement's ordering draws (one per group of equals)."""
    ids = [p.id for p in procedures_]
    if not ids:
        return {}
    waiting = session.execute(
        select(Draw)
        .where(
            col(Draw.procedure_id).in_(ids),
            col(Draw.status).in_([DrawStatus.PREPARING, DrawStatus.ANNOUNCED]),
        )
        .order_by(col(Draw.id))
    ).scalars()
    found: dict[int, list[Draw]] = {}
    for draw in waiting:
        found.setdefault(draw.procedure_id, []).append(draw)
    return found
