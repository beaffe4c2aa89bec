"""People with more than one role in a procedure: an applicant who is also invited, an
admin with a conflict of interest."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.applications.models import Application
from app.i18n import ngettext
from app.procedures import queries
from app.procedures.models import (
    Procedure,
    ProcedureMember,
)
from app.procedures.queries import organisation_admin_ids


def role_overlaps(session: Session, procedure: Procedure) -> list[tuple[str, str]]:
    """People who are both an applicant and a committee member or observer here (only data
    from before the invitation refused it): the name and the role."""
    rows = session.execute(
        select(User, ProcedureMember)
        .join(ProcedureMember, col(ProcedureMember.user_id) == col(User.id))
        .join(
            Application,
            (col(Application.applicant_id) == col(User.id))
            & (col(Application.procedure_id) == col(ProcedureMember.procedure_id)),
        )
        .where(ProcedureMember.procedure_id == procedure.id)
        .order_by(col(User.name))
    ).all()
    return [(user.name, member.role) for user, member in rows]


def overlapping_invitations(session: Session, user_id: int | None) -> list[str]:
    """The procedures (by reference) where this person holds a role and an application."""
    rows = session.execute(
        select(Procedure.reference)
        .join(ProcedureMember, col(ProcedureMember.procedure_id) == col(Procedure.id))
        .join(
            Application,
            (col(Application.procedure_id) == col(Procedure.id))
            & (col(Application.applicant_id) == col(ProcedureMember.user_id)),
        )
        .where(ProcedureMember.user_id == user_id)
        .distinct()
    ).scalars()
    return sorted(rows)


def applicants_without_free_admin(session: Session, procedure: Procedure) -> list[str]:
    """Applications (by reference) that every admin of the organisation has a conflict
    with: nobody can do the admin work on them (letter round, reserve, a declined place)."""
    admins = organisation_admin_ids(session, procedure)
    if not admins:
        return []
    rows = session.execute(
        select(ProcedureMember).where(
            ProcedureMember.procedure_id == procedure.id,
            col(ProcedureMember.user_id).in_(admins),
        )
    ).scalars()
    conflicted: dict[int, set[int]] = {}
    for member in rows:
        for application_id in queries.conflicted_with(session, member):
            conflicted.setdefault(application_id, set()).add(member.user_id)
    stuck = [aid for aid, users in conflicted.items() if users >= set(admins)]
    if not stuck:
        return []
    return sorted(
        session.execute(
            select(Application.reference).where(col(Application.id).in_(stuck))
        ).scalars()
    )


def left_to_another_admin(
    session: Session, procedure: Procedure, user_id: int | None, hidden: int
) -> str | None:
    """What an admin with a conflict reads where applicants are left out for them."""
    if not hidden:
        return None
    others = [a for a in organisation_admin_ids(session, procedure) if a != user_id]
    if others:
        return ngettext(
            "%(num)s applicant is not shown to you: you have a conflict of interest with "
            "them. Another admin of the organisation handles them.",
            "%(num)s applicants are not shown to you: you have a conflict of interest with "
            "them. Another admin of the organisation handles them.",
            hidden,
        )
    return ngettext(
        "%(num)s applicant is not shown to you: you have a conflict of interest with "
        "them. This organisation has no other admin to handle them, so their letter-round "
        "decision, reserve assignment and declined place cannot be done; ask the platform "
        "admin to add an admin to the organisation.",
        "%(num)s applicants are not shown to you: you have a conflict of interest with "
        "them. This organisation has no other admin to handle them, so their letter-round "
        "decision, reserve assignment and declined place cannot be done; ask the platform "
        "admin to add an admin to the organisation.",
        hidden,
    )
