"""The placement's rounds: each computed exactly by shared/spec/placement.md, chained and
published; the offers it makes, answered online before the round's deadline; the next round
once every offer of the last is answered or has lapsed; and the close.

An accepted offer holds for that place or a better one on the candidate's own list: a later
round can only move a candidate up (the spec's "upgrade"), and such a move needs no new
answer. An offer not answered before its deadline lapses and counts as declined, as the
offer says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.service import users_by_id
from app.applications.models import Application
from app.applications.vocabulary import ApplicationStatus
from app.audit.chain import format_time
from app.audit.service import actor_id, checkpoint, checkpoint_note, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import gettext as _
from app.i18n import ngettext
from app.placement import match, preferences, priority
from app.placement.labels import offer_status_label
from app.placement.models import PlacementOffer, PlacementRound
from app.placement.vocabulary import OfferStatus
from app.procedures.models import Institution, Procedure
from app.procedures.queries import institutions, lock_procedure
from app.procedures.vocabulary import Phase
from app.web import local_time

GONE = (OfferStatus.DECLINED, OfferStatus.LAPSED)


def rounds(session: Session, procedure: Procedure) -> list[PlacementRound]:
    return list(
        session.execute(
            select(PlacementRound)
            .where(PlacementRound.procedure_id == procedure.id)
            .order_by(col(PlacementRound.number))
        ).scalars()
    )


def offers(session: Session, round_: PlacementRound) -> list[PlacementOffer]:
    return list(
        session.execute(
            select(PlacementOffer)
            .where(PlacementOffer.round_id == round_.id)
            .order_by(col(PlacementOffer.id))
        ).scalars()
    )


def _applications(session: Session, procedure: Procedure) -> dict[str, Application]:
    rows = session.execute(select(Application).where(Application.procedure_id == procedure.id))
    return {a.reference: a for a in rows.scalars()}


def is_open(offer: PlacementOffer, round_: PlacementRound, now: datetime) -> bool:
    return offer.status == OfferStatus.OPEN and now < round_.answers_due


@dataclass(frozen=True)
class State:
    """The placement as one page reads it."""

    institutions: list[Institution]
    priority: priority.Priority
    rounds: list[PlacementRound]
    offers: list[PlacementOffer]  # the last round's
    closed_at: datetime | None

    @property
    def last(self) -> PlacementRound | None:
        return self.rounds[-1] if self.rounds else None

    def waiting(self, now: datetime) -> list[PlacementOffer]:
        last = self.last
        return [o for o in self.offers if last and is_open(o, last, now)]

    def gone(self, now: datetime) -> list[PlacementOffer]:
        """The last round's declined offers, and the open ones past their deadline."""
        last = self.last
        return [
            o
            for o in self.offers
            if o.status in GONE
            or (last and o.status == OfferStatus.OPEN and now >= last.answers_due)
        ]

    def counts(self) -> dict[str, int]:
        found = {status.value: 0 for status in OfferStatus}
        for offer in self.offers:
            found[offer.status] += 1
        return found


def state(session: Session, procedure: Procedure) -> State:
    every = rounds(session, procedure)
    return State(
        institutions(session, procedure),
        priority.load(session, procedure),
        every,
        offers(session, every[-1]) if every else [],
        procedure.placement_closed_at,
    )


def _require_running(procedure: Procedure) -> None:
    if procedure.phase != Phase.RESULTS:
        raise Conflict(_("The placement runs while the results are published."))
    if procedure.placement_closed_at is not None:
        raise Conflict(_("The placement is closed: its last round is final."))


