"""The ceremony of a draw: the contributors' commitments, the announcement (chained before
any secret is known), the reveals, the beacon, and the draw itself.

Contributors, in this order: the observer, the chair, and the platform, whose secret is
made when the draw is prepared and kept until the draw."""

from __future__ import annotations

import hashlib

from sqlmodel import Session

from app.audit.service import actor_id, checkpoint, record
from app.db import utcnow
from app.errors import Conflict, Forbidden, InvalidInput
from app.i18n import gettext as _
from app.i18n import ngettext
from app.lottery import draw as drawlib
from app.lottery.draws import announced_record, contributors, platform_secret_of, rank
from app.lottery.models import Draw, DrawContributor
from app.lottery.results import matches
from app.lottery.vocabulary import DrawPurpose, DrawStatus
from app.procedures.models import Procedure, ProcedureMember

MAX_SECRET = 200


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


def announce(
    session: Session, *, actor: str, procedure: Procedure, draw: Draw, beacon_name: str
) -> None:
    """Fix the draw before any secret is known, and chain it."""
    if draw.status != DrawStatus.PREPARING:
        raise Conflict(_("This draw has been announced already."))
    missing = [c.name for c in contributors(session, draw) if not c.commitment]
    if missing:
        raise Conflict(_("Waiting for the commitment of: %(names)s.", names=", ".join(missing)))
    tie = draw.purpose == DrawPurpose.TIE
    ranked = rank(session, procedure) if tie else None
    if ranked is not None and not matches(draw, ranked):
        raise Conflict(
            ngettext(
                "The ranking changed since this draw was prepared: the candidates tied at the "
                "last place are now %(tie)s for %(num)s place. Void this draw and prepare a "
                "new one.",
                "The ranking changed since this draw was prepared: the candidates tied at the "
                "last place are now %(tie)s for %(num)s places. Void this draw and prepare a "
                "new one.",
                ranked.tie_places,
                tie=", ".join(ranked.tie) or "—",
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
    if tie and not matches(draw, rank(session, procedure)):
        raise Conflict(
            _(
                "An outcome changed while the draw was being announced: the candidates tied "
                "at the last place are no longer this draw's. Void it and prepare a new one."
            )
        )
    checkpoint(session, procedure.reference)  # the announcement, signed before any reveal
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
    if draw.beacon_value:
        raise Conflict(_("The beacon's value has been entered by two people already."))
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()
    subject = f"draw:{draw.draw_id}"
    if draw.beacon_pending_sha256 is None:
        # The first of two: kept until a second person enters the same value.
        draw.beacon_pending_sha256, draw.beacon_pending_by = digest, actor
        record(
            session, chain=procedure.reference, actor=actor, action="draw.beacon_entered",
            subject=subject, data={"name": draw.beacon_name, "sha256": digest},
        )  # fmt: skip
        session.commit()
        return
    if draw.beacon_pending_by == actor:
        raise Conflict(
            _(
                "You entered the beacon's value already: a second person enters it too, from "
                "where its name says, so that no one alone decides it."
            )
        )
    first = draw.beacon_pending_by
    if digest != draw.beacon_pending_sha256:
        draw.beacon_pending_sha256, draw.beacon_pending_by = None, None
        record(
            session, chain=procedure.reference, actor=actor, action="draw.beacon_differs",
            subject=subject, data={"name": draw.beacon_name, "sha256": digest, "first": first},
        )  # fmt: skip
        session.commit()
        raise InvalidInput(
            _(
                "The two values differ, so neither counts: both of you look the value up again "
                "where the beacon's name says and enter it once more."
            ),
            field="value",
        )
    draw.beacon_value = value
    draw.beacon_pending_sha256, draw.beacon_pending_by = None, None
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="draw.beacon",
        subject=subject,
        data={
            "name": draw.beacon_name,
            "value": value,
            "how": "entered by two people",
            "entered_by": [first, actor],
        },
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
            party.secret, party.revealed_at = platform_secret_of(draw), utcnow()
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
    checkpoint(session, procedure.reference)
