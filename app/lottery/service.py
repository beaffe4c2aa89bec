"""The lottery's use cases: prepare a draw for the group tied at the last place, collect the
contributors' commitments, announce (chained before any secret is known), reveal, draw,
void and redraw; and the final ranking with the reserve list.

From its announcement a draw fixes the ranking: outcomes, pluses and places do not change
until it is voided with a public reason, and a draw whose group is no longer the tie is
never used for the results.

Contributors, in this order: the observer, the chair, and the platform, whose secret is
made when the draw is prepared and kept until the draw.
"""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import User
from app.applications import letter_round
from app.applications.disclosure import shown_groups
from app.applications.models import Application, DiversityResponse
from app.audit.chain import format_time
from app.audit.service import actor_id, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput, NotFound
from app.i18n import gettext as _
from app.lottery import draw as drawlib
from app.lottery import ranking as rankinglib
from app.lottery.models import DeclinedPlace, Draw, DrawContributor, DrawStatus
from app.procedures.models import Phase, Procedure, ProcedureMember, ProcedureRole
from app.scoring import service as scoring
from app.scoring.models import JointOutcome

DRAW_PHASES = (Phase.DELIBERATION,)
MAX_SECRET = 200


def candidates(
    session: Session, procedure: Procedure, round_: scoring.Round | None = None
) -> list[rankinglib.Candidate]:
    """Every invited applicant with a joint outcome, as the ranking sees them."""
    round_ = round_ or scoring.load_round(session, procedure)
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
    if people is None:
        people = candidates(session, procedure)
    return rankinglib.rank(people, procedure.places, procedure.ranking_rule)


def draws(session: Session, procedure: Procedure) -> list[Draw]:
    return list(
        session.execute(
            select(Draw).where(Draw.procedure_id == procedure.id).order_by(col(Draw.id))
        ).scalars()
    )


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


def current_draw(session: Session, procedure: Procedure) -> Draw | None:
    """The draw that is not void, if any (there is at most one)."""
    return next((d for d in draws(session, procedure) if d.status != DrawStatus.VOID), None)


@dataclass(frozen=True)
class Result:
    """The final order: placed first, then the reserve list; a declined place goes to the
    next on the reserve list."""

    places: list[str]
    reserve: list[str]
    draw: Draw | None
    declined: list[str]


def declined_references(session: Session, procedure: Procedure) -> list[str]:
    return list(
        session.execute(
            select(Application.reference)
            .join(DeclinedPlace, col(DeclinedPlace.application_id) == col(Application.id))
            .where(DeclinedPlace.procedure_id == procedure.id)
            .order_by(col(DeclinedPlace.id))
        ).scalars()
    )


def matches(draw: Draw, ranked: rankinglib.Ranking) -> bool:
    """The draw was held between exactly the group now tied at the last place, for the
    places now left for it."""
    return sorted(draw.candidates) == sorted(ranked.tie) and draw.places == ranked.tie_places


def final_result(
    session: Session,
    procedure: Procedure,
    people: list[rankinglib.Candidate] | None = None,
) -> Result | None:
    """None while a needed draw has not been drawn, or when the draw no longer matches the
    tied group (then nobody's place may rest on it)."""
    ranked = rank(session, procedure, people)
    below = [ref for group in ranked.below for ref in group]
    drawn = None
    places, reserve = ranked.placed, below
    if ranked.needs_draw:
        drawn = current_draw(session, procedure)
        if drawn is None or drawn.status != DrawStatus.DRAWN or not matches(drawn, ranked):
            return None
        places, reserve = ranked.placed + drawn.winners, drawn.reserve + below
    declined = declined_references(session, procedure)
    kept = [ref for ref in places if ref not in declined]
    waiting = [ref for ref in reserve if ref not in declined]
    moved_up = waiting[: len(places) - len(kept)]
    return Result(kept + moved_up, waiting[len(moved_up) :], drawn, declined)


