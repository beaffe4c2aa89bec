"""Organisations, procedures and the people invited into them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import ColumnElement, and_, case, func, or_
from sqlmodel import Session, col, select

from app import permissions
from app.accounts import mail
from app.accounts.models import User
from app.accounts.service import INVITE, find_user, issue_token, normalise_email
from app.applications import letter_round
from app.applications.models import Application, ApplicationStatus
from app.audit.chain import format_time
from app.audit.service import PLATFORM_CHAIN, actor_id, record
from app.config import ROOT, Settings
from app.db import utcnow
from app.errors import Conflict, DomainError, InvalidInput, NotFound
from app.i18n import gettext as _
from app.lottery import service as lottery
from app.procedures import checks, lifecycle, rubric
from app.procedures.models import (
    Correction,
    Organisation,
    OrganisationAdmin,
    Phase,
    Plus,
    PlusKind,
    Procedure,
    ProcedureMember,
    ProcedureRole,
    Requirement,
    RequirementKind,
)
from app.scoring import service as scoring

REFERENCE_PATTERN = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)+$")
SLUG_PATTERN = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
FUNCTIONS = ("opleider", "staff", "aios", "nurse", "other")
RUBRICS_DIR = ROOT / "rubrics"
RANKING_RULES = ("lottery_among_suitable", "score_then_lottery_at_cut")
CORRECTION_SUBJECTS = (
    "criteria", "rubric", "pluses", "method", "timeline", "places", "committee", "observer",
    "other",
)  # fmt: skip
MIN_JUSTIFICATION = 10
MAX_JUSTIFICATION = 2000


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
    invitation = _invite_user(session, email, name)
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
    if role == ProcedureRole.CHAIR and _has_role(session, procedure, ProcedureRole.CHAIR):
        raise Conflict(_("This committee has a chair already."), field="role")
    if role == ProcedureRole.OBSERVER and _has_role(session, procedure, ProcedureRole.OBSERVER):
        raise Conflict(_("This procedure has an observer already."), field="role")
    why = _justification(procedure, justification)
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
    _correct(
        session, procedure, actor, justification=why,
        subject="observer" if role == ProcedureRole.OBSERVER else "committee",
        text=_("Added: %(person)s", person=_person(user, role, function, reserve)),
    )  # fmt: skip
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


def _person(user: User, role: str, function: str, reserve: bool = False) -> str:
    """A committee member as the public page names them."""
    return (
        f"{user.name}, {role_label(role)}"
        + (f" ({_('reserve')})" if reserve else "")
        + (f", {function_label(function)}" if function else "")
    )


def _has_role(session: Session, procedure: Procedure, role: str) -> bool:
    return (
        session.execute(
            select(col(ProcedureMember.id)).where(
                ProcedureMember.procedure_id == procedure.id, ProcedureMember.role == role
            )
        ).first()
        is not None
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


def organisation_admin_ids(session: Session, procedure: Procedure) -> list[int]:
    return list(
        session.execute(
            select(col(OrganisationAdmin.user_id)).where(
                OrganisationAdmin.organisation_id == procedure.organisation_id
            )
        ).scalars()
    )


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
        for application_id in scoring.conflicted_with(session, member):
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
        return _(
            "%(count)s applicants are not shown to you: you have a conflict of interest with "
            "them. Another admin of the organisation handles them.",
            count=hidden,
        )
    return _(
        "%(count)s applicants are not shown to you: you have a conflict of interest with "
        "them. This organisation has no other admin to handle them, so their letter-round "
        "decision, reserve assignment and declined place cannot be done; ask the platform "
        "admin to add an admin to the organisation.",
        count=hidden,
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


# The editor -------------------------------------------------------------------------------


def is_frozen(session: Session, procedure: Procedure) -> bool:
    """Once the first application exists, criteria, rubric, weights, pluses and method are
    fixed; only a dated, justified public correction can be added."""
    return (
        session.execute(
            select(col(Application.id)).where(Application.procedure_id == procedure.id).limit(1)
        ).first()
        is not None
    )


def _refuse_if_frozen(session: Session, procedure: Procedure, what: str) -> None:
    if is_frozen(session, procedure):
        raise Conflict(
            _(
                "%(what)s can no longer be changed: applications have been received. Add a "
                "public correction instead.",
                what=what,
            )
        )
    if procedure.phase == Phase.ARCHIVED:
        raise Conflict(_("An archived procedure cannot be changed."))


def _changed(
    session: Session, procedure: Procedure, actor: str, fields: Mapping[str, object]
) -> None:
    procedure.updated_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="procedure.changed",
        subject=f"procedure:{procedure.reference}",
        data={key: _audit_value(value) for key, value in fields.items()},
    )
    session.commit()


def _audit_value(value: object) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, float):
        return str(value)
    return value


# After publication: every change a reader relies on is a public correction ------------------


def is_published(procedure: Procedure) -> bool:
    return procedure.phase != Phase.DRAFT


def _justification(procedure: Procedure, justification: str) -> str:
    """After publication a change needs a reason that is published with it. Asked after
    every other refusal, so that a change that may not be made at all says so first."""
    if not is_published(procedure):
        return ""
    text = justification.strip()
    if not MIN_JUSTIFICATION <= len(text) <= MAX_JUSTIFICATION:
        raise InvalidInput(
            _(
                "This procedure is published: say why this change is needed (%(min)s to "
                "%(max)s characters). The change and its reason appear in the public change "
                "log.",
                min=MIN_JUSTIFICATION,
                max=MAX_JUSTIFICATION,
            ),
            field="justification",
        )
    return text


def _correct(
    session: Session,
    procedure: Procedure,
    actor: str,
    *,
    subject: str,
    text: str,
    justification: str,
) -> None:
    """Publish a dated, justified correction for a change just made (in the same
    transaction), then run the guideline check again so the published warnings follow."""
    if not is_published(procedure):
        return
    assert procedure.id is not None
    session.add(
        Correction(
            procedure_id=procedure.id,
            subject=subject,
            text=text[:4000],
            justification=justification,
        )
    )
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="procedure.corrected",
        subject=f"procedure:{procedure.reference}",
        data={"subject": subject, "text": text[:4000], "justification": justification},
    )
    recheck(session, procedure, actor)


def recheck(session: Session, procedure: Procedure, actor: str) -> None:
    """After publication the guideline check runs again after each change; the published
    warnings follow it (and the change of warnings is chained). The check looks at the
    timeline as it did at publication: a closing date passing later is no deviation."""
    if not is_published(procedure):
        return
    session.flush()
    moment = procedure.published_at or utcnow()
    warnings = [f.check for f in checks.run(facts_for(session, procedure), moment)]
    if warnings != list(procedure.published_warnings or []):
        procedure.published_warnings = warnings
        record(
            session,
            chain=procedure.reference,
            actor=actor,
            action="procedure.warnings",
            subject=f"procedure:{procedure.reference}",
            data={"warnings": warnings},
        )


def _arrow(before: object, after: object) -> str:
    def shown(value: object) -> object:
        return "—" if value in (None, "") else value

    return f"{shown(before)} → {shown(after)}"


def requirements(session: Session, procedure: Procedure) -> list[Requirement]:
    return list(
        session.execute(
            select(Requirement)
            .where(Requirement.procedure_id == procedure.id)
            .order_by(col(Requirement.kind).desc(), col(Requirement.position), col(Requirement.id))
        ).scalars()
    )


def pluses(session: Session, procedure: Procedure) -> list[Plus]:
    return list(
        session.execute(
            select(Plus).where(Plus.procedure_id == procedure.id).order_by(col(Plus.id))
        ).scalars()
    )


def corrections(session: Session, procedure: Procedure) -> list[Correction]:
    return list(
        session.execute(
            select(Correction)
            .where(Correction.procedure_id == procedure.id)
            .order_by(col(Correction.created_at))
        ).scalars()
    )


def update_basics(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    title: str,
    specialty: str,
    region: str,
    description: str,
    places: int,
    method: str,
    quorum: int,
    ranking_rule: str,
    retention_weeks: int | None,
    justification: str = "",
) -> None:
    title, specialty, region = title.strip(), specialty.strip(), region.strip()
    if not title or len(title) > 200:
        raise InvalidInput(_("Enter a title of at most 200 characters."), field="title")
    if not specialty or len(specialty) > 100:
        raise InvalidInput(_("Enter the specialty (at most 100 characters)."), field="specialty")
    if not region or len(region) > 200:
        raise InvalidInput(
            _("Enter the region or institutes (at most 200 characters)."), field="region"
        )
    if places < 1 or places > 500:
        raise InvalidInput(_("The number of places must be between 1 and 500."), field="places")
    if quorum < 1 or quorum > 20:
        raise InvalidInput(_("The quorum must be between 1 and 20."), field="quorum")
    if ranking_rule and ranking_rule not in RANKING_RULES:
        raise InvalidInput(_("Choose one of the ranking rules."), field="ranking_rule")
    if retention_weeks is not None and not 1 <= retention_weeks <= 52:
        raise InvalidInput(
            _("The retention period is between 1 and 52 weeks (a year at most)."),
            field="retention_weeks",
        )
    new = {
        "title": title,
        "specialty": specialty,
        "region": region,
        "description": description.strip(),
        "places": places,
        "method": method.strip(),
        "quorum": quorum,
        "ranking_rule": ranking_rule,
        "retention_weeks": retention_weeks,
    }
    changed = {key: value for key, value in new.items() if getattr(procedure, key) != value}
    if not changed:
        return
    frozen = {"method", "ranking_rule", "quorum"} & set(changed)
    if frozen:
        _refuse_if_frozen(session, procedure, _("The method and the ranking rule"))
    if procedure.phase == Phase.ARCHIVED:
        raise Conflict(_("An archived procedure cannot be changed."))
    if "places" in changed:
        fixed = scoring.fixing_draw(session, procedure)
        if fixed is not None:
            raise Conflict(
                _(
                    "Draw %(draw)s has been announced for %(places)s places: the number of "
                    "places is fixed with it. Void the draw with a reason first.",
                    draw=fixed.draw_id,
                    places=fixed.places,
                ),
                field="places",
            )
    why = _justification(procedure, justification)
    text = "\n".join(
        f"{_basics_label(key)}: "
        + (
            _arrow(_shown(key, getattr(procedure, key)), _shown(key, value))
            if key not in ("description", "method")
            else _("new text (as shown on this page)")
        )
        for key, value in changed.items()
    )
    for key, value in changed.items():
        setattr(procedure, key, value)
    subject = (
        "places"
        if "places" in changed
        else "method"
        if {"method", "ranking_rule", "quorum"} & set(changed)
        else "other"
    )
    _correct(session, procedure, actor, subject=subject, text=text, justification=why)
    _changed(session, procedure, actor, {"fields": sorted(changed)} | _public(changed))


def _basics_label(key: str) -> str:
    return {
        "title": _("Title"),
        "specialty": _("Specialty"),
        "region": _("Region or institutes"),
        "description": _("About the training"),
        "places": _("Places"),
        "method": _("Method"),
        "quorum": _("Scorers per applicant"),
        "ranking_rule": _("Ranking and lottery"),
        "retention_weeks": _("Retention period (weeks)"),
    }.get(key, key)


def _shown(key: str, value: object) -> object:
    return ranking_rule_label(str(value)) if key == "ranking_rule" and value else value


def _public(changed: dict[str, object]) -> dict[str, object]:
    # Numbers and rules go into the chain as values; long texts only by name.
    return {
        k: v
        for k, v in changed.items()
        if k in ("places", "quorum", "ranking_rule", "retention_weeks")
    }


def set_timeline(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    opens_at: datetime | None,
    closes_at: datetime | None,
    letter_round_result_at: datetime | None,
    interview_days: list[date],
    final_result_at: datetime | None,
    justification: str = "",
    format_time: Callable[[datetime], str] = str,
    settings: Settings | None = None,
    now: datetime | None = None,
) -> None:
    """After publication a change is a public correction. Once applications exist (drafts
    included), an open deadline can be extended, and everyone who applied or started is
    e-mailed, but it is never brought forward."""
    if opens_at and closes_at and closes_at <= opens_at:
        raise InvalidInput(_("The closing date must be after the opening date."), field="closes_at")
    if closes_at and letter_round_result_at and letter_round_result_at <= closes_at:
        raise InvalidInput(
            _("The letter-round result must come after the closing date."),
            field="letter_round_result_at",
        )
    days = sorted(set(interview_days))
    if days and closes_at and days[0] <= closes_at.date():
        raise InvalidInput(
            _("Interview days must come after the closing date."), field="interview_days"
        )
    if days and final_result_at and final_result_at.date() < days[-1]:
        raise InvalidInput(
            _("The final result cannot come before the last interview day."),
            field="final_result_at",
        )
    if procedure.phase == Phase.ARCHIVED:
        raise Conflict(_("An archived procedure cannot be changed."))
    new = {
        "opens_at": opens_at,
        "closes_at": closes_at,
        "letter_round_result_at": letter_round_result_at,
        "interview_days": [day.isoformat() for day in days],
        "final_result_at": final_result_at,
    }
    changed = {key: value for key, value in new.items() if getattr(procedure, key) != value}
    if not changed:
        return
    # By the clock: a deadline that has passed stays passed even before the job closed it.
    current = phase_now(procedure)
    if current not in (Phase.DRAFT, Phase.PUBLISHED) and (
        "opens_at" in changed or ("closes_at" in changed and current != Phase.OPEN)
    ):
        raise Conflict(
            _("Applications have opened: the opening date and a passed deadline stay as they were.")
        )
    moment = now or utcnow()
    old_close = procedure.closes_at
    applied = _applicants_to_tell(session, procedure) if "closes_at" in changed else []
    if "closes_at" in changed and is_published(procedure):
        if procedure.phase == Phase.OPEN and old_close is not None and old_close <= moment:
            raise Conflict(
                _("The deadline has passed: it stays %(when)s.", when=format_time(old_close)),
                field="closes_at",
            )
        if is_frozen(session, procedure) and (
            closes_at is None or (old_close is not None and closes_at < old_close)
        ):
            raise Conflict(
                _(
                    "Applications have been started or submitted: the deadline can be "
                    "extended, never brought forward. It stays %(when)s, or later.",
                    when=format_time(old_close) if old_close else "—",
                ),
                field="closes_at",
            )
        if closes_at is not None and closes_at <= moment:
            raise InvalidInput(
                _("The new deadline has passed already; choose a moment in the future."),
                field="closes_at",
            )
    why = _justification(procedure, justification)
    labels = {
        "opens_at": _("Applications open"),
        "closes_at": _("Applications close"),
        "letter_round_result_at": _("Letter-round result"),
        "interview_days": _("Interview days"),
        "final_result_at": _("Final result"),
    }
    text = "\n".join(
        f"{labels[key]}: "
        + _arrow(_timeline_value(getattr(procedure, key), format_time),
                 _timeline_value(value, format_time))
        for key, value in changed.items()
    )  # fmt: skip
    for key, value in changed.items():
        setattr(procedure, key, value)
    _correct(session, procedure, actor, subject="timeline", text=text, justification=why)
    if applied and settings is not None and closes_at is not None and old_close is not None:
        for user in applied:
            mail.send(
                session,
                settings,
                to=user.email,
                subject=_("Deadline extended: %(procedure)s", procedure=procedure.title),
                body=_(
                    "Dear %(name)s,\n\nThe deadline of %(procedure)s has been extended from "
                    "%(before)s to %(after)s (Dutch time).\nWhy: %(why)s\n\nSee %(url)s",
                    name=user.name,
                    procedure=procedure.title,
                    before=format_time(old_close),
                    after=format_time(closes_at),
                    why=why,
                    url=f"{settings.base_url}/procedures/{procedure.reference}",
                ),
            )
    _changed(session, procedure, actor, changed | ({"told": len(applied)} if applied else {}))


def _timeline_value(value: object, format_time: Callable[[datetime], str]) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return value


def _applicants_to_tell(session: Session, procedure: Procedure) -> list[User]:
    """Everyone with an application in this procedure, submitted or still a draft."""
    return list(
        session.execute(
            select(User)
            .join(Application, col(Application.applicant_id) == col(User.id))
            .where(
                Application.procedure_id == procedure.id,
                col(Application.status).in_([ApplicationStatus.DRAFT, ApplicationStatus.SUBMITTED]),
            )
            .order_by(col(User.id))
        ).scalars()
    )


def add_requirement(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    kind: str,
    text: str,
    rationale: str,
    justification: str = "",
) -> Requirement:
    _refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    if kind not in {k.value for k in RequirementKind}:
        raise InvalidInput(_("Choose minimum requirement or letter-round criterion."), field="kind")
    text, rationale = text.strip(), rationale.strip()
    if not text or len(text) > 500:
        raise InvalidInput(_("Describe what is asked (at most 500 characters)."), field="text")
    if len(rationale) > 2000:
        raise InvalidInput(_("The rationale is at most 2000 characters."), field="rationale")
    why = _justification(procedure, justification)
    assert procedure.id is not None
    position = len(requirements(session, procedure))
    requirement = Requirement(
        procedure_id=procedure.id, kind=kind, position=position, text=text, rationale=rationale
    )
    session.add(requirement)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="requirement.added",
        subject=f"procedure:{procedure.reference}",
        data={"requirement": requirement.id, "kind": kind, "text": text, "rationale": rationale},
    )
    _correct(
        session, procedure, actor, subject="criteria", justification=why,
        text=_("Added, %(kind)s: %(text)s", kind=requirement_kind_label(kind).lower(), text=text)
        + (f"\n{_('Why')}: {rationale}" if rationale else ""),
    )  # fmt: skip
    procedure.updated_at = utcnow()
    session.commit()
    return requirement


def remove_requirement(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    requirement_id: int,
    justification: str = "",
) -> None:
    _refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    requirement = session.get(Requirement, requirement_id)
    if requirement is None or requirement.procedure_id != procedure.id:
        raise NotFound(_("This criterion does not exist (any more)."))
    why = _justification(procedure, justification)
    text = _(
        "Removed, %(kind)s: %(text)s",
        kind=requirement_kind_label(requirement.kind).lower(),
        text=requirement.text,
    )
    _remove(session, actor, procedure, requirement, "requirement", ("criteria", text, why))


def _remove(
    session: Session,
    actor: str,
    procedure: Procedure,
    row: Requirement | Plus,
    name: str,
    correction: tuple[str, str, str],
) -> None:
    session.delete(row)
    subject, text, why = correction
    _correct(session, procedure, actor, subject=subject, text=text, justification=why)
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action=f"{name}.removed",
        subject=f"procedure:{procedure.reference}",
        data={name: row.id},
    )
    session.commit()


def add_plus(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    kind: str,
    description: str,
    justification: str = "",
) -> Plus:
    _refuse_if_frozen(session, procedure, _("The pluses"))
    if kind not in {k.value for k in PlusKind}:
        raise InvalidInput(_("Choose the kind of plus."), field="plus_kind")
    description = description.strip()
    if kind == PlusKind.OTHER and not description:
        raise InvalidInput(_("Describe the plus."), field="plus_description")
    if len(description) > 500:
        raise InvalidInput(
            _("The description is at most 500 characters."), field="plus_description"
        )
    why = _justification(procedure, justification)
    assert procedure.id is not None
    plus = Plus(procedure_id=procedure.id, kind=kind, description=description)
    session.add(plus)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="plus.added",
        subject=f"procedure:{procedure.reference}",
        data={"plus": plus.id, "kind": kind, "description": description},
    )
    _correct(
        session, procedure, actor, subject="pluses", justification=why,
        text=_("Plus added: %(plus)s", plus=_plus_text(plus)),
    )  # fmt: skip
    session.commit()
    return plus


def _plus_text(plus: Plus) -> str:
    return plus_label(plus.kind) + (f" — {plus.description}" if plus.description else "")


def remove_plus(
    session: Session, *, actor: str, procedure: Procedure, plus_id: int, justification: str = ""
) -> None:
    _refuse_if_frozen(session, procedure, _("The pluses"))
    plus = session.get(Plus, plus_id)
    if plus is None or plus.procedure_id != procedure.id:
        raise NotFound(_("This plus does not exist (any more)."))
    why = _justification(procedure, justification)
    text = _("Plus removed: %(plus)s", plus=_plus_text(plus))
    _remove(session, actor, procedure, plus, "plus", ("pluses", text, why))


def available_rubrics(directory: Path = RUBRICS_DIR) -> list[rubric.Rubric]:
    return [rubric.load(path) for path in rubric.available(directory).values()]


def pin_rubric(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    key: str,
    directory: Path = RUBRICS_DIR,
    justification: str = "",
) -> None:
    """Pin a rubric file (by "id@version") and keep a copy of its content."""
    _refuse_if_frozen(session, procedure, _("The interview matrix"))
    found = {f"{r.id}@{r.version}": r for r in available_rubrics(directory)}
    chosen = found.get(key)
    if chosen is None:
        raise InvalidInput(_("Choose one of the available interview matrices."), field="rubric")
    if procedure.rubric_hash == chosen.content_hash():
        return
    why = _justification(procedure, justification)
    before = f"{procedure.rubric_id} v{procedure.rubric_version}" if procedure.rubric_id else None
    procedure.rubric_id = chosen.id
    procedure.rubric_version = chosen.version
    procedure.rubric_content = chosen.content()
    procedure.rubric_hash = chosen.content_hash()
    _correct(
        session, procedure, actor, subject="rubric", justification=why,
        text=_("Interview matrix: %(change)s",
               change=_arrow(before, f"{chosen.id} v{chosen.version}")),
    )  # fmt: skip
    _changed(
        session,
        procedure,
        actor,
        {
            "rubric": chosen.id,
            "rubric_version": chosen.version,
            "rubric_hash": procedure.rubric_hash,
        },
    )


def pinned_rubric(procedure: Procedure) -> rubric.Rubric | None:
    if procedure.rubric_content is None:
        return None
    return rubric.Rubric.model_validate(procedure.rubric_content)


def add_correction(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    subject: str,
    text: str,
    justification: str,
) -> Correction:
    if procedure.phase == Phase.DRAFT:
        raise Conflict(_("A draft is edited directly; corrections are for published procedures."))
    if subject not in CORRECTION_SUBJECTS:
        raise InvalidInput(_("Choose what the correction is about."), field="subject")
    text, justification = text.strip(), justification.strip()
    if not text or len(text) > 4000:
        raise InvalidInput(_("Write the correction (at most 4000 characters)."), field="text")
    if not justification or len(justification) > 2000:
        raise InvalidInput(
            _("Say why the correction is needed (at most 2000 characters)."), field="justification"
        )
    assert procedure.id is not None
    correction = Correction(
        procedure_id=procedure.id, subject=subject, text=text, justification=justification
    )
    session.add(correction)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="procedure.corrected",
        subject=f"procedure:{procedure.reference}",
        data={"subject": subject, "text": text, "justification": justification},
    )
    session.commit()
    return correction


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
    member = _member(session, procedure, member_id)
    if member.role != ProcedureRole.OBSERVER and function not in FUNCTIONS:
        raise InvalidInput(_("Choose the member's function."), field="function")
    function = "" if member.role == ProcedureRole.OBSERVER else function
    if function != member.function:
        # The function is on the public page; the training only in the guideline check.
        why = _justification(procedure, justification)
        user = session.get(User, member.user_id)
        _correct(
            session, procedure, actor, subject="committee", justification=why,
            text=_("%(name)s: %(change)s", name=user.name if user else "",
                   change=_arrow(function_label(member.function), function_label(function))),
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
    member = _member(session, procedure, member_id)
    if Phase(procedure.phase) in (Phase.DELIBERATION, Phase.RESULTS, Phase.ARCHIVED):
        raise Conflict(_("The committee can no longer change in this phase."))
    if scoring.has_sheets(session, member):
        raise Conflict(
            _(
                "This member has started scoring; their sheets stay part of the record. "
                "Declare a conflict of interest or assign a reserve member instead."
            )
        )
    why = _justification(procedure, justification)
    user = session.get(User, member.user_id)
    session.delete(member)
    if user is not None:
        _correct(
            session, procedure, actor, justification=why,
            subject="observer" if member.role == ProcedureRole.OBSERVER else "committee",
            text=_("Removed: %(person)s",
                   person=_person(user, member.role, member.function, member.reserve)),
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


def _member(session: Session, procedure: Procedure, member_id: int) -> ProcedureMember:
    member = session.get(ProcedureMember, member_id)
    if member is None or member.procedure_id != procedure.id:
        raise NotFound(_("This person has no role in this procedure (any more)."))
    return member


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


# Facts, the guideline check and the life cycle ----------------------------------------------


def facts_for(session: Session, procedure: Procedure) -> checks.ProcedureFacts:
    scoring_facts = scoring.round_facts(session, procedure)
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
            checks.RequirementFacts(r.kind, r.text, r.rationale)
            for r in requirements(session, procedure)
        ),
        members=tuple(
            checks.MemberFacts(
                m.role,
                m.function,
                m.training_done,
                m.ties,
                m.ties_declared_at is not None,
                m.reserve,
                user.name,
            )
            for m, user in members(session, procedure)
        ),
        letter_round_unpublished=letter_round.unpublished(session, procedure),
        role_overlaps=tuple(
            f"{name} ({role_label(role)})" for name, role in role_overlaps(session, procedure)
        ),
        organisation_admins=len(organisation_admin_ids(session, procedure)),
        admins_on_committee=len(
            set(organisation_admin_ids(session, procedure))
            & {m.user_id for m, _user in members(session, procedure)}
        ),
        without_free_admin=tuple(applicants_without_free_admin(session, procedure)),
        short_of_quorum=scoring_facts.short_of_quorum,
        sheets_missing=scoring_facts.sheets_missing,
        outcomes_missing=scoring_facts.outcomes_missing,
        draw_missing=lottery.draw_missing(session, procedure, scoring_facts.outcomes_missing),
        draw_problems=tuple(lottery.draw_problems(session, procedure))
        if procedure.phase == Phase.DELIBERATION and not scoring_facts.outcomes_missing
        else (),
    )


def guideline_check(session: Session, procedure: Procedure) -> list[checks.Finding]:
    return checks.run(facts_for(session, procedure), utcnow())


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
) -> None:
    """Take one step of the life cycle, after checking its preconditions. The phase is read
    again under the procedure's row lock (the write transaction on SQLite), so an admin's
    click and the scheduled job never both take the same step."""
    step = lifecycle.BY_ACTION.get(action)
    if step is None:
        raise InvalidInput(_("This step does not exist."))
    _lock(session, procedure)
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
    if step.action == "publish_results" and settings is not None:
        lottery.tell_results(session, settings, procedure)
    session.commit()


def _lock(session: Session, procedure: Procedure) -> None:
    """Lock the procedure's row and load its stored phase again (FOR UPDATE is a no-op on
    SQLite, where the write transaction already excludes every other writer)."""
    session.execute(
        select(Procedure)
        .where(Procedure.id == procedure.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


# The clock: opening and closing at the published times --------------------------------------


def phase_now(procedure: Procedure, now: datetime | None = None) -> Phase:
    """The phase as every page shows it: the published times count even before the
    scheduled job has taken the step."""
    return lifecycle.phase_at(procedure, now or utcnow())


def takes_applications(procedure: Procedure, now: datetime | None = None) -> bool:
    return lifecycle.takes_applications(procedure, now or utcnow())


def phase_now_column(now: datetime) -> ColumnElement[str]:
    """`lifecycle.phase_at` as SQL, for the catalogue's filter and order."""
    closed = and_(
        col(Procedure.closes_at).is_not(None),
        col(Procedure.closes_at) <= now,
    )
    opened = and_(col(Procedure.opens_at).is_not(None), col(Procedure.opens_at) <= now)
    return case(
        (and_(col(Procedure.phase) == Phase.OPEN, closed), Phase.CLOSED.value),
        (and_(col(Procedure.phase) == Phase.PUBLISHED, opened, closed), Phase.CLOSED.value),
        (and_(col(Procedure.phase) == Phase.PUBLISHED, opened), Phase.OPEN.value),
        else_=col(Procedure.phase),
    )


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
            _lock(session, procedure)
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


