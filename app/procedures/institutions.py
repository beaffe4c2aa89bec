"""The institutions of a cluster procedure, with the places each offers, and the placement's
timeline: until when the suitable state their preferences, how long an offer stays open, and
the last round. A procedure with one institution (or none) places as it always did."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlmodel import Session

from app.audit.chain import format_time
from app.audit.service import record
from app.errors import Conflict, InvalidInput
from app.i18n import gettext as _
from app.procedures.corrections import arrow, checked_justification, correct, record_change
from app.procedures.models import Institution, Procedure
from app.procedures.queries import institutions
from app.procedures.vocabulary import Phase

# An institution's code, as the placement record publishes it: ASCII capitals, digits and
# dashes (UMCU, GV, RST-ARN).
CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,18}[A-Z0-9])?$")
MAX_CAPACITY = 500
MAX_ANSWER_HOURS = 14 * 24
MAX_ROUNDS = 10


def _refuse_after_results(procedure: Procedure) -> None:
    if procedure.phase in (Phase.RESULTS, Phase.ARCHIVED):
        raise Conflict(
            _(
                "The institutions and the placement's timeline are fixed once the results are "
                "published: the suitable candidates are choosing among them."
            )
        )


def add_institution(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    code: str,
    name: str,
    city: str,
    capacity: int,
    justification: str = "",
) -> Institution:
    _refuse_after_results(procedure)
    code = code.strip().upper()
    if not CODE.match(code):
        raise InvalidInput(
            _(
                "The code is 1 to 20 capital letters (A-Z), digits (0-9) and dashes, as in "
                "UMCU or RST-ARN."
            ),
            field="institution_code",
        )
    name, city = name.strip(), city.strip()
    if not name or len(name) > 200:
        raise InvalidInput(_("Give the institution's name (at most 200 characters)."),
                           field="institution_name")  # fmt: skip
    if len(city) > 100:
        raise InvalidInput(_("The city is at most 100 characters."), field="institution_city")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise InvalidInput(
            _("An institution offers 1 to %(max)s places.", max=MAX_CAPACITY),
            field="institution_capacity",
        )
    present = institutions(session, procedure)
    if any(i.code == code for i in present):
        raise Conflict(
            _("This procedure has an institution with code %(code)s already.", code=code),
            field="institution_code",
        )
    why = checked_justification(procedure, justification)
    assert procedure.id is not None
    institution = Institution(
        procedure_id=procedure.id,
        code=code,
        name=name,
        city=city,
        capacity=capacity,
        position=max((i.position for i in present), default=0) + 1,
    )
    session.add(institution)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="institution.added",
        subject=f"procedure:{procedure.reference}",
        data={"code": code, "name": name, "city": city, "capacity": capacity},
    )
    correct(
        session, procedure, actor, subject="places", justification=why,
        text=_("Institution added: %(name)s (%(code)s), %(capacity)s places",
               name=name, code=code, capacity=capacity),
    )  # fmt: skip
    session.commit()
    return institution


def remove_institution(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    institution_id: int,
    justification: str = "",
) -> None:
    _refuse_after_results(procedure)
    institution = session.get(Institution, institution_id)
    if institution is None or institution.procedure_id != procedure.id:
        raise InvalidInput(_("This institution is not part of this procedure (any more)."))
    why = checked_justification(procedure, justification)
    session.delete(institution)
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="institution.removed",
        subject=f"procedure:{procedure.reference}",
        data={"code": institution.code},
    )
    correct(
        session, procedure, actor, subject="places", justification=why,
        text=_("Institution removed: %(name)s (%(code)s)",
               name=institution.name, code=institution.code),
    )  # fmt: skip
    session.commit()


def set_placement(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    preference_deadline: datetime | None,
    answer_hours: int,
    last_round: int,
    justification: str = "",
    format_time: Callable[[datetime], str] = format_time,
) -> None:
    """The placement's timeline; the guideline check says when the deadline does not come
    after the final result. `format_time` writes a moment in the published correction."""
    _refuse_after_results(procedure)
    if not 1 <= answer_hours <= MAX_ANSWER_HOURS:
        raise InvalidInput(
            _("An offer is answered within 1 to %(max)s hours.", max=MAX_ANSWER_HOURS),
            field="answer_hours",
        )
    if not 1 <= last_round <= MAX_ROUNDS:
        raise InvalidInput(
            _("The placement has 1 to %(max)s rounds.", max=MAX_ROUNDS), field="last_round"
        )
    new = {
        "preference_deadline": preference_deadline,
        "answer_hours": answer_hours,
        "last_round": last_round,
    }
    changed = {key: value for key, value in new.items() if getattr(procedure, key) != value}
    if not changed:
        return
    why = checked_justification(procedure, justification)

    def shown(value: object) -> object:
        return format_time(value) if isinstance(value, datetime) else value

    text = "\n".join(
        f"{_LABELS[key]()}: {arrow(shown(getattr(procedure, key)), shown(value))}"
        for key, value in changed.items()
    )
    for key, value in changed.items():
        setattr(procedure, key, value)
    correct(session, procedure, actor, subject="timeline", text=text, justification=why)
    fields: dict[str, object] = {"fields": sorted(changed), **changed}
    record_change(session, procedure, actor, fields)


_LABELS = {
    "preference_deadline": lambda: _("Preference deadline"),
    "answer_hours": lambda: _("Hours to answer an offer"),
    "last_round": lambda: _("Last placement round"),
}
