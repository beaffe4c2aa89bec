"""The suitable candidates' preferences: which institutions they accept, most wanted first.

A candidate found suitable states (and reorders) their list on their application page from
the publication of the results until the published preference deadline; an institution left
off is one they do not want, and an empty list means no place at all. At the deadline the
lists are fixed: their SHA-256 go into the procedure's chain before the priority is known
(the ordering draw comes after it), so nobody can tune the order to the draw. Only the
candidate reads their own list; committee members never do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_
from sqlmodel import Session, col, select

from app.applications.models import Application
from app.applications.vocabulary import ApplicationStatus
from app.audit.chain import canonical_json, format_time
from app.audit.service import actor_id, record
from app.db import utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import gettext as _
from app.placement import match, messages
from app.placement.models import PreferenceList
from app.procedures.models import Institution, Procedure
from app.procedures.queries import institutions, lock_procedure
from app.procedures.vocabulary import Phase
from app.scoring.models import JointOutcome


def is_cluster(places: list[Institution]) -> bool:
    """Preferences and a match only where there is a choice: two institutions or more."""
    return len(places) >= 2


def list_hash(codes: list[str]) -> str:
    """Lowercase hex SHA-256 of the list's canonical JSON, as the chain holds it."""
    return hashlib.sha256(canonical_json(list(codes)).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Choice:
    """What the application page shows about the candidate's preferences."""

    institutions: list[Institution]
    codes: list[str]  # the stated list, most wanted first
    open: bool  # may still be changed
    fixed: bool  # fixed at the deadline and chained

    @property
    def listed(self) -> list[Institution]:
        by_code = {i.code: i for i in self.institutions}
        return [by_code[code] for code in self.codes if code in by_code]

    @property
    def left_off(self) -> list[Institution]:
        return [i for i in self.institutions if i.code not in self.codes]


def _suitable(session: Session, application: Application) -> bool:
    outcome = session.execute(
        select(JointOutcome).where(JointOutcome.application_id == application.id)
    ).scalar_one_or_none()
    return outcome is not None and outcome.suitable


def stored(session: Session, application: Application) -> PreferenceList | None:
    return session.execute(
        select(PreferenceList).where(PreferenceList.application_id == application.id)
    ).scalar_one_or_none()


def choice_for(
    session: Session, procedure: Procedure, application: Application, now: datetime | None = None
) -> Choice | None:
    """The candidate's preferences, or None where this application has none to state: not a
    cluster, results not published, or not found suitable."""
    places = institutions(session, procedure)
    if not is_cluster(places) or procedure.phase not in (Phase.RESULTS, Phase.ARCHIVED):
        return None
    if application.status != ApplicationStatus.SUBMITTED or not _suitable(session, application):
        return None
    moment = now or utcnow()
    kept = stored(session, application)
    fixed = procedure.preferences_fixed_at is not None
    deadline = procedure.preference_deadline
    is_open = (
        not fixed
        and procedure.phase == Phase.RESULTS
        and deadline is not None
        and moment < deadline
    )
    return Choice(places, list(kept.codes) if kept else [], is_open, fixed)


def save(
    session: Session,
    *,
    procedure: Procedure,
    application: Application,
    codes: list[str],
    now: datetime | None = None,
) -> list[str]:
    """Store the candidate's list as given (most wanted first); refused after the deadline,
    with an unknown or repeated institution, or for someone with no list to state."""
    moment = now or utcnow()
    choice = choice_for(session, procedure, application, moment)
    if choice is None:
        raise Conflict(_("There are no preferences to state for this application."))
    if not choice.open:
        raise Conflict(
            _("The preference deadline has passed: your list is fixed as it was then.")
            if choice.fixed or procedure.preference_deadline
            else _("The preference deadline has not been published yet.")
        )
    if codes:
        try:
            match.validate_list({i.code for i in choice.institutions}, application.reference,
                                codes)  # fmt: skip
        except match.PlacementError as error:
            raise InvalidInput(messages.error_message(error), field="preferences") from error
    kept = stored(session, application)
    if kept is None:
        assert procedure.id is not None and application.id is not None
        kept = PreferenceList(procedure_id=procedure.id, application_id=application.id)
        session.add(kept)
    elif list(kept.codes) == codes:
        return codes
    kept.codes = list(codes)
    kept.updated_at = moment
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(application.applicant_id),
        action="preferences.stated",
        subject=f"application:{application.reference}",
        data={"sha256": list_hash(codes), "count": len(codes)},
    )
    session.commit()
    return codes


def suitable_count(session: Session, procedure: Procedure) -> int:
    """How many candidates were found suitable (and did not withdraw): who may state a list."""
    count = session.execute(
        select(func.count())
        .select_from(JointOutcome)
        .join(Application, col(Application.id) == col(JointOutcome.application_id))
        .where(
            Application.procedure_id == procedure.id,
            col(JointOutcome.suitable).is_(True),
            Application.status == ApplicationStatus.SUBMITTED,
        )
    ).scalar_one()
    return int(count)


def fixed_lists(session: Session, procedure: Procedure) -> dict[str, list[str]]:
    """Every suitable candidate's list by application reference (empty: no place wanted)."""
    rows = session.execute(
        select(Application.reference, PreferenceList.codes)
        .join(PreferenceList, col(PreferenceList.application_id) == col(Application.id))
        .where(PreferenceList.procedure_id == procedure.id)
        .order_by(col(Application.reference))
    ).all()
    return {reference: list(codes) for reference, codes in rows}


def fix(session: Session, procedure: Procedure, now: datetime | None = None) -> bool:
    """At the deadline: chain every list's SHA-256 (by reference, in reference order) and
    close the lists. Idempotent; returns whether it fixed them now."""
    moment = now or utcnow()
    lock_procedure(session, procedure)
    deadline = procedure.preference_deadline
    if procedure.preferences_fixed_at is not None or deadline is None or moment < deadline:
        session.commit()
        return False
    lists = fixed_lists(session, procedure)
    procedure.preferences_fixed_at = moment
    record(
        session,
        chain=procedure.reference,
        actor="system",
        action="preferences.fixed",
        subject=f"procedure:{procedure.reference}",
        data={
            "deadline": format_time(deadline),
            "lists": {ref: list_hash(codes) for ref, codes in lists.items() if codes},
            "without_list": sorted(ref for ref, codes in lists.items() if not codes),
        },
    )
    session.commit()
    return True


def due(session: Session, now: datetime) -> list[int]:
    """Procedures whose preference deadline has passed with their lists not fixed yet."""
    rows = session.execute(
        select(Procedure.id).where(
            and_(
                col(Procedure.preference_deadline).is_not(None),
                col(Procedure.preference_deadline) <= now,
                col(Procedure.preferences_fixed_at).is_(None),
                or_(col(Procedure.phase) == Phase.RESULTS, col(Procedure.phase) == Phase.ARCHIVED),
            )
        )
    ).scalars()
    return [int(row) for row in rows]