def ranking_rule_label(rule: str) -> str:
    labels = {
        "lottery_among_suitable": _(
            "Everyone found suitable is equal; when there are more suitable candidates than "
            "places, a verifiable lottery decides the order (published pluses first decide "
            "between them, as published)."
        ),
        "score_then_lottery_at_cut": _(
            "Suitable candidates are ranked by their weighted total score; a verifiable lottery "
            "decides between candidates who tie at the last place."
        ),
    }
    return labels.get(rule, _("No rule chosen yet."))


def requirement_kind_label(kind: str) -> str:
    return {
        "minimum": _("Minimum requirement"),
        "criterion": _("Letter-round criterion"),
    }.get(kind, kind)


def plus_label(kind: str) -> str:
    return {
        "phd": _("PhD (doctorate)"),
        "anios": _("Experience as anios"),
        "regional": _("Experience in the region"),
        "languages": _("Extra languages"),
        "other": _("Other plus"),
    }.get(kind, kind)


def correction_subject_label(subject: str) -> str:
    return {
        "criteria": _("Criteria"),
        "rubric": _("Interview matrix"),
        "pluses": _("Pluses"),
        "method": _("Method"),
        "timeline": _("Timeline"),
        "places": _("Places"),
        "committee": _("Committee"),
        "observer": _("Observer"),
        "other": _("Other"),
    }.get(subject, subject)