def draw_problems(
    session: Session,
    procedure: Procedure,
    people: list[rankinglib.Candidate] | None = None,
) -> list[str]:
    """Why the standing draw cannot be used for the results: it no longer matches the group
    tied at the last place, or the ranking has no tie any more. Empty when all is well."""
    current = current_draw(session, procedure)
    if current is None or procedure.rubric_hash is None:
        return []
    ranked = rank(session, procedure, people)
    if current.status != DrawStatus.DRAWN:
        if ranked.needs_draw:
            return []  # the draw is still under way: draw_missing says so
        return [
            _(
                "Draw %(draw)s has not been drawn and no draw is needed any more: void it "
                "with a reason.",
                draw=current.draw_id,
            )
        ]
    if not ranked.needs_draw:
        return [
            _(
                "Draw %(draw)s was held between %(drawn)s for %(places)s places, but the "
                "ranking now has no tie at the last place. Void the draw with a reason.",
                draw=current.draw_id,
                drawn=", ".join(current.candidates),
                places=current.places,
            )
        ]
    if not matches(current, ranked):
        return [
            _(
                "Draw %(draw)s was held between %(drawn)s for %(places)s places, but the "
                "candidates tied at the last place are now %(tie)s for %(tie_places)s places. "
                "Void the draw with a reason and hold a new one.",
                draw=current.draw_id,
                drawn=", ".join(current.candidates),
                places=current.places,
                tie=", ".join(ranked.tie),
                tie_places=ranked.tie_places,
            )
        ]
    return []


def decline(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    application: Application,
) -> str | None:
    """Record that a placed candidate declined; the next on the reserve list is offered the
    place (and told). Returns that candidate's reference, if there is one."""
    if procedure.phase != Phase.RESULTS:
        raise Conflict(_("A declined place is recorded after the results are published."))
    before = final_result(session, procedure)
    if before is None or application.reference not in before.places:
        raise Conflict(_("Only a candidate who has a place can decline it."))
    assert procedure.id is not None and application.id is not None
    session.add(DeclinedPlace(procedure_id=procedure.id, application_id=application.id))
    session.flush()
    after = final_result(session, procedure)
    assert after is not None
    offered = next((ref for ref in after.places if ref not in before.places), None)
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="place.declined",
        subject=f"application:{application.reference}",
        data={"offered_to": offered},
    )
    if offered:
        moved = session.execute(
            select(Application).where(Application.reference == offered)
        ).scalar_one()
        user = session.get(User, moved.applicant_id)
        if user is not None:
            mail.send(
                session,
                settings,
                to=user.email,
                subject=_("A training place for you: %(procedure)s", procedure=procedure.title),
                body=_(
                    "Dear %(name)s,\n\nA place in %(procedure)s was declined. You are next on "
                    "the reserve list, so the place is offered to you. See %(url)s",
                    name=user.name,
                    procedure=procedure.title,
                    url=f"{settings.base_url}/applications/{offered}#result",
                ),
            )
    session.commit()
    return offered


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
    if scoring.round_facts(session, procedure).outcomes_missing:
        raise Conflict(_("Record every joint outcome first: the ranking needs them all."))
    if scoring.round_closed(session, procedure):
        raise Conflict(_("The observer has signed this round off; it is closed."))
    if current_draw(session, procedure) is not None:
        raise Conflict(_("There is a draw already; void it before preparing another."))
    if len(set(chosen)) < 2 or places < 1 or places >= len(set(chosen)):
        raise InvalidInput(
            _(
                "A draw needs fewer places than candidates: %(places)s places for "
                "%(count)s candidates.",
                places=places,
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
            _(
                "Under the published rule the candidates tied at the last place are %(tie)s, "
                "for %(places)s places; a draw between others is not allowed.",
                tie=", ".join(ranked.tie),
                places=ranked.tie_places,
            )
        )
    observer = _member(session, procedure, ProcedureRole.OBSERVER)
    chair = _member(session, procedure, ProcedureRole.CHAIR)
    number = len(draws(session, procedure)) + 1
    assert procedure.id is not None
    platform_secret = random_secrets.token_hex(16)
    created = Draw(
        procedure_id=procedure.id,
        draw_id=f"{procedure.reference}/draw-{number}",
        candidates=drawlib.sort_candidates(ranked.tie),
        places=places,
        platform_secret=platform_secret,
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
        data={"candidates": created.candidates, "places": places},
    )
    session.commit()
    return created


def _member(session: Session, procedure: Procedure, role: str) -> ProcedureMember:
    member = session.execute(
        select(ProcedureMember).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.role == role
        )
    ).scalar_one_or_none()
    if member is None:
        raise Conflict(_("A draw needs an observer and a chair as contributors."))
    return member


