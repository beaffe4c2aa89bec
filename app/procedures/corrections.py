"""Changes after publication: each one a dated, justified public correction in the chain."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlmodel import Session

from app.audit.chain import format_time
from app.audit.service import record
from app.db import utcnow
from app.errors import Conflict, InvalidInput
from app.i18n import gettext as _
from app.procedures import checks
from app.procedures.facts import procedure_facts
from app.procedures.models import Correction, Procedure
from app.procedures.queries import is_frozen, is_published
from app.procedures.vocabulary import Phase

CORRECTION_SUBJECTS = (
    "criteria", "rubric", "pluses", "method", "timeline", "places", "committee", "observer",
    "other",
)  # fmt: skip
MIN_JUSTIFICATION = 10
MAX_JUSTIFICATION = 2000


def refuse_if_frozen(session: Session, procedure: Procedure, what: str) -> None:
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


def record_change(
    session: Session, procedure: Procedure, actor: str, fields: Mapping[str, object]
) -> None:
    procedure.updated_at = utcnow()
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="procedure.changed",
        subject=f"procedure:{procedure.reference}",
        data={key: audit_value(value) for key, value in fields.items()},
    )
    session.commit()


def audit_value(value: object) -> object:
    if isinstance(value, datetime):
        return format_time(value)
    if isinstance(value, float):
        return str(value)
    return value


def checked_justification(procedure: Procedure, justification: str) -> str:
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


def correct(
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
    warnings = [f.check for f in checks.run(procedure_facts(session, procedure), moment)]
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


def arrow(before: object, after: object) -> str:
    def shown(value: object) -> object:
        return "—" if value in (None, "") else value

    return f"{shown(before)} → {shown(after)}"


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