# The public catalogue ------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogueFilter:
    text: str = ""
    specialty: str = ""
    region: str = ""
    status: str = ""
    closes_before: date | None = None


def catalogue(
    session: Session, query: CatalogueFilter, now: datetime | None = None
) -> list[tuple[Procedure, Organisation]]:
    statement = (
        permissions.public_procedures()
        .join(Organisation, col(Organisation.id) == col(Procedure.organisation_id))
        .add_columns(Organisation)
    )
    # contains(..., autoescape=True): a typed % or _ is a character, not a LIKE wildcard.
    if words := query.text.strip().lower():
        statement = statement.where(
            func.lower(Procedure.title).contains(words, autoescape=True)
            | func.lower(Procedure.specialty).contains(words, autoescape=True)
            | func.lower(Procedure.region).contains(words, autoescape=True)
            | func.lower(Organisation.name).contains(words, autoescape=True)
            | func.lower(Procedure.reference).contains(words, autoescape=True)
        )
    if query.specialty:
        statement = statement.where(col(Procedure.specialty) == query.specialty)
    if region := query.region.strip().lower():
        statement = statement.where(func.lower(Procedure.region).contains(region, autoescape=True))
    phase = phase_now_column(now or utcnow())
    if query.status:
        statement = statement.where(phase == query.status)
    if query.closes_before:
        limit = datetime.combine(query.closes_before, datetime.max.time(), tzinfo=UTC)
        statement = statement.where(col(Procedure.closes_at) <= limit)
    statement = statement.order_by(
        case((phase == Phase.OPEN, 0), (phase == Phase.PUBLISHED, 1), else_=2),
        col(Procedure.closes_at).desc(),
    )
    return [
        (procedure, organisation) for procedure, organisation in session.execute(statement).all()
    ]