def publish_next(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    now: datetime | None = None,
) -> PlacementRound:
    """Round 1 once the priority is known; a later round once every offer of the last one is
    answered or has lapsed, with the decliners withdrawn. Chained, signed and mailed."""
    moment = now or utcnow()
    lock_procedure(session, procedure)
    _require_running(procedure)
    current = state(session, procedure)
    if not preferences.is_cluster(current.institutions):
        raise Conflict(_("A placement needs two institutions or more."))
    last = current.last
    if last is None:
        if procedure.preferences_fixed_at is None:
            raise Conflict(
                _(
                    "The first round is computed after the preference deadline, once the lists "
                    "are fixed."
                )
            )
        if not current.priority.lists:
            raise Conflict(_("No suitable candidate stated a list: there is nobody to place."))
        if not current.priority.ready:
            raise Conflict(
                _("The order of priority is not known yet: hold the ordering draw first.")
            )
        order, source = current.priority.order()
        made = match.record(
            priority.placement_id(procedure),
            [match.Institution(i.code, i.capacity) for i in current.institutions],
            source,
            order,
            {ref: current.priority.lists[ref] for ref in order},
        )
    else:
        waiting = current.waiting(moment)
        if waiting:
            raise Conflict(
                ngettext(
                    "%(num)s offer of round %(round)s is still open until %(due)s: the next "
                    "round is computed once every offer is answered or has lapsed.",
                    "%(num)s offers of round %(round)s are still open until %(due)s: the next "
                    "round is computed once every offer is answered or has lapsed.",
                    len(waiting),
                    round=last.number,
                    due=local_time(last.answers_due),
                )
            )
        if last.number >= procedure.last_round:
            raise Conflict(
                _(
                    "Round %(round)s was the last published round: close the placement.",
                    round=last.number,
                )
            )
        refs = _references(session, [o.application_id for o in current.gone(moment)])
        if not refs:
            raise Conflict(
                _(
                    "Nobody declined in round %(round)s: close the placement, the round is final.",
                    round=last.number,
                )
            )
        _lapse(session, current, moment)
        made = match.next_round(last.record, refs)
    assert procedure.id is not None
    published = PlacementRound(
        procedure_id=procedure.id,
        number=int(made["round"]),
        record=made,
        published_at=moment,
        answers_due=moment + timedelta(hours=procedure.answer_hours),
    )
    session.add(published)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="placement.round",
        subject=f"placement:{made['placement_id']}",
        data={"record": made, "answers_due": format_time(published.answers_due)},
    )
    letters = _make_offers(session, settings, procedure, published, current.offers, moment)
    note = checkpoint_note(session, settings.base_url, procedure.reference, sign=True)
    for letter in letters:
        mail.deliver(session, settings, replace(letter, body=letter.body + note))
    session.commit()
    return published


def _references(session: Session, application_ids: Sequence[int]) -> list[str]:
    if not application_ids:
        return []
    return list(
        session.execute(
            select(Application.reference).where(col(Application.id).in_(application_ids))
        ).scalars()
    )


def _lapse(session: Session, current: State, moment: datetime) -> None:
    for offer in current.offers:
        if offer.status == OfferStatus.OPEN:
            offer.status = OfferStatus.LAPSED
            offer.answered_at = moment


def _make_offers(
    session: Session,
    settings: Settings,
    procedure: Procedure,
    published: PlacementRound,
    before: list[PlacementOffer],
    moment: datetime,
) -> list[mail.Letter]:
    """An offer for every placed candidate: kept as accepted where an accepted place stays or
    improves; open otherwise. The letters say what changed for whom."""
    assert published.id is not None and procedure.id is not None
    apps = _applications(session, procedure)
    accepted = {o.application_id: o for o in before if o.status == OfferStatus.ACCEPTED}
    names = {i.code: i.name for i in institutions(session, procedure)}
    users = users_by_id(session, (a.applicant_id for a in apps.values()))
    letters: list[mail.Letter] = []
    assignment: dict[str, str | None] = published.record["assignment"]
    for ref, code in assignment.items():
        application = apps.get(ref)
        if application is None or application.id is None:
            continue
        user = users.get(application.applicant_id)
        url = f"{settings.base_url}/applications/{ref}#placement"
        held = accepted.get(application.id)
        if code is None:
            if user and published.number == 1:
                letters.append(_letter(user.email, procedure, application.id, _(
                    "Dear %(name)s,\n\nRound %(round)s of the placement of %(procedure)s is "
                    "published. There is no place for you in this round on your list. If a "
                    "candidate before you declines, a later round may still place you. Read "
                    "the round at %(url)s",
                    name=user.name, round=published.number, procedure=procedure.title, url=url,
                )))  # fmt: skip
            continue
        status = OfferStatus.OPEN
        if application.status != ApplicationStatus.SUBMITTED:
            status = OfferStatus.DECLINED  # withdrew after the lists were fixed
        elif held is not None:
            status = OfferStatus.ACCEPTED
        session.add(
            PlacementOffer(
                round_id=published.id,
                procedure_id=procedure.id,
                application_id=application.id,
                code=code,
                status=status,
                answered_at=held.answered_at
                if held is not None and status == OfferStatus.ACCEPTED
                else None,
            )
        )
        if user is None or status == OfferStatus.DECLINED:
            continue
        place = f"{names.get(code, code)} ({code})"
        if status == OfferStatus.OPEN:
            letters.append(_letter(user.email, procedure, application.id, _(
                "Dear %(name)s,\n\nRound %(round)s of the placement of %(procedure)s offers "
                "you a training place at %(place)s. Accept or decline it at %(url)s before "
                "%(due)s. An offer not answered by then counts as declined, and declining "
                "means you leave the placement.",
                name=user.name, round=published.number, procedure=procedure.title,
                place=place, url=url, due=local_time(published.answers_due),
            )))  # fmt: skip
        elif held is not None and held.code != code:
            letters.append(_letter(user.email, procedure, application.id, _(
                "Dear %(name)s,\n\nIn round %(round)s of the placement of %(procedure)s a "
                "place higher on your own list became free: your place is now %(place)s. You "
                "accepted a place earlier, which holds for a better one on your list too, so "
                "there is nothing to answer. Read the round at %(url)s",
                name=user.name, round=published.number, procedure=procedure.title,
                place=place, url=url,
            )))  # fmt: skip
    session.flush()
    return letters


