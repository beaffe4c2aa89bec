"""The life cycle's steps: by an admin's click or by the clock at the published times."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from app.accounts import mail
from app.audit import service as audit
from app.audit.chain import format_time
from app.audit.service import record
from app.conduct.facts import facts_for
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, DomainError, InvalidInput
from app.i18n import gettext as _
from app.lottery import results
from app.oversight import report_pdf
from app.procedures import checks, lifecycle
from app.procedures.models import Procedure
from app.procedures.queries import lock_procedure
from app.procedures.vocabulary import Phase

# The phases in which the round report is read: the PDF is made as the round enters them.
REPORT_READ_IN = frozenset({Phase.DELIBERATION, Phase.RESULTS, Phase.ARCHIVED})


def transition(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    action: str,
    now: datetime | None = None,
    format_time: Callable[[datetime], str] = str,
    settings: Settings | None = None,
    data: Mapping[str, object] | None = None,
) -> int:
    """Take one step of the life cycle, after checking its preconditions; returns how many
    people were e-mailed. The phase is read again under the procedure's row lock (the write
    transaction on SQLite), so an admin's click and the scheduled job never both take the
    same step."""
    step = lifecycle.BY_ACTION.get(action)
    if step is None:
        raise InvalidInput(_("This step does not exist."))
    lock_procedure(session, procedure)
    moment = now or utcnow()
    facts = facts_for(session, procedure)
    reasons = lifecycle.blockers(step, procedure.phase, facts, moment, format_time)
    if reasons:
        raise Conflict(" ".join(reasons))
    entry: dict[str, object] = {"from": procedure.phase, "to": step.target.value, **(data or {})}
    if step.action == "publish":
        procedure.published_at = moment
        warnings = [f.check for f in checks.run(facts, moment)]
        procedure.published_warnings = warnings
        entry |= {"rubric_hash": procedure.rubric_hash, "warnings": warnings}
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action=f"procedure.{step.target.value}",
        subject=f"procedure:{procedure.reference}",
        data=entry,
    )
    procedure.phase = step.target.value
    procedure.updated_at = utcnow()
    # Every phase change is signed: a checkpoint anyone can hold the chain to later.
    audit.checkpoint(session, procedure.reference)
    told = 0
    if step.action == "publish_results" and settings is not None:
        told = results.tell_results(session, settings, procedure)
    if procedure.rubric_hash and procedure.phase in REPORT_READ_IN:
        report_pdf.prepare(session, procedure)  # off the request path, ready when asked
    session.commit()
    return told


# The steps that mail people or cannot be undone ask for a confirmation first.
CONFIRMED_STEPS = frozenset({"publish_results"})


def preview(
    session: Session,
    settings: Settings,
    *,
    procedure: Procedure,
    action: str,
    now: datetime | None = None,
    format_time: Callable[[datetime], str] = str,
) -> list[mail.Letter]:
    """What taking the step would send, after checking it can be taken now (refused with
    the same reasons as the step itself). Writes nothing."""
    step = lifecycle.BY_ACTION.get(action)
    if step is None:
        raise InvalidInput(_("This step does not exist."))
    reasons = lifecycle.blockers(
        step, procedure.phase, facts_for(session, procedure), now or utcnow(), format_time
    )
    if reasons:
        raise Conflict(" ".join(reasons))
    if step.action == "publish_results":
        return results.result_letters(session, settings, procedure)
    return []


def due_by_the_clock(session: Session, now: datetime) -> list[int]:
    """The procedures whose published opening time or deadline has passed while their stored
    phase has not followed yet (a cheap read; the job then takes the steps under a lock)."""
    rows = session.execute(
        select(Procedure.id)
        .where(
            or_(
                and_(
                    col(Procedure.phase) == Phase.PUBLISHED,
                    col(Procedure.opens_at).is_not(None),
                    col(Procedure.opens_at) <= now,
                ),
                and_(
                    col(Procedure.phase) == Phase.OPEN,
                    col(Procedure.closes_at).is_not(None),
                    col(Procedure.closes_at) <= now,
                ),
            )
        )
        .order_by(col(Procedure.id))
    ).scalars()
    return [int(row) for row in rows]


def follow_the_clock(
    session: Session, procedure_ids: list[int], now: datetime | None = None
) -> list[tuple[str, str]]:
    """Open and close the given procedures as their published times say, recorded in each
    chain with the actor `system` and the published time. Idempotent: each step is decided
    again under the row lock, so several workers running this at once take it once.
    Returns the (reference, action) pairs taken."""
    moment = now or utcnow()
    taken: list[tuple[str, str]] = []
    for procedure_id in procedure_ids:
        procedure = session.get(Procedure, procedure_id)
        while procedure is not None:
            lock_procedure(session, procedure)
            step = lifecycle.clock_step(procedure, moment)
            if step is None:
                session.commit()  # let the lock go
                break
            published = procedure.opens_at if step.action == "open" else procedure.closes_at
            assert published is not None
            try:
                transition(
                    session,
                    actor="system",
                    procedure=procedure,
                    action=step.action,
                    now=moment,
                    data={"scheduled": format_time(published)},
                )
            except DomainError:
                session.rollback()
                break
            taken.append((procedure.reference, step.action))
    return taken