def specialties(session: Session) -> list[str]:
    rows = session.execute(
        permissions.public_procedures().with_only_columns(col(Procedure.specialty)).distinct()
    ).scalars()
    return sorted(set(rows))


def published_findings(procedure: Procedure) -> list[checks.Finding]:
    """The warnings the guideline check gave at publication, as published."""
    by_name = {check.name: check for check in checks.CHECKS}
    return [
        checks.Finding(
            check=name,
            severity=by_name[name].severity,
            title=by_name[name].title(),
            source=by_name[name].source,
            quote=by_name[name].quote(),
        )
        for name in procedure.published_warnings or []
        if name in by_name
    ]


def application_status_label(status: str) -> str:
    return {
        "draft": _("Draft, not submitted"),
        "submitted": _("Submitted"),
        "withdrawn": _("Withdrawn"),
    }.get(status, status)


def document_kind_label(kind: str) -> str:
    return {"cv": _("CV"), "motivation": _("Motivation letter"), "other": _("Other document")}.get(
        kind, kind
    )


def relation_label(relation: str) -> str:
    return {
        "family": _("Family"),
        "friend": _("Friend"),
        "supervised": _("Supervised me or I supervised them"),
        "colleague": _("Direct colleague"),
        "other": _("Otherwise"),
    }.get(relation, relation)


def diversity_label(answer: str) -> str:
    return {
        "gender": _("Gender"),
        "migration_background": _("Migration background"),
        "first_generation": _("First in the family to study"),
        "woman": _("Woman"),
        "man": _("Man"),
        "other": _("Other"),
        "rather_not": _("I would rather not say"),
        "none": _("None"),
        "western": _("Western"),
        "non_western": _("Non-western"),
        "yes": _("Yes"),
        "no": _("No"),
        "unanswered": _("Not answered"),
    }.get(answer, answer)
