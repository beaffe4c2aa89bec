"""The applicant's pages: their overview, the application form (a draft that keeps what was
typed), their application with its documents, the diversity questions, and their data."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile

from app import flash, forms, permissions
from app.applications import diversity as application_diversity
from app.applications import documents as application_documents
from app.applications import letter_round, privacy, submission
from app.applications import queries as application_queries
from app.applications.models import Application, Document
from app.applications.vocabulary import ApplicationStatus, Relation
from app.audit import checkpoint as checkpoints
from app.audit import service as audit
from app.conduct import dashboard
from app.db import utcnow
from app.deps import SESSION_COOKIE, AppSettings, CurrentPrincipal, DbSession
from app.downloads import attachment, safe_name
from app.errors import DomainError, InvalidInput
from app.i18n import gettext as _
from app.interviews import schedule as interview_schedule
from app.lottery import results
from app.placement import preferences
from app.placement import rounds as placement_rounds
from app.procedures import queries
from app.procedures.vocabulary import Phase
from app.scoring import round as scoring_round
from app.web import local_date, local_time, render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.accounts.models import User
    from app.procedures.models import Procedure

router = APIRouter()


def _storage(request: Request) -> Any:
    return request.app.state.storage


@router.get("/my", name="applicant_home")
def applicant_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    """Each application with its stages and the next date; then the procedures open now
    that the applicant has not applied to (one they withdrew from is not open to them)."""
    user = permissions.require_login(principal)
    entries = dashboard.overview(session, user, format_time=local_time, format_date=local_date)
    applied = {entry.procedure.id for entry in entries}
    open_procedures = [
        procedure
        for procedure in session.execute(
            permissions.public_procedures().where(queries.phase_now_column(utcnow()) == Phase.OPEN)
        ).scalars()
        if procedure.id not in applied
    ]
    return render(
        request,
        "applications/home.html",
        {"entries": entries, "open_procedures": open_procedures},
    )


def _form_page(
    request: Request,
    session: DbSession,
    procedure: Procedure,
    application: Application | None,
    *,
    error: DomainError | None = None,
    refused: list[DomainError] | None = None,
    typed: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The form; after a save with refused values or files, each message sits at its field
    and the refused values are shown as typed (`typed`), everything else as kept."""
    field_errors: dict[str, list[str]] = {}
    for problem in refused or []:
        field_errors.setdefault(problem.field or "", []).append(problem.message)
    return render(
        request,
        "applications/form.html",
        {
            "procedure": procedure,
            "application": application,
            "requirements": queries.requirements(session, procedure),
            "members": queries.members(session, procedure),
            "documents": application_queries.documents(session, application) if application else [],
            "declarations": application_queries.declarations(session, application)
            if application
            else {},
            "problems": submission.problems_before_submit(session, application, procedure)
            if application
            else [],
            "relations": [r.value for r in Relation],
            "max_mb": request.app.state.settings.max_document_mb,
            "error": error,
            "refused": [(_anchor(p.field), p.message) for p in refused or []],
            "field_errors": field_errors,
            "typed": typed or {},
        },
        status_code=status_code,
    )


def _anchor(field: str | None) -> str:
    """The id of the form control a refused field belongs to, for the summary's links."""
    names = {"phone": "f-phone", "big_number": "f-big", "institution": "f-institution",
             "document-cv": "f-cv",
             "document-motivation": "f-motivation", "document-other": "f-other"}  # fmt: skip
    if field and field.startswith(("answer-", "relation-", "note-")):
        return field
    return names.get(field or "", "documents-heading" if field == "documents" else "top")


def _closed_page(
    request: Request,
    procedure: Procedure,
    application: Application | None,
    *,
    kept: bool = False,
    status_code: int = 200,
) -> Response:
    """Instead of the form when the published times say no: when applications open, or
    when they closed (and, after a late submit, that what was sent is kept as a draft)."""
    return render(
        request,
        "applications/closed.html",
        {
            "procedure": procedure,
            "application": application,
            "not_yet": queries.phase_now(procedure) == Phase.PUBLISHED,
            "kept": kept,
        },
        status_code=status_code,
    )


def _applying(
    session: DbSession, principal: CurrentPrincipal, reference: str
) -> tuple[Procedure, User]:
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_procedure
    )
    user = permissions.require_login(principal)
    permissions.require(
        principal,
        permissions.can_apply(principal, procedure),
        permissions.apply_refusal(principal, procedure),
    )
    return procedure, user


