"""The facts of a procedure that the guideline check reads, gathered from its own tables."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.interviews.models import Panel, PanelMember
from app.pool.models import PoolEntry
from app.procedures import checks
from app.procedures.labels import role_label
from app.procedures.models import Procedure
from app.procedures.queries import (
    institutions,
    members,
    organisation_admin_ids,
    pluses,
    requirements,
)
from app.procedures.roles import applicants_without_free_admin, role_overlaps


def procedure_facts(session: Session, procedure: Procedure) -> checks.ProcedureFacts:
    """What the guideline check reads of the procedure itself: its texts, timeline,
    committee and the roles people hold in it. The later phases' facts are added by
    `app.conduct.facts.facts_for`."""
    admins = organisation_admin_ids(session, procedure)
    committee = members(session, procedure)
    # The composition is read from the pool record where the member has one: the function
    # and training they keep up to date there, not what the invitation said.
    pool = _pool_records(session, {m.user_id for m, _user in committee})
    seated = _panels_of(session, procedure)
    return checks.ProcedureFacts(
        opens_at=procedure.opens_at,
        closes_at=procedure.closes_at,
        letter_round_result_at=procedure.letter_round_result_at,
        interview_days=tuple(procedure.interview_days or ()),
        final_result_at=procedure.final_result_at,
        method=procedure.method,
        quorum=procedure.quorum,
        ranking_rule=procedure.ranking_rule,
        retention_weeks=procedure.retention_weeks,
        rubric_pinned=procedure.rubric_hash is not None,
        requirements=tuple(
            checks.RequirementFacts(r.kind, r.text, r.rationale, r.text_en, r.rationale_en)
            for r in requirements(session, procedure)
        ),
        description=procedure.description,
        description_en=procedure.description_en,
        method_en=procedure.method_en,
        pluses=tuple(
            checks.PlusFacts(p.kind, p.description, p.description_en)
            for p in pluses(session, procedure)
        ),
        members=tuple(
            checks.MemberFacts(
                m.role,
                pool[m.user_id].function if m.user_id in pool and m.function else m.function,
                pool[m.user_id].trained if m.user_id in pool else m.training_done,
                m.ties,
                m.ties_declared_at is not None,
                m.reserve,
                user.name,
                seated.get(m.id or 0, ""),
            )
            for m, user in committee
        ),
        panels=_panel_names(session, procedure),
        role_overlaps=tuple(
            f"{name} ({role_label(role)})" for name, role in role_overlaps(session, procedure)
        ),
        organisation_admins=len(admins),
        admins_on_committee=len(set(admins) & {m.user_id for m, _user in committee}),
        without_free_admin=tuple(applicants_without_free_admin(session, procedure)),
        places=procedure.places,
        institutions=tuple((i.code, i.capacity) for i in institutions(session, procedure)),
        preference_deadline=procedure.preference_deadline,
    )


def _pool_records(session: Session, user_ids: set[int]) -> dict[int, PoolEntry]:
    if not user_ids:
        return {}
    rows = session.execute(select(PoolEntry).where(col(PoolEntry.user_id).in_(user_ids)))
    return {entry.user_id: entry for entry in rows.scalars()}


def _panels_of(session: Session, procedure: Procedure) -> dict[int, str]:
    """The panel each seated member sits on, by member id."""
    rows = session.execute(
        select(PanelMember.member_id, Panel.name)
        .join(Panel, col(Panel.id) == col(PanelMember.panel_id))
        .where(Panel.procedure_id == procedure.id)
    ).all()
    return {member_id: name for member_id, name in rows}


def _panel_names(session: Session, procedure: Procedure) -> tuple[str, ...]:
    rows = session.execute(
        select(Panel.name)
        .where(Panel.procedure_id == procedure.id)
        .order_by(col(Panel.position), col(Panel.id))
    ).scalars()
    return tuple(rows)