def _letter(to: str, procedure: Procedure, about: int, body: str) -> mail.Letter:
    return mail.Letter(
        to=to,
        subject=_("Placement: %(procedure)s", procedure=procedure.title),
        body=body,
        about=about,
    )


@dataclass(frozen=True)
class MyPlacement:
    """What a candidate's page shows of the placement."""

    round: PlacementRound
    offer: PlacementOffer | None  # their offer in the last round
    institution: Institution | None
    open: bool  # the offer can still be answered
    withdrawn: bool  # declined (or lapsed) in an earlier round
    closed: bool
    unplaced: bool  # in the last round's record without a place

    @property
    def statement(self) -> bool:
        """A candidate found suitable but not placed, once the placement is closed."""
        return self.closed and self.unplaced


def mine(
    session: Session, procedure: Procedure, application: Application, now: datetime | None = None
) -> MyPlacement | None:
    """The candidate's offer and where the placement stands, once a round is published."""
    every = rounds(session, procedure)
    if not every or application.id is None:
        return None
    last = every[-1]
    ref = application.reference
    if ref not in last.record.get("priority", []):
        return None
    offer = session.execute(
        select(PlacementOffer).where(
            PlacementOffer.round_id == last.id, PlacementOffer.application_id == application.id
        )
    ).scalar_one_or_none()
    by_code = {i.code: i for i in institutions(session, procedure)}
    moment = now or utcnow()
    closed = procedure.placement_closed_at is not None
    return MyPlacement(
        last,
        offer,
        by_code.get(offer.code) if offer else None,
        offer is not None and not closed and is_open(offer, last, moment),
        ref in last.record.get("withdrawn", []),
        closed,
        ref in last.record.get("unplaced", []),
    )


def answer(
    session: Session,
    settings: Settings,
    *,
    procedure: Procedure,
    application: Application,
    accept: bool,
    now: datetime | None = None,
) -> PlacementOffer:
    """The candidate accepts or declines the offer of the last round, before its deadline."""
    moment = now or utcnow()
    lock_procedure(session, procedure)
    _require_running(procedure)
    found = mine(session, procedure, application, moment)
    if found is None or found.offer is None:
        raise Conflict(_("There is no offer of a place for this application."))
    offer = found.offer
    if offer.status != OfferStatus.OPEN:
        raise Conflict(
            _(
                "You answered this offer already: %(answer)s.",
                answer=offer_status_label(offer.status),
            )
        )
    if not found.open:
        raise Conflict(
            _(
                "The deadline to answer this offer passed at %(due)s: it counts as declined.",
                due=local_time(found.round.answers_due),
            )
        )
    offer.status = OfferStatus.ACCEPTED if accept else OfferStatus.DECLINED
    offer.answered_at = moment
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(application.applicant_id),
        action="placement.accepted" if accept else "placement.declined",
        subject=f"application:{application.reference}",
        data={"round": found.round.number, "code": offer.code},
    )
    session.commit()
    return offer


