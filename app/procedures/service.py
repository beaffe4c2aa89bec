"""Organisations, procedures and the people invited into them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import User
from app.accounts.service import INVITE, find_user, issue_token, normalise_email
from app.audit.service import PLATFORM_CHAIN, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.procedures.models import (
    Organisation,
    OrganisationAdmin,
    Phase,
    Procedure,
    ProcedureMember,
    ProcedureRole,
)

REFERENCE_PATTERN = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FUNCTIONS = ("opleider", "staff", "aios", "nurse", "other")
PHASE_ORDER = list(Phase)


def get_procedure(session: Session, reference: str) -> Procedure:
    procedure = session.execute(
        select(Procedure).where(Procedure.reference == reference)
    ).scalar_one_or_none()
    if procedure is None:
        raise NotFound(_("This page does not exist."))
    return procedure


def get_organisation(session: Session, slug: str) -> Organisation:
    organisation = session.execute(
        select(Organisation).where(Organisation.slug == slug)
    ).scalar_one_or_none()
    if organisation is None:
        raise NotFound(_("This page does not exist."))
    return organisation


def create_organisation(
    session: Session, *, actor: str, slug: str, name: str, short_name: str
) -> Organisation:
    slug, name, short_name = slug.strip().lower(), name.strip(), short_name.strip()
    if not name or len(name) > 200:
        raise InvalidInput(
            _("Enter the organisation's name (at most 200 characters)."), field="name"
        )
    if not short_name or len(short_name) > 20:
        raise InvalidInput(_("Enter a short name of at most 20 characters."), field="short_name")
    if not SLUG_PATTERN.match(slug) or len(slug) > 40:
        raise InvalidInput(
            _("The web address name may hold only lower-case letters, digits and hyphens."),
            field="slug",
        )
    if session.execute(select(col(Organisation.id)).where(Organisation.slug == slug)).first():
        raise Conflict(
            _("An organisation with this web address name exists already."), field="slug"
        )
    organisation = Organisation(slug=slug, name=name, short_name=short_name)
    session.add(organisation)
    session.flush()
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor,
        action="organisation.created",
        subject=f"organisation:{organisation.id}",
        data={"slug": slug, "name": name},
    )
    session.commit()
    return organisation


@dataclass
class Invitation:
    user: User
    token: str | None  # None when the person already has an account


def _invite_user(session: Session, email: str, name: str) -> Invitation:
    email = normalise_email(email)
    name = name.strip()
    user = find_user(session, email)
    if user is not None and user.password_hash is not None:
        return Invitation(user=user, token=None)
    if user is None:
        if not name:
            raise InvalidInput(_("Enter the name of the person you invite."), field="name")
        user = User(email=email, name=name[:200])
        session.add(user)
        session.flush()
    return Invitation(user=user, token=issue_token(session, user, INVITE))


def add_organisation_admin(
    session: Session,
    settings: Settings,
    *,
    actor: str,
    organisation: Organisation,
    email: str,
    name: str,
) -> Invitation:
    invitation = _invite_user(session, email, name)
    user = invitation.user
    exists = session.execute(
        select(col(OrganisationAdmin.id)).where(
            OrganisationAdmin.organisation_id == organisation.id,
            OrganisationAdmin.user_id == user.id,
        )
    ).first()
    if exists:
        raise Conflict(_("This person is an admin of this organisation already."), field="email")
    assert organisation.id is not None and user.id is not None
    session.add(OrganisationAdmin(organisation_id=organisation.id, user_id=user.id))
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor,
        action="organisation.admin_added",
        subject=f"organisation:{organisation.id}",
        data={"user": f"user:{user.id}"},
    )
    _send_invitation(
        session,
        settings,
        invitation,
        what=_("admin of %(organisation)s", organisation=organisation.name),
    )
    session.commit()
    return invitation


def _send_invitation(
    session: Session, settings: Settings, invitation: Invitation, *, what: str
) -> None:
    if invitation.token:
        link = f"{settings.base_url}/invitations/{invitation.token}"
        body = _(
            "Dear %(name)s,\n\nYou have been invited as %(what)s on the selection platform. "
            "Open this link within 14 days to choose your password:\n%(link)s",
            name=invitation.user.name,
            what=what,
            link=link,
        )
    else:
        body = _(
            "Dear %(name)s,\n\nYou have been added as %(what)s on the selection platform. "
            "Log in at %(link)s to see it.",
            name=invitation.user.name,
            what=what,
            link=f"{settings.base_url}/login",
        )
    mail.send(
        session,
        settings,
        to=invitation.user.email,
        subject=_("Invitation: %(what)s", what=what),
        body=body,
    )


def create_procedure(
    session: Session,
    *,
    actor: str,
    organisation: Organisation,
    reference: str,
    title: str,
    specialty: str,
    region: str,
    places: int,
    description: str = "",
    opens_at: datetime | None = None,
    closes_at: datetime | None = None,
) -> Procedure:
    reference = reference.strip().upper()
    if not REFERENCE_PATTERN.match(reference) or len(reference) > 40:
        raise InvalidInput(
            _("A reference consists of capitals and digits in parts joined by hyphens."),
            field="reference",
        )
    if session.execute(select(col(Procedure.id)).where(Procedure.reference == reference)).first():
        raise Conflict(_("A procedure with this reference exists already."), field="reference")
    if places < 1:
        raise InvalidInput(_("The number of places must be at least 1."), field="places")
    assert organisation.id is not None
    procedure = Procedure(
        reference=reference,
        organisation_id=organisation.id,
        title=title.strip(),
        specialty=specialty.strip(),
        region=region.strip(),
        places=places,
        description=description,
        opens_at=opens_at,
        closes_at=closes_at,
    )
    session.add(procedure)
    session.flush()
    record(
        session,
        chain=reference,
        actor=actor,
        action="procedure.created",
        subject=f"procedure:{reference}",
        data={"organisation": organisation.slug, "title": procedure.title, "places": places},
    )
    session.commit()
    return procedure


def advance_phase(session: Session, *, actor: str, procedure: Procedure, to: Phase) -> None:
    """Move one step along the life cycle; never back, never skipping a phase."""
    current = PHASE_ORDER.index(Phase(procedure.phase))
    if PHASE_ORDER.index(to) != current + 1:
        raise Conflict(
            _(
                "A procedure in phase %(current)s cannot move to %(target)s.",
                current=phase_label(procedure.phase),
                target=phase_label(to),
            )
        )
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="procedure.phase_changed",
        subject=f"procedure:{procedure.reference}",
        data={"from": procedure.phase, "to": to.value},
    )
    procedure.phase = to.value
    procedure.updated_at = utcnow()
    session.commit()


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
) -> Invitation:
    if role not in {r.value for r in ProcedureRole}:
        raise InvalidInput(_("Choose member, chair or observer."), field="role")
    if role != ProcedureRole.OBSERVER and function not in FUNCTIONS:
        raise InvalidInput(_("Choose the member's function."), field="function")
    if role == ProcedureRole.OBSERVER:
        function = ""
    invitation = _invite_user(session, email, name)
    user = invitation.user
    exists = session.execute(
        select(col(ProcedureMember.id)).where(
            ProcedureMember.procedure_id == procedure.id, ProcedureMember.user_id == user.id
        )
    ).first()
    if exists:
        raise Conflict(_("This person has a role in this procedure already."), field="email")
    if role == ProcedureRole.CHAIR and _has_role(session, procedure, ProcedureRole.CHAIR):
        raise Conflict(_("This committee has a chair already."), field="role")
    if role == ProcedureRole.OBSERVER and _has_role(session, procedure, ProcedureRole.OBSERVER):
        raise Conflict(_("This procedure has an observer already."), field="role")
    assert procedure.id is not None and user.id is not None
    session.add(
        ProcedureMember(
            procedure_id=procedure.id,
            user_id=user.id,
            role=role,
            function=function,
            training_done=training_done,
            accepted_at=None if invitation.token else utcnow(),
        )
    )
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="committee.invited",
        subject=f"user:{user.id}",
        data={"role": role, "function": function, "training_done": training_done},
    )
    _send_invitation(
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


def _has_role(session: Session, procedure: Procedure, role: str) -> bool:
    return (
        session.execute(
            select(col(ProcedureMember.id)).where(
                ProcedureMember.procedure_id == procedure.id, ProcedureMember.role == role
            )
        ).first()
        is not None
    )


def members(session: Session, procedure: Procedure) -> list[tuple[ProcedureMember, User]]:
    rows = session.execute(
        select(ProcedureMember, User)
        .join(User, col(User.id) == col(ProcedureMember.user_id))
        .where(ProcedureMember.procedure_id == procedure.id)
        .order_by(col(ProcedureMember.role), col(User.name))
    ).all()
    return [(member, user) for member, user in rows]


def phase_label(phase: str) -> str:
    labels = {
        Phase.DRAFT: _("Draft"),
        Phase.PUBLISHED: _("Published"),
        Phase.OPEN: _("Open for applications"),
        Phase.CLOSED: _("Closed"),
        Phase.LETTER_ROUND: _("Letter round"),
        Phase.INTERVIEWS: _("Interviews"),
        Phase.DELIBERATION: _("Deliberation"),
        Phase.RESULTS: _("Results"),
        Phase.ARCHIVED: _("Archived"),
    }
    return labels.get(Phase(phase), phase)


def role_label(role: str) -> str:
    labels = {
        ProcedureRole.MEMBER: _("committee member"),
        ProcedureRole.CHAIR: _("chair"),
        ProcedureRole.OBSERVER: _("observer"),
    }
    return labels.get(ProcedureRole(role), role)


def function_label(function: str) -> str:
    labels = {
        "opleider": _("programme director (opleider)"),
        "staff": _("staff specialist"),
        "aios": _("trainee (aios)"),
        "nurse": _("nurse"),
        "other": _("other"),
    }
    return labels.get(function, function)