def _contributor_of(
    session: Session, draw: Draw, member: ProcedureMember | None
) -> DrawContributor:
    found = next(
        (c for c in contributors(session, draw) if member and c.member_id == member.id), None
    )
    if found is None:
        raise Forbidden(_("Only the draw's contributors (the observer and the chair) do this."))
    return found


def commit(
    session: Session,
    *,
    procedure: Procedure,
    draw: Draw,
    member: ProcedureMember | None,
    commitment: str,
) -> None:
    """A contributor fixes their commitment: the SHA-256 of a secret only they know."""
    contributor = _contributor_of(session, draw, member)
    if draw.status != DrawStatus.PREPARING:
        raise Conflict(_("The draw has been announced; its commitments are fixed."))
    commitment = commitment.strip().lower()
    if not drawlib.HEX64.match(commitment):
        raise InvalidInput(
            _("A commitment is the SHA-256 of your secret: 64 characters 0-9 and a-f."),
            field="commitment",
        )
    contributor.commitment = commitment
    contributor.committed_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id if member else None),
        action="draw.committed",
        subject=f"draw:{draw.draw_id}",
        data={"contributor": contributor.name, "commitment": commitment},
    )
    session.commit()


def announced_record(session: Session, draw: Draw, *, revealed: bool = False) -> dict[str, Any]:
    parties = [
        drawlib.Contributor(
            c.name, c.commitment or "", (c.secret if c.name != "platform" else draw.platform_secret)
            if revealed else None,
        )
        for c in contributors(session, draw)
    ]  # fmt: skip
    beacon = (draw.beacon_name, draw.beacon_value or "") if draw.beacon_name else None
    # A draw voided after it was drawn keeps its outcome on the record.
    outcome = (
        drawlib.Outcome(draw.seed, draw.order, draw.winners, draw.reserve)
        if draw.drawn_at is not None and draw.seed
        else None
    )
    result = drawlib.record(draw.draw_id, draw.candidates, draw.places, parties, beacon, outcome)
    if draw.beacon_name and not revealed:
        result["beacon"] = {"name": draw.beacon_name, "value": None}
    return result


def announce(
    session: Session, *, actor: str, procedure: Procedure, draw: Draw, beacon_name: str
) -> None:
    """Fix the draw before any secret is known, and chain it."""
    if draw.status != DrawStatus.PREPARING:
        raise Conflict(_("This draw has been announced already."))
    missing = [c.name for c in contributors(session, draw) if not c.commitment]
    if missing:
        raise Conflict(_("Waiting for the commitment of: %(names)s.", names=", ".join(missing)))
    ranked = rank(session, procedure)
    if not matches(draw, ranked):
        raise Conflict(
            _(
                "The ranking changed since this draw was prepared: the candidates tied at the "
                "last place are now %(tie)s for %(places)s places. Void this draw and prepare "
                "a new one.",
                tie=", ".join(ranked.tie) or "—",
                places=ranked.tie_places,
            )
        )
    beacon_name = beacon_name.strip()
    if len(beacon_name) > 200 or "\n" in beacon_name:
        raise InvalidInput(_("Name the beacon in one line of at most 200 characters."))
    draw.beacon_name = beacon_name or None
    draw.status = DrawStatus.ANNOUNCED
    draw.announced_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="draw.announced",
        subject=f"draw:{draw.draw_id}",
        data={"record": announced_record(session, draw)},
    )
    # Asked again holding the chain's head: an outcome recorded meanwhile is seen.
    if not matches(draw, rank(session, procedure)):
        raise Conflict(
            _(
                "An outcome changed while the draw was being announced: the candidates tied "
                "at the last place are no longer this draw's. Void it and prepare a new one."
            )
        )
    session.commit()