def close(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    now: datetime | None = None,
) -> None:
    """The last round is final: after a round without declines, or at the published last
    round. Everyone in the placement is told where they stand."""
    moment = now or utcnow()
    lock_procedure(session, procedure)
    _require_running(procedure)
    current = state(session, procedure)
    last = current.last
    if last is None:
        raise Conflict(_("No round is published yet: there is nothing to close."))
    waiting = current.waiting(moment)
    if waiting:
        raise Conflict(
            ngettext(
                "%(num)s offer of round %(round)s is still open until %(due)s: close the "
                "placement once every offer is answered or has lapsed.",
                "%(num)s offers of round %(round)s are still open until %(due)s: close the "
                "placement once every offer is answered or has lapsed.",
                len(waiting),
                round=last.number,
                due=local_time(last.answers_due),
            )
        )
    gone = current.gone(moment)
    if gone and last.number < procedure.last_round:
        raise Conflict(
            ngettext(
                "%(num)s candidate declined in round %(round)s: compute round %(next)s first, "
                "so that the freed place goes down the order.",
                "%(num)s candidates declined in round %(round)s: compute round %(next)s first, "
                "so that the freed places go down the order.",
                len(gone),
                round=last.number,
                next=last.number + 1,
            )
        )
    _lapse(session, current, moment)
    procedure.placement_closed_at = moment
    kept = {o.application_id: o.code for o in current.offers if o.status == OfferStatus.ACCEPTED}
    apps = _applications(session, procedure)
    by_id = {a.id: a for a in apps.values()}
    placed = {by_id[i].reference: code for i, code in kept.items() if i in by_id}
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="placement.closed",
        subject=f"placement:{last.record['placement_id']}",
        data={
            "round": last.number,
            "placed": {ref: placed[ref] for ref in match.by_bytes(placed)},
            "unplaced": list(last.record["unplaced"]),
        },
    )
    checkpoint(session, procedure.reference)
    users = users_by_id(session, (a.applicant_id for a in apps.values()))
    note = checkpoint_note(session, settings.base_url, procedure.reference)
    names = {i.code: i.name for i in current.institutions}
    for ref in last.record["assignment"]:
        application = apps.get(ref)
        user = users.get(application.applicant_id) if application else None
        if application is None or user is None:
            continue
        url = f"{settings.base_url}/applications/{ref}#placement"
        if ref in placed:
            body = _(
                "Dear %(name)s,\n\nThe placement of %(procedure)s is closed. Your training "
                "place is %(place)s. Read the placement's rounds at %(url)s",
                name=user.name, procedure=procedure.title,
                place=f"{names.get(placed[ref], placed[ref])} ({placed[ref]})", url=url,
            )  # fmt: skip
        elif ref in last.record["unplaced"]:
            body = _(
                "Dear %(name)s,\n\nThe placement of %(procedure)s is closed. You were found "
                "suitable, but no place on your list remained for you. Your page has a "
                "statement (PDF) that says so, for a later procedure: %(url)s",
                name=user.name, procedure=procedure.title, url=url,
            )  # fmt: skip
        else:
            continue
        mail.deliver(
            session, settings, _letter(user.email, procedure, application.id or 0, body + note)
        )
    session.commit()


def published(session: Session, procedure: Procedure) -> list[dict[str, Any]]:
    """Every published round's record: references only, as the spec publishes them."""
    return [dict(r.record) for r in rounds(session, procedure)]


def record_of(
    session: Session, placement_id: str, number: int
) -> tuple[Procedure | None, dict[str, Any] | None]:
    """A published round by placement id and number, with its procedure."""
    found = session.execute(
        select(PlacementRound, Procedure)
        .join(Procedure, col(Procedure.id) == col(PlacementRound.procedure_id))
        .where(PlacementRound.number == number)
    ).all()
    for round_, procedure in found:
        if round_.record.get("placement_id") == placement_id:
            return procedure, dict(round_.record)
    return None, None


def check_answer(value: str) -> bool:
    if value not in ("accept", "decline"):
        raise InvalidInput(_("Choose to accept or to decline the offer."), field="answer")
    return value == "accept"
