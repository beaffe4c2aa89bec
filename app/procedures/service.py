"""Organisations, procedures and the people invited into them."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import case, func
from sqlmodel import Session, col, select

from app import permissions
from app.accounts import mail
from app.accounts.models import User
from app.accounts.service import INVITE, find_user, issue_token, normalise_email
from app.applications import letter_round
from app.applications.models import Application
from app.audit.chain import format_time
from app.audit.service import PLATFORM_CHAIN, actor_id, record
from app.config import ROOT, Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
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
CORRECTION_SUBJECTS = ("criteria", "rubric", "pluses", "method", "timeline", "committee", "other")


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
    for key, value in changed.items():
        setattr(procedure, key, value)
    _changed(session, procedure, actor, {"fields": sorted(changed)} | _public(changed))


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
) -> None:
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
    if procedure.phase not in (Phase.DRAFT, Phase.PUBLISHED) and (
        "opens_at" in changed or ("closes_at" in changed and procedure.phase != Phase.OPEN)
    ):
        raise Conflict(
            _("Applications have opened: the opening date and a passed deadline stay as they were.")
        )
    for key, value in changed.items():
        setattr(procedure, key, value)
    _changed(session, procedure, actor, changed)


def add_requirement(
    session: Session, *, actor: str, procedure: Procedure, kind: str, text: str, rationale: str
) -> Requirement:
    _refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    if kind not in {k.value for k in RequirementKind}:
        raise InvalidInput(_("Choose minimum requirement or letter-round criterion."), field="kind")
    text, rationale = text.strip(), rationale.strip()
    if not text or len(text) > 500:
        raise InvalidInput(_("Describe what is asked (at most 500 characters)."), field="text")
    if len(rationale) > 2000:
        raise InvalidInput(_("The rationale is at most 2000 characters."), field="rationale")
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
    procedure.updated_at = utcnow()
    session.commit()
    return requirement


def remove_requirement(
    session: Session, *, actor: str, procedure: Procedure, requirement_id: int
) -> None:
    _refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    requirement = session.get(Requirement, requirement_id)
    if requirement is None or requirement.procedure_id != procedure.id:
        raise NotFound(_("This criterion does not exist (any more)."))
    _remove(session, actor, procedure, requirement, "requirement")


def _remove(
    session: Session, actor: str, procedure: Procedure, row: Requirement | Plus, name: str
) -> None:
    session.delete(row)
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
    session: Session, *, actor: str, procedure: Procedure, kind: str, description: str
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
    session.commit()
    return plus


def remove_plus(session: Session, *, actor: str, procedure: Procedure, plus_id: int) -> None:
    _refuse_if_frozen(session, procedure, _("The pluses"))
    plus = session.get(Plus, plus_id)
    if plus is None or plus.procedure_id != procedure.id:
        raise NotFound(_("This plus does not exist (any more)."))
    _remove(session, actor, procedure, plus, "plus")


def available_rubrics(directory: Path = RUBRICS_DIR) -> list[rubric.Rubric]:
    return [rubric.load(path) for path in rubric.available(directory).values()]


def pin_rubric(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    key: str,
    directory: Path = RUBRICS_DIR,
) -> None:
    """Pin a rubric file (by "id@version") and keep a copy of its content."""
    _refuse_if_frozen(session, procedure, _("The interview matrix"))
    found = {f"{r.id}@{r.version}": r for r in available_rubrics(directory)}
    chosen = found.get(key)
    if chosen is None:
        raise InvalidInput(_("Choose one of the available interview matrices."), field="rubric")
    procedure.rubric_id = chosen.id
    procedure.rubric_version = chosen.version
    procedure.rubric_content = chosen.content()
    procedure.rubric_hash = chosen.content_hash()
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
) -> None:
    member = _member(session, procedure, member_id)
    if member.role != ProcedureRole.OBSERVER and function not in FUNCTIONS:
        raise InvalidInput(_("Choose the member's function."), field="function")
    member.function = "" if member.role == ProcedureRole.OBSERVER else function
    member.training_done = training_done
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="committee.updated",
        subject=f"user:{member.user_id}",
        data={"function": member.function, "training_done": training_done},
    )
    session.commit()


def remove_member(session: Session, *, actor: str, procedure: Procedure, member_id: int) -> None:
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
    session.delete(member)
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
        short_of_quorum=scoring_facts.short_of_quorum,
        sheets_missing=scoring_facts.sheets_missing,
        outcomes_missing=scoring_facts.outcomes_missing,
        draw_missing=lottery.draw_missing(session, procedure, scoring_facts.outcomes_missing),
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
) -> None:
    """Take one step of the life cycle, after checking its preconditions."""
    step = lifecycle.BY_ACTION.get(action)
    if step is None:
        raise InvalidInput(_("This step does not exist."))
    moment = now or utcnow()
    facts = facts_for(session, procedure)
    reasons = lifecycle.blockers(step, procedure.phase, facts, moment, format_time)
    if reasons:
        raise Conflict(" ".join(reasons))
    data: dict[str, object] = {"from": procedure.phase, "to": step.target.value}
    if step.action == "publish":
        procedure.published_at = moment
        warnings = [f.check for f in checks.run(facts, moment)]
        procedure.published_warnings = warnings
        data |= {"rubric_hash": procedure.rubric_hash, "warnings": warnings}
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action=f"procedure.{step.target.value}",
        subject=f"procedure:{procedure.reference}",
        data=data,
    )
    procedure.phase = step.target.value
    procedure.updated_at = utcnow()
    if step.action == "publish_results" and settings is not None:
        lottery.tell_results(session, settings, procedure)
    session.commit()


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
        "committee": _("Committee"),
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


def catalogue(session: Session, query: CatalogueFilter) -> list[tuple[Procedure, Organisation]]:
    statement = (
        permissions.public_procedures()
        .join(Organisation, col(Organisation.id) == col(Procedure.organisation_id))
        .add_columns(Organisation)
    )
    if query.text.strip():
        pattern = f"%{query.text.strip().lower()}%"
        statement = statement.where(
            func.lower(Procedure.title).like(pattern)
            | func.lower(Procedure.specialty).like(pattern)
            | func.lower(Procedure.region).like(pattern)
            | func.lower(Organisation.name).like(pattern)
            | func.lower(Procedure.reference).like(pattern)
        )
    if query.specialty:
        statement = statement.where(col(Procedure.specialty) == query.specialty)
    if query.region.strip():
        statement = statement.where(
            func.lower(Procedure.region).like(f"%{query.region.strip().lower()}%")
        )
    if query.status:
        statement = statement.where(col(Procedure.phase) == query.status)
    if query.closes_before:
        limit = datetime.combine(query.closes_before, datetime.max.time(), tzinfo=UTC)
        statement = statement.where(col(Procedure.closes_at) <= limit)
    statement = statement.order_by(
        case(
            (col(Procedure.phase) == Phase.OPEN, 0),
            (col(Procedure.phase) == Phase.PUBLISHED, 1),
            else_=2,
        ),
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