def reveal(
    session: Session,
    *,
    procedure: Procedure,
    draw: Draw,
    member: ProcedureMember | None,
    secret: str,
) -> None:
    contributor = _contributor_of(session, draw, member)
    if draw.status == DrawStatus.DRAWN:
        raise Conflict(_("The draw has taken place; secrets can no longer be revealed."))
    if draw.status == DrawStatus.VOID:
        raise Conflict(_("This draw is void; a new draw has its own commitments."))
    if draw.status != DrawStatus.ANNOUNCED:
        raise Conflict(_("Secrets are revealed after the draw is announced."))
    if contributor.secret is not None:
        raise Conflict(_("You have revealed your secret already."))
    if len(secret) < drawlib.MIN_SECRET or "\n" in secret or len(secret) > MAX_SECRET:
        raise InvalidInput(
            _(
                "A secret is one line of %(min)s to %(max)s characters.",
                min=drawlib.MIN_SECRET,
                max=MAX_SECRET,
            ),
            field="secret",
        )
    if drawlib.commitment(secret) != contributor.commitment:
        raise InvalidInput(
            _(
                "This secret does not match your commitment: its SHA-256 is %(hash)s, the "
                "announced commitment is %(commitment)s. Enter the exact secret (letters, "
                "spaces and case count).",
                hash=drawlib.commitment(secret),
                commitment=contributor.commitment,
            ),
            field="secret",
        )
    contributor.secret = secret
    contributor.revealed_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(member.user_id if member else None),
        action="draw.revealed",
        subject=f"draw:{draw.draw_id}",
        data={"contributor": contributor.name},
    )
    _draw_when_ready(session, procedure, draw)
    session.commit()


def enter_beacon(
    session: Session, *, actor: str, procedure: Procedure, draw: Draw, value: str
) -> None:
    if draw.status != DrawStatus.ANNOUNCED or not draw.beacon_name:
        raise Conflict(_("This draw waits for no beacon value."))
    value = value.strip()
    if not value or len(value) > 500 or "\n" in value:
        raise InvalidInput(_("Enter the beacon's value in one line."), field="value")
    draw.beacon_value = value
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="draw.beacon",
        subject=f"draw:{draw.draw_id}",
        data={"name": draw.beacon_name, "value": value},
    )
    _draw_when_ready(session, procedure, draw)
    session.commit()


def _draw_when_ready(session: Session, procedure: Procedure, draw: Draw) -> None:
    """Once every secret (and the beacon value, if one was named) is in: draw."""
    parties = contributors(session, draw)
    if any(c.secret is None for c in parties if c.name != "platform"):
        return
    if draw.beacon_name and not draw.beacon_value:
        return
    for party in parties:
        if party.name == "platform":
            party.secret, party.revealed_at = draw.platform_secret, utcnow()
    outcome = drawlib.draw(
        draw.draw_id,
        draw.candidates,
        draw.places,
        [drawlib.Contributor(c.name, c.commitment or "", c.secret) for c in parties],
        draw.beacon_value,
    )
    draw.seed, draw.order = outcome.seed, outcome.order
    draw.winners, draw.reserve = outcome.winners, outcome.reserve
    draw.status = DrawStatus.DRAWN
    draw.drawn_at = utcnow()
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor="system",
        action="draw.drawn",
        subject=f"draw:{draw.draw_id}",
        data={"record": announced_record(session, draw, revealed=True)},
    )


def void(session: Session, *, actor: str, procedure: Procedure, draw: Draw, reason: str) -> None:
    """The draw is void: a contributor did not reveal, or an outcome in the ranking has to
    change after the draw. It stays on the public record with its reason; the committee may
    then deliberate again, and a new draw follows."""
    if draw.status == DrawStatus.VOID:
        raise Conflict(_("This draw is void already."))
    if procedure.phase not in DRAW_PHASES:
        raise Conflict(_("The results are published: the draw stands and can no longer be voided."))
    if scoring.round_closed(session, procedure):
        raise Conflict(_("The observer has signed this round off; it is closed."))
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
    return [
        announced_record(session, d, revealed=d.drawn_at is not None)
        | {"status": d.status}
        | (
            {"void_reason": d.void_reason, "voided_at": format_time(d.voided_at)}
            if d.status == DrawStatus.VOID and d.voided_at
            else {}
        )
        for d in draws(session, procedure)
        if d.status != DrawStatus.PREPARING
    ]


