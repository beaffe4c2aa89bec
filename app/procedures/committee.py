"""The committee: inviting members, the chair and the observer, changing and removing them,
and their declared ties."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.applications.models import Application
from app.audit.service import actor_id, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.procedures import queries
from app.procedures.corrections import arrow, checked_justification, correct, recheck
from app.procedures.labels import function_label, role_label
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.organisations import Invitation, invite_user, send_invitation
from app.procedures.queries import FUNCTIONS, find_member, has_role
from app.procedures.vocabulary import Phase, ProcedureRole


def invite_to_procedure(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    procedure: Procedure,
    email: str,
    name: str,
    role: str,
    function: str,
    training_done: bool,
    reserve: bool = False,
    justification: str = "",
) -> Invitation:
    if role not in {r.value for r in ProcedureRole}:
        raise InvalidInput(_("Choose member, chair or observer."), field="role")
    if role != ProcedureRole.OBSERVER and function not in FUNCTIONS:
        raise InvalidInput(_("Choose the member's function."), field="function")
    if role == ProcedureRole.OBSERVER:
        function = ""
    if reserve and role != ProcedureRole.MEMBER:
        raise InvalidInput(_("Only a committee member can be a reserve."), field="reserve")
    invitation = invite_user(session, email, name)
    user = invitation.user
    exists = session.execute(
        select(col(ProcedureMember.id)).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.user_id == user.id
        )
    ).first()
    if exists:
        raise Conflict(_("This person has a role in this procedure already."), field="email")
    # Roles exclude each other within one procedure (permissions.apply_refusal is the
    # other side): an applicant is never one of its assessors or its observer.
    if has_applied(session, procedure, user.id):
        raise Conflict(
            _(
                "%(name)s has applied to this procedure; an applicant cannot also be its "
                "committee member, chair, reserve or observer.",
                name=user.name or user.email,
            ),
            field="email",
        )
    if role == ProcedureRole.CHAIR and has_role(session, procedure, ProcedureRole.CHAIR):
        raise Conflict(_("This committee has a chair already."), field="role")
    if role == ProcedureRole.OBSERVER and has_role(session, procedure, ProcedureRole.OBSERVER):
        raise Conflict(_("This procedure has an observer already."), field="role")
    why = checked_justification(procedure, justification)
    assert procedure.id is not None and user.id is not None
    session.add(
        ProcedureMember(
            procedure_id=procedure.id,
            user_id=user.id,
            role=role,
            function=function,
            training_done=training_done,
            reserve=reserve,
            accepted_at=None if invitation.token else utcnow(),
        )
    )
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="committee.invited",
        subject=f"user:{user.id}",
        data={
            "role": role,
            "function": function,
            "training_done": training_done,
            "reserve": reserve,
        },
    )
    correct(
        session, procedure, actor, justification=why,
        subject="observer" if role == ProcedureRole.OBSERVER else "committee",
        text=_("Added: %(person)s", person=person(user, role, function, reserve)),
    )  # fmt: skip
    send_invitation(
        session,
        settings,
        invitation,
        what=_(
            "%(role)s in %(procedure)s",
            role=role_label(role),
            procedure=f"{procedure.title} ({procedure.reference})",
        ),
    )
    session.commit()
    return invitation


def person(user: User, role: str, function: str, reserve: bool = False) -> str:
    """A committee member as the public page names them."""
    return (
        f"{user.name}, {role_label(role)}"
        + (f" ({_('reserve')})" if reserve else "")
        + (f", {function_label(function)}" if function else "")
    )


def has_applied(session: Session, procedure: Procedure, user_id: int | None) -> bool:
    """Any application, even a draft or a withdrawn one: they know the procedure as an
    applicant, and may apply again while it is open."""
    return (
        session.execute(
            select(col(Application.id)).where(
                Application.procedure_id == procedure.id, Application.applicant_id == user_id
            )
        ).first()
        is not None
    )


def update_member(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    member_id: int,
    function: str,
    training_done: bool,
    justification: str = "",
) -> None:
    member = find_member(session, procedure, member_id)
    if member.role != ProcedureRole.OBSERVER and function not in FUNCTIONS:
        raise InvalidInput(_("Choose the member's function."), field="function")
    function = "" if member.role == ProcedureRole.OBSERVER else function
    if function != member.function:
        # The function is on the public page; the training only in the guideline check.
        why = checked_justification(procedure, justification)
        user = session.get(User, member.user_id)
        correct(
            session, procedure, actor, subject="committee", justification=why,
            text=_("%(name)s: %(change)s", name=user.name if user else "",
                   change=arrow(function_label(member.function), function_label(function))),
        )  # fmt: skip
    member.function = function
    member.training_done = training_done
    recheck(session, procedure, actor)
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="committee.updated",
        subject=f"user:{member.user_id}",
        data={"function": member.function, "training_done": training_done},
    )
    session.commit()


def remove_member(
    session: Session, *, actor: str, procedure: Procedure, member_id: int, justification: str = ""
) -> None:
    member = find_member(session, procedure, member_id)
    if Phase(procedure.phase) in (Phase.DELIBERATION, Phase.RESULTS, Phase.ARCHIVED):
        raise Conflict(_("The committee can no longer change in this phase."))
    if queries.has_sheets(session, member):
        raise Conflict(
            _(
                "This member has started scoring; their sheets stay part of the record. "
                "Declare a conflict of interest or assign a reserve member instead."
            )
        )
    why = checked_justification(procedure, justification)
    user = session.get(User, member.user_id)
    session.delete(member)
    if user is not None:
        correct(
            session, procedure, actor, justification=why,
            subject="observer" if member.role == ProcedureRole.OBSERVER else "committee",
            text=_("Removed: %(person)s",
                   person=person(user, member.role, member.function, member.reserve)),
        )  # fmt: skip
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="committee.removed",
        subject=f"user:{member.user_id}",
        data={"role": member.role},
    )
    session.commit()


def declare_ties(
    session: Session, *, procedure: Procedure, user_id: int, ties: str
) -> ProcedureMember:
    """A committee member or the observer declares their personal ties (empty: none)."""
    member = session.execute(
        select(ProcedureMember).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.user_id == user_id
        )
    ).scalar_one_or_none()
    if member is None:
        raise NotFound(_("This page does not exist."))
    ties = ties.strip()
    if len(ties) > 2000:
        raise InvalidInput(_("The declaration is at most 2000 characters."), field="ties")
    member.ties = ties
    member.ties_declared_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor_id(user_id),
        action="ties.declared",
        subject=f"user:{user_id}",
        data={"role": member.role, "has_ties": bool(ties)},
    )
    session.commit()
    return member
