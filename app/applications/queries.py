"""Looking up applications and what hangs off them, for their applicant and by reference."""

from __future__ import annotations

from sqlmodel import Session, col, select

from app.accounts.models import User
from app.applications.models import (
    Application,
    Declaration,
    DiversityResponse,
    Document,
)
from app.errors import NotFound
from app.i18n import gettext as _
from app.procedures.models import Procedure


def for_applicant(session: Session, procedure: Procedure, user: User) -> Application | None:
    return session.execute(
        select(Application).where(
            Application.procedure_id == procedure.id, Application.applicant_id == user.id
        )
    ).scalar_one_or_none()


def by_reference(session: Session, reference: str) -> Application:
    application = session.execute(
        select(Application).where(Application.reference == reference)
    ).scalar_one_or_none()
    if application is None:
        raise NotFound(_("This page does not exist."))
    return application


def of_applicant(session: Session, user: User) -> list[tuple[Application, Procedure]]:
    rows = session.execute(
        select(Application, Procedure)
        .join(Procedure, col(Procedure.id) == col(Application.procedure_id))
        .where(Application.applicant_id == user.id)
        .order_by(col(Application.created_at).desc())
    ).all()
    return [(application, procedure) for application, procedure in rows]


def documents(session: Session, application: Application) -> list[Document]:
    return list(
        session.execute(
            select(Document)
            .where(Document.application_id == application.id)
            .order_by(col(Document.id))
        ).scalars()
    )


def documents_of(
    session: Session, applications: list[Application]
) -> dict[int | None, list[Document]]:
    """The documents of several applications in one query, by application id."""
    found: dict[int | None, list[Document]] = {a.id: [] for a in applications}
    if not applications:
        return found
    rows = session.execute(
        select(Document)
        .where(col(Document.application_id).in_([a.id for a in applications]))
        .order_by(col(Document.id))
    ).scalars()
    for document in rows:
        found[document.application_id].append(document)
    return found


def declarations(session: Session, application: Application) -> dict[int, Declaration]:
    rows = session.execute(
        select(Declaration).where(Declaration.application_id == application.id)
    ).scalars()
    return {row.member_id: row for row in rows}


def diversity_response(session: Session, application: Application) -> DiversityResponse | None:
    return session.execute(
        select(DiversityResponse).where(DiversityResponse.application_id == application.id)
    ).scalar_one_or_none()


def references_of(session: Session, procedure: Procedure) -> dict[int, str]:
    """Every application's reference, by id."""
    rows = session.execute(
        select(Application.id, Application.reference).where(
            Application.procedure_id == procedure.id
        )
    ).all()
    return {int(id_): reference for id_, reference in rows}