def application_draw(session: Session, application: Application) -> Draw | None:
    procedure = session.get(Procedure, application.procedure_id)
    assert procedure is not None
    drawn = current_draw(session, procedure)
    if drawn and drawn.status == DrawStatus.DRAWN and application.reference in drawn.candidates:
        return drawn
    return None


def open_draws(session: Session, procedures_: Sequence[Procedure]) -> dict[int, Draw]:
    """Per procedure, the draw that waits for its contributors (commitments or secrets)."""
    found = {}
    for procedure in procedures_:
        current = current_draw(session, procedure)
        if current and current.status in (DrawStatus.PREPARING, DrawStatus.ANNOUNCED):
            assert procedure.id is not None
            found[procedure.id] = current
    return found


def draw_status_label(status: str) -> str:
    labels: dict[str, str] = {
        DrawStatus.PREPARING: _("Collecting commitments"),
        DrawStatus.ANNOUNCED: _("Announced: waiting for the secrets"),
        DrawStatus.DRAWN: _("Drawn"),
        DrawStatus.VOID: _("Void"),
    }
    return labels.get(status, status)


def contributor_label(name: str) -> str:
    labels = {"observer": _("Observer"), "chair": _("Chair"), "platform": _("Platform")}
    return labels.get(name, name)


def verify_step_label(what: str) -> str:
    labels = {
        "version": _("Method version"),
        "fields": _("Record complete"),
        "candidates": _("Candidates"),
        "places": _("Places"),
        "commitment": _("Commitment"),
        "beacon": _("Beacon"),
        "seed": _("Seed"),
        "order": _("Order"),
        "winners": _("Winners"),
        "reserve": _("Reserve list"),
    }
    return labels.get(what, what)


@dataclass(frozen=True)
class GroupOutcome:
    answer: str
    applicants: int
    invited: int
    suitable: int
    placed: int


def outcomes_by_group(
    session: Session, procedure: Procedure
) -> dict[str, list[GroupOutcome]] | None:
    """Per question of the voluntary questionnaire, how outcomes compare between the groups
    that answered; only groups of at least five applicants are shown (smaller ones could be
    recognised), and nothing before the results are published."""
    if procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED):
        return None
    rows = session.execute(
        select(DiversityResponse, Application)
        .join(Application, col(Application.id) == col(DiversityResponse.application_id))
        .where(DiversityResponse.procedure_id == procedure.id)
    ).all()
    people = candidates(session, procedure)
    result = final_result(session, procedure, people)
    placed = set(result.places) if result else set()
    suitable = {c.reference for c in people if c.suitable}
    summary: dict[str, list[GroupOutcome]] = {}
    for question in letter_round.QUESTIONS:
        groups: dict[str, list[Application]] = {}
        for response, application in rows:
            groups.setdefault(getattr(response, question) or "unanswered", []).append(application)
        # Complementary suppression: a small group, and the next smallest if it would be
        # the only one hidden, is left out (app/applications/disclosure.py).
        visible = shown_groups({answer: len(members) for answer, members in groups.items()})
        shown = [
            GroupOutcome(
                answer,
                len(members),
                sum(1 for a in members if a.letter_round_outcome == letter_round.INVITED),
                sum(1 for a in members if a.reference in suitable),
                sum(1 for a in members if a.reference in placed),
            )
            for answer, members in sorted(groups.items())
            if answer in visible
        ]
        if shown:
            summary[question] = shown
    return summary


def explain(step: drawlib.Step) -> str:
    """A verification step in the reader's language."""
    v = step.values
    if step.what == "version":
        return _("the record says %(found)s; the method is %(expected)s", **v)
    if step.what == "fields":
        return _("draw_id, candidates, places, contributors and beacon are all there")
    if step.what == "candidates":
        return _("every candidate once, sorted ascending")
    if step.what == "places":
        return _("%(places)s places for %(count)s candidates", **v)
    if step.what == "commitment" and "missing" in v:
        return _("contributor %(index)s (%(name)s) has no secret in the record", **v)
    if step.what == "commitment":
        return _(
            "contributor %(index)s (%(name)s): the SHA-256 of the secret is %(computed)s; the "
            "announced commitment is %(promised)s",
            **v,
        )
    if step.what == "beacon":
        return _("the beacon %(name)s has a value", **v)
    if step.what == "seed":
        return _(
            "the SHA-256 of the seed input is %(computed)s; the record says %(published)s", **v
        )
    if step.what == "order":
        return _("sorted by SHA-256(seed + reference): %(order)s", **v)
    if step.what == "winners":
        return _("the first %(places)s: %(winners)s", **v)
    if step.what == "reserve":
        return _("the others, in order: %(reserve)s", **v)
    return step.detail


