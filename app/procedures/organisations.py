"""Organisations (the WVs) and their admins, and the invitation e-mail every role gets."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import User
from app.accounts.service import INVITE, find_user, issue_token, normalise_email
from app.audit.service import PLATFORM_CHAIN, record
from app.config import Settings
from app.errors import Conflict, InvalidInput
from app.i18n import gettext as _
from app.procedures.models import (
    Organisation,
    OrganisationAdmin,
)
from app.procedures.queries import SLUG_PATTERN


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


def invite_user(session: Session, email: str, name: str) -> Invitation:
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
    invitation = invite_user(session, email, name)
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
    send_invitation(
        session,
        settings,
        invitation,
        what=_("admin of %(organisation)s", organisation=organisation.name),
    )
    session.commit()
    return invitation


def send_invitation(
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
