"""The admin's letter round: invite or not, with a reason per applicant, then publish."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app import flash, permissions
from app.applications import letter_round
from app.applications import queries as application_queries
from app.applications.routes import numbered
from app.audit.service import actor_id
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.errors import DomainError
from app.i18n import gettext as _
from app.i18n import ngettext
from app.permissions import Principal
from app.procedures import queries, roles
from app.scoring import round as scoring_round
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()


# The letter round (admins) -------------------------------------------------------------


def _letter_round_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    error_reference: str | None = None,
    status_code: int = 200,
) -> Response:
    # An admin with a conflict: the applicant is left out; another admin decides.
    view = scoring_round.view_of(session, principal, procedure, None)
    round_ = letter_round.LetterRound.load(session, procedure)
    applications = [(a, u) for a, u in round_.submitted if view.shows(a.id)]
    hidden = len(round_.submitted) - len(applications)
    return render(
        request,
        "applications/letter_round.html",
        {
            "procedure": procedure,
            "applications": applications,
            "requirements": round_.requirements,
            "all_requirements": queries.requirements(session, procedure),
            "decisions": round_.decisions,
            "documents": application_queries.documents_of(session, [a for a, _u in applications]),
            "undecided": round_.undecided,
            "unpublished": round_.unpublished,
            "diversity": letter_round.diversity_summary(session, procedure),
            "hidden_notice": roles.left_to_another_admin(
                session, procedure, principal.user_id, hidden
            ),
            "error": error,
            "error_reference": error_reference,
        },
        status_code=status_code,
    )


def _letter_round_procedure(
    session: DbSession, principal: CurrentPrincipal, reference: str
) -> Procedure:
    return permissions.require_procedure(
        session, principal, reference, permissions.can_run_letter_round
    )


@router.get("/manage/procedures/{reference}/letter-round", name="letter_round")
def letter_round_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _letter_round_procedure(session, principal, reference)
    return _letter_round_page(request, session, principal, procedure)


@router.post("/manage/procedures/{reference}/letter-round/{application_reference}")
async def decide_letter_round(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
) -> Response:
    form = await request.form()
    text = {key: value for key, value in form.items() if isinstance(value, str)}
    verdicts = {
        number: (value, text.get(f"reason-{key.removeprefix('met-')}", ""))
        for number, key, value in numbered(text, "met-")
    }
    return await run_in_threadpool(
        _decide, request, session, principal, reference, application_reference, verdicts
    )


def _decide(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    application_reference: str,
    verdicts: dict[int, tuple[str, str]],
) -> Response:
    procedure = _letter_round_procedure(session, principal, reference)
    application = application_queries.by_reference(session, application_reference)
    view = scoring_round.view_of(session, principal, procedure, None)
    permissions.require_visible(
        permissions.can_act_on_applicant(principal, procedure, view, application.id)
    )
    try:
        letter_round.decide(
            session,
            actor=actor_id(principal.user_id),
            procedure=procedure,
            application=application,
            verdicts=verdicts,
        )
    except DomainError as error:
        session.rollback()
        return _letter_round_page(
            request,
            session,
            principal,
            procedure,
            error=error,
            error_reference=application_reference,
            status_code=error.status_code,
        )
    return flash.redirect(
        request,
        f"/manage/procedures/{reference}/letter-round#{application_reference}",
        _("The decision on %(reference)s is saved.", reference=application_reference),
    )


def _confirmation(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: Principal,
    procedure: Procedure,
) -> Response:
    """The second step: who is invited and who not, how many are e-mailed, and the mail."""
    try:
        preview = letter_round.preview(session, settings, procedure)
    except DomainError as error:
        session.rollback()
        return _letter_round_page(
            request, session, principal, procedure, error=error, status_code=error.status_code
        )
    view = scoring_round.view_of(session, principal, procedure, None)
    shown = [letter for letter in preview.letters if view.shows(letter.about)]
    counted = [
        ngettext(
            "%(num)s applicant meets every minimum requirement and is invited to an interview.",
            "%(num)s applicants meet every minimum requirement and are invited to an interview.",
            preview.invited,
        ),
        ngettext(
            "%(num)s applicant is not invited, and reads which minimum requirements they do "
            "not meet, with your reasons.",
            "%(num)s applicants are not invited, and read which minimum requirements they do "
            "not meet, with your reasons.",
            preview.not_invited,
        ),
    ]
    # A count of nobody says nothing: only the groups there are.
    happens = [
        line
        for line, count in zip(counted, (preview.invited, preview.not_invited), strict=True)
        if count
    ] + [
        _(
            "The result goes into the audit chain, and the committee members can then declare "
            "whom of the invited applicants they know."
        ),
    ]
    url = f"/manage/procedures/{procedure.reference}/letter-round"
    return render(
        request,
        "confirm.html",
        {
            "procedure": procedure,
            "heading": _("Publish the letter-round result"),
            "happens": happens,
            "recipients": len(preview.letters),
            "letter": shown[0] if shown else None,
            "note": _(
                "An applicant who is not invited reads the requirements they do not meet instead."
            )
            if preview.not_invited
            else "",
            "action_url": f"/manage/procedures/{procedure.reference}/letter-round-result",
            "fields": {},
            "confirm_label": _("Publish and e-mail the applicants"),
            "cancel_url": url,
        },
    )


@router.get("/manage/procedures/{reference}/letter-round-result", name="confirm_letter_round")
def confirm_letter_round(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
) -> Response:
    procedure = _letter_round_procedure(session, principal, reference)
    return _confirmation(request, session, settings, principal, procedure)


@router.post("/manage/procedures/{reference}/letter-round-result")
def publish_letter_round(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    procedure = _letter_round_procedure(session, principal, reference)
    if confirmed != "1":
        # Everyone is e-mailed: first the confirmation step, with what will be sent.
        try:
            letter_round.preview(session, settings, procedure)
        except DomainError as error:
            session.rollback()
            return _letter_round_page(
                request, session, principal, procedure, error=error, status_code=error.status_code
            )
        return RedirectResponse(
            f"/manage/procedures/{reference}/letter-round-result", status_code=303
        )
    try:
        told = letter_round.publish(
            session, settings, actor=actor_id(principal.user_id), procedure=procedure
        )
    except DomainError as error:
        session.rollback()
        return _letter_round_page(
            request, session, principal, procedure, error=error, status_code=error.status_code
        )
    return flash.redirect(
        request,
        f"/manage/procedures/{reference}/letter-round",
        ngettext(
            "The letter-round result is published; %(num)s applicant was e-mailed.",
            "The letter-round result is published; %(num)s applicants were e-mailed.",
            told,
        ),
    )
