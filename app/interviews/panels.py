"""The committee in panels. With panels, each panel interviews and scores the applicants
booked with it (app/scoring/round.py); without, every scoring member scores every invited
applicant, as before. Panels are set up before the interviews start, and fixed from then."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.audit.service import record
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.interviews.models import InterviewSlot, Panel, PanelMember
from app.permissions import SCORING_ROLES
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase

SETUP_PHASES = (Phase.DRAFT, Phase.PUBLISHED, Phase.OPEN, Phase.CLOSED, Phase.LETTER_ROUND)


@dataclass(frozen=True)
class Seat:
    panel: Panel
    members: list[ProcedureMember]


def panels(session: Session, procedure: Procedure) -> list[Panel]:
    return list(
        session.execute(
            select(Panel)
            .where(Panel.procedure_id == procedure.id)
            .order_by(col(Panel.position), col(Panel.id))
        ).scalars()
    )


def seats(session: Session, procedure: Procedure) -> list[Seat]:
    """Every panel with its members, in order: two queries."""
    every = panels(session, procedure)
    rows = session.execute(
        select(PanelMember.panel_id, ProcedureMember)
        .join(ProcedureMember, col(ProcedureMember.id) == col(PanelMember.member_id))
        .where(col(PanelMember.panel_id).in_([p.id for p in every]))
        .order_by(col(ProcedureMember.id))
    ).all()
    by_panel: dict[int, list[ProcedureMember]] = {}
    for panel_id, member in rows:
        by_panel.setdefault(panel_id, []).append(member)
    return [Seat(p, by_panel.get(p.id or 0, [])) for p in every]


def panel_of_members(session: Session, procedure: Procedure) -> dict[int, int]:
    """Member id -> panel id, for the members who sit on a panel."""
    rows = session.execute(
        select(PanelMember.member_id, PanelMember.panel_id)
        .join(Panel, col(Panel.id) == col(PanelMember.panel_id))
        .where(Panel.procedure_id == procedure.id)
    ).all()
    return {int(member): int(panel) for member, panel in rows}


def _refuse_after_setup(procedure: Procedure) -> None:
    if procedure.phase not in SETUP_PHASES:
        raise Conflict(_("The panels are fixed once the interviews start."), field="panels")


def get_panel(session: Session, procedure: Procedure, panel_id: int) -> Panel:
    panel = session.get(Panel, panel_id)
    if panel is None or panel.procedure_id != procedure.id:
        raise NotFound(_("This page does not exist."))
    return panel


def add_panel(session: Session, *, actor: str, procedure: Procedure, name: str) -> Panel:
    _refuse_after_setup(procedure)
    name = " ".join(name.split())
    if not name or len(name) > 80:
        raise InvalidInput(_("Name the panel in at most 80 characters."), field="panel_name")
    present = panels(session, procedure)
    if any(p.name.casefold() == name.casefold() for p in present):
        raise Conflict(
            _("This procedure has a panel named %(name)s already.", name=name), field="panel_name"
        )
    assert procedure.id is not None
    panel = Panel(procedure_id=procedure.id, name=name, position=len(present))
    session.add(panel)
    session.flush()
    record(
        session, chain=procedure.reference, actor=actor, action="panel.added",
        subject=f"panel:{panel.id}", data={"name": name},
    )  # fmt: skip
    session.commit()
    return panel


def remove_panel(session: Session, *, actor: str, procedure: Procedure, panel: Panel) -> None:
    _refuse_after_setup(procedure)
    has_slots = session.execute(
        select(InterviewSlot.id).where(InterviewSlot.panel_id == panel.id).limit(1)
    ).first()
    if has_slots is not None:
        raise Conflict(
            _("Panel %(name)s holds interview slots: remove them first.", name=panel.name),
            field="panels",
        )
    record(
        session, chain=procedure.reference, actor=actor, action="panel.removed",
        subject=f"panel:{panel.id}", data={"name": panel.name},
    )  # fmt: skip
    session.delete(panel)
    session.commit()


def seat_member(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    member: ProcedureMember,
    panel: Panel | None,
) -> None:
    """Put a scoring member on a panel (or on none): a member sits on one panel at most."""
    _refuse_after_setup(procedure)
    if member.procedure_id != procedure.id or member.role not in SCORING_ROLES:
        raise InvalidInput(
            _("Only the committee's members and its chair sit on a panel; the observer "
              "observes every panel."),
            field="panels",
        )  # fmt: skip
    current = session.execute(
        select(PanelMember).where(PanelMember.member_id == member.id)
    ).scalar_one_or_none()
    if current is not None and panel is not None and current.panel_id == panel.id:
        return
    if current is not None:
        session.delete(current)
        session.flush()
    assert member.id is not None
    if panel is not None:
        assert panel.id is not None
        session.add(PanelMember(panel_id=panel.id, member_id=member.id))
    record(
        session, chain=procedure.reference, actor=actor, action="panel.seated",
        subject=f"member:{member.id}", data={"panel": panel.name if panel else None},
    )  # fmt: skip
    session.commit()
