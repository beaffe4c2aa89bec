"""Privacy: everything held on an applicant as a download, erasure on request, and the purge
of applications whose retention period has passed (anonymous counts and the chain remain)."""

from __future__ import annotations

import json
import tempfile
import zipfile
from collections import Counter
from datetime import datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.accounts.models import LoginSession, Token, User
from app.applications.models import (
    Application,
    Declaration,
    DiversityResponse,
    Document,
    LetterDecision,
)
from app.applications.storage import Storage
from app.audit import chain as chainlib
from app.audit import service as audit
from app.audit.service import PLATFORM_CHAIN, actor_id, record
from app.db import utcnow
from app.errors import Conflict
from app.i18n import gettext as _
from app.placement.models import PlacementOffer, PlacementRound, PreferenceList
from app.pool.models import PoolEntry
from app.procedures.models import Procedure, ProcedureMember
from app.procedures.vocabulary import Phase
from app.scoring.models import JointOutcome

CONSENTED_WEEKS = 52


def _rows(session: Session, model: Any, application: Application) -> list[Any]:
    return list(
        session.execute(select(model).where(model.application_id == application.id)).scalars()
    )


# Entries about an application whose body holds the committee's levels: the applicant reads
# them once the results are published, not while the committee is still deciding. And the
# committee's and observer's own notes about them (a member's declared relation, a remark, a
# reserve assignment): their public form only.
SEALED_UNTIL_RESULTS = ("sheet.", "outcome.")
SEALED = ("conflict.", "remark.", "reserve.")


def _audit_entries(
    session: Session, procedure: Procedure | None, application: Application
) -> list[dict[str, Any]]:
    """Every chain entry about the application, in its full form (body and salt), so the
    applicant can check each against the public chain: the hash from the public form, the
    commitment from body and salt. Before the results, the committee's entries keep their
    body back (public form only)."""
    if procedure is None:
        return []
    published = procedure.phase in (Phase.RESULTS, Phase.ARCHIVED)
    found = []
    for entry in audit.full_forms(
        session, procedure.reference, f"application:{application.reference}"
    ):
        if "body" in entry and not published and entry["action"].startswith(SEALED_UNTIL_RESULTS):
            entry = chainlib.public_form(entry)
        found.append(entry)
    return found


def _offers(session: Session, application: Application) -> list[dict[str, Any]]:
    """The places the placement's rounds offered, with the answers."""
    rows = session.execute(
        select(PlacementRound.number, PlacementOffer)
        .join(PlacementRound, col(PlacementRound.id) == col(PlacementOffer.round_id))
        .where(PlacementOffer.application_id == application.id)
        .order_by(col(PlacementRound.number))
    ).all()
    return [
        {
            "round": number,
            "institution": offer.code,
            "answer": offer.status,
            "answered_at": offer.answered_at.isoformat() if offer.answered_at else None,
        }
        for number, offer in rows
    ]


def export(session: Session, storage: Storage, user: User) -> IO[bytes]:
    """A zip with data.json and every document, built in a temporary file, not in memory."""
    applications = list(
        session.execute(select(Application).where(Application.applicant_id == user.id)).scalars()
    )
    data: dict[str, Any] = {
        "account": {
            "name": user.name,
            "email": user.email,
            "created_at": user.created_at.isoformat(),
            "email_verified_at": user.email_verified_at.isoformat()
            if user.email_verified_at
            else None,
        },
        "applications": [],
        "pool": _pool_record(session, user),
    }
    archive = tempfile.SpooledTemporaryFile(max_size=1024 * 1024)  # noqa: SIM115 - returned open
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
        for application in applications:
            procedure = session.get(Procedure, application.procedure_id)
            documents = _rows(session, Document, application)
            diversity = _rows(session, DiversityResponse, application)
            data["applications"].append(
                {
                    "reference": application.reference,
                    "procedure": procedure.title if procedure else None,
                    "status": application.status,
                    "phone": application.phone,
                    "big_number": application.big_number,
                    "institution": application.institution,
                    "answers": application.answers,
                    "retention_consent": application.retention_consent,
                    "submitted_at": application.submitted_at.isoformat()
                    if application.submitted_at
                    else None,
                    "letter_round_outcome": application.letter_round_outcome,
                    "declarations": [
                        {"member": d.member_id, "relation": d.relation, "note": d.note}
                        for d in _rows(session, Declaration, application)
                    ],
                    "letter_round": [
                        {"requirement": d.requirement_id, "met": d.met, "reason": d.reason}
                        for d in _rows(session, LetterDecision, application)
                    ],
                    "diversity": [
                        {
                            "gender": d.gender,
                            "migration_background": d.migration_background,
                            "first_generation": d.first_generation,
                        }
                        for d in diversity
                    ],
                    "documents": [
                        {"kind": d.kind, "filename": d.filename, "sha256": d.sha256, "size": d.size}
                        for d in documents
                    ],
                    "preferences": [
                        list(p.codes) for p in _rows(session, PreferenceList, application)
                    ],
                    "placement_offers": _offers(session, application),
                    "audit": _audit_entries(session, procedure, application),
                }
            )
            for document in documents:
                name = f"documents/{application.reference}/{document.kind}-{document.filename}"
                with zipped.open(name, "w") as target:
                    for chunk in storage.chunks(document.storage_key):
                        target.write(chunk)
        zipped.writestr("data.json", json.dumps(data, ensure_ascii=False, indent=2))
    archive.seek(0)
    return archive