@router.get("/procedures/{reference}/apply", name="apply")
def application_form(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure, user = _applying(session, principal, reference)
    application = application_queries.for_applicant(session, procedure, user)
    if application is not None and application.status != ApplicationStatus.DRAFT:
        # Not silently: the application's page says why there is no form.
        return flash.redirect(
            request,
            f"/applications/{application.reference}",
            _("You withdrew your application to this procedure: it cannot be sent again.")
            if application.status == ApplicationStatus.WITHDRAWN
            else _("You have sent your application already; this is its page."),
        )
    if not queries.takes_applications(procedure):
        return _closed_page(request, procedure, application)
    return _form_page(request, session, procedure, application)


@router.post("/procedures/{reference}/apply")
async def save_application(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
) -> Response:
    # The upload is read here, asynchronously; the use case then runs in a worker thread,
    # so a wait for the database never blocks the event loop and the other requests on it.
    form = await request.form()
    return await run_in_threadpool(
        _save_application, request, session, settings, principal, reference, form
    )


def numbered(text: dict[str, str], prefix: str) -> list[tuple[int, str, str]]:
    """The fields named `prefix` + an id (answer-3, relation-12), with the id parsed
    strictly: a name whose id is not one is refused, naming the field."""
    found = []
    for key, value in text.items():
        if key.startswith(prefix):
            found.append((forms.identifier(key.removeprefix(prefix), key[:60]), key, value))
    return found


def _save_application(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    form: FormData,
) -> Response:
    procedure, user = _applying(session, principal, reference)
    text = {key: value for key, value in form.items() if isinstance(value, str)}
    answers = {number: value[:20_000] for number, _key, value in numbered(text, "answer-")}
    acquaintances = {
        number: (value, text.get(f"note-{key.removeprefix('relation-')}", "")[:5000])
        for number, key, value in numbered(text, "relation-")
    }
    uploads = [
        application_documents.Upload(
            kind=kind, filename=value.filename or "document.pdf", stream=value.file
        )
        for kind in ("cv", "motivation", "other")
        for value in form.getlist(kind)
        if isinstance(value, UploadFile) and value.filename
    ]
    application = application_queries.for_applicant(session, procedure, user)
    if application is not None and application.status == ApplicationStatus.SUBMITTED:
        # A second press of the submit button: the first one counted.
        return RedirectResponse(f"/applications/{application.reference}", status_code=303)
    now = utcnow()
    kept = False  # whether what this request sent has been saved
    try:
        if application is None:
            application = submission.start(session, procedure=procedure, applicant=user, now=now)
        refused = submission.save_draft(
            session,
            _storage(request),
            settings,
            application=application,
            procedure=procedure,
            phone=text["phone"][:100] if "phone" in text else None,
            big_number=text["big_number"][:100] if "big_number" in text else None,
            institution=text["institution"][:300] if "institution" in text else None,
            answers=answers,
            retention_consent=text.get("retention_consent") == "yes",
            acquaintances=acquaintances,
            uploads=uploads,
            now=now,
        )
        kept = True
        if not queries.takes_applications(procedure, now):
            # Past the deadline: what was sent is kept as a draft, and the page says so.
            return _closed_page(request, procedure, application, kept=True, status_code=409)
        if refused:
            return _form_page(
                request, session, procedure, application, refused=refused, typed=text,
                status_code=422,
            )  # fmt: skip
        if text.get("action") == "submit":
            submission.submit(
                session, settings, application=application, procedure=procedure, applicant=user
            )
            return RedirectResponse(
                f"/applications/{application.reference}?received=1", status_code=303
            )
    except submission.ApplicationsClosed:
        session.rollback()
        application = application_queries.for_applicant(session, procedure, user)
        return _closed_page(request, procedure, application, kept=kept, status_code=409)
    except DomainError as error:
        session.rollback()
        application = application_queries.for_applicant(session, procedure, user)
        if not queries.takes_applications(procedure):  # no form to come back to
            return _closed_page(
                request, procedure, application, kept=kept, status_code=error.status_code
            )
        return _form_page(
            request, session, procedure, application, error=error, status_code=error.status_code
        )
    return RedirectResponse(f"/procedures/{reference}/apply?saved=1#top", status_code=303)


def _own(
    session: DbSession, principal: CurrentPrincipal, reference: str
) -> tuple[Application, Procedure, User]:
    user = permissions.require_login(principal)
    application = application_queries.by_reference(session, reference)
    permissions.require_visible(permissions.can_view_application(principal, application))
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    return application, procedure, user


@router.get("/applications/{application_reference}", name="application")
def application_page(
    request: Request, session: DbSession, principal: CurrentPrincipal, application_reference: str
) -> Response:
    return show_application(request, session, principal, application_reference)


def show_application(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    application_reference: str,
    *,
    preference_error: DomainError | None = None,
    offer_error: DomainError | None = None,
    interview_error: DomainError | None = None,
    status_code: int = 200,
) -> Response:
    """The applicant's page; after a refused change to the preferences or a refused answer
    to an offer, with the message."""
    application, procedure, _user = _own(session, principal, application_reference)
    return render(
        request,
        "applications/status.html",
        {
            "application": application,
            "procedure": procedure,
            "documents": application_queries.documents(session, application),
            "received": request.query_params.get("received") == "1",
            "letter_reasons": letter_round.reasons_for(session, application),
            "result": results.applicant_result(session, procedure, application),
            "rubric": queries.rubric_of(procedure) if procedure.rubric_hash else None,
            "pluses": queries.pluses(session, procedure),
            "choice": preferences.choice_for(session, procedure, application),
            "preference_error": preference_error,
            "placement": placement_rounds.mine(session, procedure, application),
            "offer_error": offer_error,
            "interview": interview_schedule.mine(session, procedure, application),
            "interview_error": interview_error,
            "moved": request.query_params.get("moved", ""),
            "checkpoint": checkpoints.to_json(cp)
            if request.query_params.get("received") == "1"
            and (cp := audit.latest_checkpoint(session, procedure.reference))
            else None,
        },
        status_code=status_code,
    )


@router.post("/applications/{application_reference}/withdraw")
def withdraw(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    application_reference: str,
) -> Response:
    application, procedure, user = _own(session, principal, application_reference)
    submission.withdraw(
        session, settings, application=application, procedure=procedure, applicant=user
    )
    return RedirectResponse(f"/applications/{application_reference}", status_code=303)


def _readable_document(
    session: DbSession,
    principal: CurrentPrincipal,
    application_reference: str,
    document_id: forms.Id,
) -> tuple[Application, Document]:
    """The applicant's own documents, those the admins read in the letter round, and those
    the applicant's scorers read before the interview."""
    permissions.require_login(principal)
    application = application_queries.by_reference(session, application_reference)
    procedure = queries.procedure_by_id(session, application.procedure_id)
    assert procedure is not None
    standing = scoring_round.standing_towards(session, procedure, application, principal.user_id)
    permissions.require_visible(
        permissions.can_read_application(principal, application, procedure, standing)
    )
    document = session.get(Document, document_id)
    permissions.require_visible(document is not None and document.application_id == application.id)
    assert document is not None
    return application, document


@router.get("/applications/{application_reference}/documents/{document_id}", name="document")
def download_document(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    application_reference: str,
    document_id: forms.Id,
) -> Response:
    _application, document = _readable_document(
        session, principal, application_reference, document_id
    )
    return StreamingResponse(
        _storage(request).chunks(document.storage_key),
        media_type="application/pdf",
        headers={
            **attachment(safe_name(document.filename)),
            "Content-Length": str(document.size),
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/applications/{application_reference}/documents/{document_id}/delete")
def remove_document(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    application_reference: str,
    document_id: forms.Id,
) -> Response:
    application, procedure, _user = _own(session, principal, application_reference)
    application_documents.remove_document(
        session, _storage(request), application=application, document_id=document_id
    )
    return RedirectResponse(f"/procedures/{procedure.reference}/apply#documents", status_code=303)


# The voluntary diversity questionnaire --------------------------------------------------


@router.get("/applications/{application_reference}/diversity", name="diversity")
def diversity_form(
    request: Request, session: DbSession, principal: CurrentPrincipal, application_reference: str
) -> Response:
    application, procedure, _user = _own(session, principal, application_reference)
    return render(
        request,
        "applications/diversity.html",
        {
            "application": application,
            "procedure": procedure,
            "response": application_queries.diversity_response(session, application),
            "options": application_diversity.DIVERSITY_OPTIONS,
        },
    )


@router.post("/applications/{application_reference}/diversity")
def save_diversity(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    application_reference: str,
    gender: Annotated[str, Form(max_length=40)] = "",
    migration_background: Annotated[str, Form(max_length=40)] = "",
    first_generation: Annotated[str, Form(max_length=40)] = "",
) -> Response:
    application, _procedure, _user = _own(session, principal, application_reference)
    application_diversity.save_diversity(
        session,
        application=application,
        answers={
            "gender": gender,
            "migration_background": migration_background,
            "first_generation": first_generation,
        },
    )
    return RedirectResponse(f"/applications/{application_reference}?thanks=1", status_code=303)


# Privacy: the applicant's own data ---------------------------------------------------------


@router.get("/account/export", name="export_my_data")
def export_my_data(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    user = permissions.require_login(principal)
    archive = privacy.export(session, _storage(request), user)
    return StreamingResponse(
        iter(lambda: archive.read(64 * 1024), b""),
        media_type="application/zip",
        headers={
            **attachment(_("my-data") + ".zip"),
            "Cache-Control": "private, no-store",
        },
    )


@router.post("/account/erase")
def erase_my_data(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    user = permissions.require_login(principal)
    if confirm != "yes":
        raise InvalidInput(
            _("Tick the box to confirm that everything may be erased."), field="confirm"
        )
    privacy.erase_applicant(session, _storage(request), user)
    response = RedirectResponse("/?erased=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