def draw_missing(session: Session, procedure: Procedure, outcomes_missing: tuple[str, ...]) -> bool:
    """A draw is needed for the last place and has not taken place (asked only once every
    outcome is in: the caller has the missing ones from scoring.round_facts already)."""
    if procedure.phase != Phase.DELIBERATION or procedure.rubric_hash is None:
        return False
    if outcomes_missing:
        return False
    return final_result(session, procedure) is None


@dataclass(frozen=True)
class ApplicantResult:
    """What an applicant reads once the results are published."""

    outcome: JointOutcome
    standing: str  # placed, reserve, not_placed, not_suitable
    reserve_position: int | None
    draw: Draw | None


def applicant_result(
    session: Session, procedure: Procedure, application: Application
) -> ApplicantResult | None:
    if procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED) or application.id is None:
        return None
    outcome = session.execute(
        select(JointOutcome).where(JointOutcome.application_id == application.id)
    ).scalar_one_or_none()
    if outcome is None:
        return None
    result = final_result(session, procedure)
    drawn = (
        result.draw
        if result and result.draw and application.reference in result.draw.candidates
        else None
    )
    if not outcome.suitable:
        return ApplicantResult(outcome, "not_suitable", None, None)
    if result is None:
        return ApplicantResult(outcome, "not_placed", None, None)
    if application.reference in result.declined:
        return ApplicantResult(outcome, "declined", None, drawn)
    if application.reference in result.places:
        return ApplicantResult(outcome, "placed", None, drawn)
    if application.reference in result.reserve:
        position = result.reserve.index(application.reference) + 1
        return ApplicantResult(outcome, "reserve", position, drawn)
    return ApplicantResult(outcome, "not_placed", None, drawn)


def tell_results(session: Session, settings: Settings, procedure: Procedure) -> None:
    """E-mail every invited applicant that their result can be read, with the link."""
    round_ = scoring.load_round(session, procedure)
    for application in round_.applications:
        user = session.get(User, application.applicant_id)
        if user is None:
            continue
        mail.send(
            session,
            settings,
            to=user.email,
            subject=_("Result: %(procedure)s", procedure=procedure.title),
            body=_(
                "Dear %(name)s,\n\nThe result of %(procedure)s is published. Read your "
                "outcome, your scores per criterion with the committee's motivation and, if "
                "you were in a draw, its record (which you can verify yourself) at %(url)s",
                name=user.name,
                procedure=procedure.title,
                url=f"{settings.base_url}/applications/{application.reference}#result",
            ),
        )


def public_figures(session: Session, procedure: Procedure) -> dict[str, int] | None:
    """Aggregate figures for the public page, once the results are published."""
    if procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED):
        return None
    applied = session.execute(
        select(func.count())
        .select_from(Application)
        .where(
            Application.procedure_id == procedure.id,
            col(Application.status).in_(["submitted", "withdrawn"]),
        )
    ).scalar_one()
    round_ = scoring.load_round(session, procedure)
    ranked = candidates(session, procedure, round_)
    current = current_draw(session, procedure)
    drawn = current.candidates if current and current.status == DrawStatus.DRAWN else []
    # Erased applications (after the retention period) still count, anonymously.
    erased = procedure.erased_counts or {}
    return {
        "applicants": int(applied) + erased.get("submitted", 0) + erased.get("withdrawn", 0),
        "invited": len(round_.applications) + erased.get("invited", 0),
        "suitable": sum(1 for c in ranked if c.suitable) + erased.get("suitable", 0),
        "places": procedure.places,
        "drawn": len(drawn),
    }