def _erase_application(
    session: Session, storage: Storage, application: Application, *, actor: str, why: str
) -> None:
    procedure = session.get(Procedure, application.procedure_id)
    assert procedure is not None
    keys = [d.storage_key for d in _rows(session, Document, application)]
    for model in (Document, Declaration, LetterDecision, DiversityResponse):
        session.execute(delete(model).where(col(model.application_id) == application.id))
    record(
        session,
        chain=procedure.reference,
        actor=actor,
        action="application.erased",
        subject=f"application:{application.reference}",
        data={"why": why},
    )
    session.delete(application)
    session.flush()
    for key in keys:  # in this transaction: the bytes go when the rows go
        storage.delete(session, key)


def _pool_record(session: Session, user: User) -> dict[str, Any] | None:
    """The person's record in the pool of assessors, whole (it is theirs)."""
    entry = session.execute(
        select(PoolEntry).where(PoolEntry.user_id == user.id)
    ).scalar_one_or_none()
    return entry.exported() if entry is not None else None


def erase_applicant(session: Session, storage: Storage, user: User) -> None:
    """The applicant asks for erasure: their applications, documents and account go."""
    has_role = session.execute(
        select(ProcedureMember.id).where(ProcedureMember.user_id == user.id).limit(1)
    ).first()
    if has_role or user.is_platform_admin:
        raise Conflict(
            _("You have a role in a procedure; ask its organisation to end it before erasure.")
        )
    for application in session.execute(
        select(Application).where(Application.applicant_id == user.id)
    ).scalars():
        _erase_application(session, storage, application, actor=actor_id(user.id), why="request")
    session.execute(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
    session.execute(delete(Token).where(col(Token.user_id) == user.id))
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor_id(user.id),
        action="account.erased",
        subject=f"user:{user.id}",
    )
    session.delete(user)
    session.commit()


def _found_suitable(session: Session, application: Application) -> bool:
    return bool(
        session.execute(
            select(JointOutcome.suitable).where(JointOutcome.application_id == application.id)
        ).scalar()
    )


def purge(session: Session, storage: Storage, now: datetime | None = None) -> int:
    """Erase every application whose retention period has passed; returns how many."""
    now = now or utcnow()
    erased = 0
    ended = session.execute(
        select(Procedure).where(
            col(Procedure.phase).in_([Phase.RESULTS, Phase.ARCHIVED]),
            col(Procedure.final_result_at).is_not(None),
        )
    ).scalars()
    for procedure in list(ended):
        assert procedure.final_result_at is not None
        weeks = procedure.retention_weeks or 4
        counts: Counter[str] = Counter()
        for application in list(
            session.execute(
                select(Application).where(Application.procedure_id == procedure.id)
            ).scalars()
        ):
            keep = CONSENTED_WEEKS if application.retention_consent else weeks
            if procedure.final_result_at + timedelta(weeks=keep) > now:
                continue
            counts[application.status] += 1
            if application.letter_round_outcome:
                counts[application.letter_round_outcome] += 1
            if _found_suitable(session, application):
                counts["suitable"] += 1
            _erase_application(session, storage, application, actor="system", why="retention")
            erased += 1
        if counts:
            total = Counter(procedure.erased_counts or {})
            total.update(counts)
            procedure.erased_counts = dict(total)
        session.commit()
    return erased
