"""The editor: a procedure's basics, timeline, requirements, pluses and rubric."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import User
from app.applications.models import Application
from app.applications.vocabulary import ApplicationStatus
from app.audit.service import checkpoint_note, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
from app.i18n import gettext as _
from app.i18n import ngettext
from app.procedures import queries
from app.procedures.corrections import (
    arrow,
    checked_justification,
    correct,
    record_change,
    refuse_if_frozen,
)
from app.procedures.labels import plus_label, ranking_rule_label, requirement_kind_label
from app.procedures.models import Organisation, Plus, Procedure, Requirement
from app.procedures.queries import (
    RANKING_RULES,
    REFERENCE_PATTERN,
    RUBRICS_DIR,
    available_rubrics,
    is_frozen,
    is_published,
    phase_now,
    requirements,
)
from app.procedures.vocabulary import Phase, PlusKind, RequirementKind


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
    description_en: str | None = None,
    method_en: str | None = None,
) -> None:
    """The basics; an English version left as None keeps the one there is."""
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
    for key, english in (("description_en", description_en), ("method_en", method_en)):
        if english is not None:
            if len(english) > MAX_TEXT:
                raise InvalidInput(
                    _("A text is at most %(max)s characters.", max=MAX_TEXT), field=key
                )
            new[key] = english.strip()
    changed = {key: value for key, value in new.items() if getattr(procedure, key) != value}
    if not changed:
        return
    # The English method is the method: it is fixed with it.
    frozen = {"method", "method_en", "ranking_rule", "quorum"} & set(changed)
    if frozen:
        refuse_if_frozen(session, procedure, _("The method and the ranking rule"))
    if procedure.phase == Phase.ARCHIVED:
        raise Conflict(_("An archived procedure cannot be changed."))
    if "places" in changed:
        fixed = queries.fixing_draw(session, procedure)
        if fixed is not None:
            raise Conflict(
                ngettext(
                    "Draw %(draw)s has been announced for %(num)s place: the number of "
                    "places is fixed with it. Void the draw with a reason first.",
                    "Draw %(draw)s has been announced for %(num)s places: the number of "
                    "places is fixed with it. Void the draw with a reason first.",
                    fixed.places,
                    draw=fixed.draw_id,
                ),
                field="places",
            )
    why = checked_justification(procedure, justification)
    text = "\n".join(
        f"{_basics_label(key)}: "
        + (
            arrow(_shown(key, getattr(procedure, key)), _shown(key, value))
            if key not in LONG_TEXTS
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
        if {"method", "method_en", "ranking_rule", "quorum"} & set(changed)
        else "other"
    )
    correct(session, procedure, actor, subject=subject, text=text, justification=why)
    record_change(session, procedure, actor, {"fields": sorted(changed)} | _public(changed))


def _basics_label(key: str) -> str:
    return {
        "title": _("Title"),
        "specialty": _("Specialty"),
        "region": _("Region or institutes"),
        "description": _("About the training"),
        "description_en": _("About the training (English)"),
        "places": _("Places"),
        "method": _("Method"),
        "method_en": _("Method (English)"),
        "quorum": _("Scorers per applicant"),
        "ranking_rule": _("Ranking and lottery"),
        "retention_weeks": _("Retention period (weeks)"),
    }.get(key, key)


# Texts too long for the change log's "from → to": it says they changed.
LONG_TEXTS = ("description", "description_en", "method", "method_en")
MAX_TEXT = 20_000


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
    why = checked_justification(procedure, justification)
    labels = {
        "opens_at": _("Applications open"),
        "closes_at": _("Applications close"),
        "letter_round_result_at": _("Letter-round result"),
        "interview_days": _("Interview days"),
        "final_result_at": _("Final result"),
    }
    text = "\n".join(
        f"{labels[key]}: "
        + arrow(_timeline_value(getattr(procedure, key), format_time),
                 _timeline_value(value, format_time))
        for key, value in changed.items()
    )  # fmt: skip
    for key, value in changed.items():
        setattr(procedure, key, value)
    correct(session, procedure, actor, subject="timeline", text=text, justification=why)
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
                )
                + checkpoint_note(session, settings.base_url, procedure.reference, sign=True),
            )
    record_change(session, procedure, actor, changed | ({"told": len(applied)} if applied else {}))


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
    text_en: str = "",
    rationale_en: str = "",
) -> Requirement:
    refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    if kind not in {k.value for k in RequirementKind}:
        raise InvalidInput(_("Choose minimum requirement or letter-round criterion."), field="kind")
    text, rationale = text.strip(), rationale.strip()
    if not text or len(text) > 500:
        raise InvalidInput(_("Describe what is asked (at most 500 characters)."), field="text")
    if len(rationale) > 2000:
        raise InvalidInput(_("The rationale is at most 2000 characters."), field="rationale")
    text_en, rationale_en = _english_requirement(text_en, rationale_en)
    why = checked_justification(procedure, justification)
    assert procedure.id is not None
    position = len(requirements(session, procedure))
    requirement = Requirement(
        procedure_id=procedure.id, kind=kind, position=position, text=text, rationale=rationale,
        text_en=text_en, rationale_en=rationale_en,
    )  # fmt: skip
    session.add(requirement)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="requirement.added",
        subject=f"procedure:{procedure.reference}",
        data={"requirement": requirement.id, "kind": kind, "text": text, "rationale": rationale}
        | ({"text_en": text_en, "rationale_en": rationale_en} if text_en or rationale_en else {}),
    )
    correct(
        session, procedure, actor, subject="criteria", justification=why,
        text=_("Added, %(kind)s: %(text)s", kind=requirement_kind_label(kind).lower(), text=text)
        + (f"\n{_('Why')}: {rationale}" if rationale else ""),
    )  # fmt: skip
    procedure.updated_at = utcnow()
    session.commit()
    return requirement


def _english_requirement(text_en: str, rationale_en: str) -> tuple[str, str]:
    text_en, rationale_en = text_en.strip(), rationale_en.strip()
    if len(text_en) > 500:
        raise InvalidInput(_("Describe what is asked (at most 500 characters)."), field="text_en")
    if len(rationale_en) > 2000:
        raise InvalidInput(_("The rationale is at most 2000 characters."), field="rationale_en")
    if rationale_en and not text_en:
        raise InvalidInput(
            _("Give the English version of what is asked as well as of why."), field="text_en"
        )
    return text_en, rationale_en


def translate_requirement(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    requirement_id: int,
    text_en: str,
    rationale_en: str,
    justification: str = "",
) -> None:
    """The English version of a requirement: a translation says what the Dutch says, so
    it follows the Dutch's rules (fixed once applications exist, a public correction after
    publication)."""
    refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    requirement = session.get(Requirement, requirement_id)
    if requirement is None or requirement.procedure_id != procedure.id:
        raise NotFound(_("This criterion does not exist (any more)."))
    text_en, rationale_en = _english_requirement(text_en, rationale_en)
    if (requirement.text_en, requirement.rationale_en) == (text_en, rationale_en):
        return
    why = checked_justification(procedure, justification)
    requirement.text_en, requirement.rationale_en = text_en, rationale_en
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="requirement.translated",
        subject=f"procedure:{procedure.reference}",
        data={"requirement": requirement.id, "text_en": text_en, "rationale_en": rationale_en},
    )
    correct(
        session, procedure, actor, subject="criteria", justification=why,
        text=_("English version of %(text)s: %(english)s", text=requirement.text,
               english=text_en or "—")
        + (f"\n{_('Why')}: {rationale_en}" if rationale_en else ""),
    )  # fmt: skip
    procedure.updated_at = utcnow()
    session.commit()


def remove_requirement(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    requirement_id: int,
    justification: str = "",
) -> None:
    refuse_if_frozen(session, procedure, _("The letter-round criteria"))
    requirement = session.get(Requirement, requirement_id)
    if requirement is None or requirement.procedure_id != procedure.id:
        raise NotFound(_("This criterion does not exist (any more)."))
    why = checked_justification(procedure, justification)
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
    correct(session, procedure, actor, subject=subject, text=text, justification=why)
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
    description_en: str = "",
) -> Plus:
    refuse_if_frozen(session, procedure, _("The pluses"))
    if kind not in {k.value for k in PlusKind}:
        raise InvalidInput(_("Choose the kind of plus."), field="plus_kind")
    description = description.strip()
    if kind == PlusKind.OTHER and not description:
        raise InvalidInput(_("Describe the plus."), field="plus_description")
    if len(description) > 500:
        raise InvalidInput(
            _("The description is at most 500 characters."), field="plus_description"
        )
    description_en = _english_plus(description, description_en)
    why = checked_justification(procedure, justification)
    assert procedure.id is not None
    plus = Plus(
        procedure_id=procedure.id, kind=kind, description=description,
        description_en=description_en,
    )  # fmt: skip
    session.add(plus)
    session.flush()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="plus.added",
        subject=f"procedure:{procedure.reference}",
        data={"plus": plus.id, "kind": kind, "description": description}
        | ({"description_en": description_en} if description_en else {}),
    )
    correct(
        session, procedure, actor, subject="pluses", justification=why,
        text=_("Plus added: %(plus)s", plus=_plus_text(plus)),
    )  # fmt: skip
    session.commit()
    return plus


def _plus_text(plus: Plus) -> str:
    return plus_label(plus.kind) + (f" — {plus.description}" if plus.description else "")


def _english_plus(description: str, description_en: str) -> str:
    description_en = description_en.strip()
    if len(description_en) > 500:
        raise InvalidInput(
            _("The description is at most 500 characters."), field="plus_description_en"
        )
    if description_en and not description.strip():
        raise InvalidInput(
            _("An English version needs the Dutch description it translates."),
            field="plus_description_en",
        )
    return description_en


def translate_plus(
    session: Session,
    *,
    actor: str,
    procedure: Procedure,
    plus_id: int,
    description_en: str,
    justification: str = "",
) -> None:
    """The English version of a plus's description, under the Dutch's rules."""
    refuse_if_frozen(session, procedure, _("The pluses"))
    plus = session.get(Plus, plus_id)
    if plus is None or plus.procedure_id != procedure.id:
        raise NotFound(_("This plus does not exist (any more)."))
    description_en = _english_plus(plus.description, description_en)
    if plus.description_en == description_en:
        return
    why = checked_justification(procedure, justification)
    plus.description_en = description_en
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="plus.translated",
        subject=f"procedure:{procedure.reference}",
        data={"plus": plus.id, "description_en": description_en},
    )
    correct(
        session, procedure, actor, subject="pluses", justification=why,
        text=_("English version of %(text)s: %(english)s", text=_plus_text(plus),
               english=description_en or "—"),
    )  # fmt: skip
    procedure.updated_at = utcnow()
    session.commit()


def remove_plus(
    session: Session, *, actor: str, procedure: Procedure, plus_id: int, justification: str = ""
) -> None:
    refuse_if_frozen(session, procedure, _("The pluses"))
    plus = session.get(Plus, plus_id)
    if plus is None or plus.procedure_id != procedure.id:
        raise NotFound(_("This plus does not exist (any more)."))
    why = checked_justification(procedure, justification)
    text = _("Plus removed: %(plus)s", plus=_plus_text(plus))
    _remove(session, actor, procedure, plus, "plus", ("pluses", text, why))


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
    refuse_if_frozen(session, procedure, _("The interview matrix"))
    found = {f"{r.id}@{r.version}": r for r in available_rubrics(directory)}
    chosen = found.get(key)
    if chosen is None:
        raise InvalidInput(_("Choose one of the available interview matrices."), field="rubric")
    if procedure.rubric_hash == chosen.content_hash():
        return
    why = checked_justification(procedure, justification)
    before = f"{procedure.rubric_id} v{procedure.rubric_version}" if procedure.rubric_id else None
    procedure.rubric_id = chosen.id
    procedure.rubric_version = chosen.version
    procedure.rubric_content = chosen.content()
    procedure.rubric_hash = chosen.content_hash()
    correct(
        session, procedure, actor, subject="rubric", justification=why,
        text=_("Interview matrix: %(change)s",
               change=arrow(before, f"{chosen.id} v{chosen.version}")),
    )  # fmt: skip
    record_change(
        session,
        procedure,
        actor,
        {
            "rubric": chosen.id,
            "rubric_version": chosen.version,
            "rubric_hash": procedure.rubric_hash,
        },
    )
