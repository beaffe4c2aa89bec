"""The observer's home and the export of a procedure's audit chain."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response, StreamingResponse

from app import flash, permissions
from app.audit import service as audit
from app.deps import CurrentPrincipal, DbSession
from app.downloads import attachment
from app.errors import DomainError, Forbidden, InvalidInput
from app.i18n import gettext as _
from app.lottery import draws
from app.oversight import report_pdf
from app.oversight import service as oversight
from app.permissions import Principal, RoundView
from app.procedures import committee as procedure_committee
from app.procedures import queries
from app.procedures.vocabulary import ProcedureRole
from app.scoring import round as scoring_round
from app.scoring.listing import ListQuery
from app.web import render

if TYPE_CHECKING:  # names for annotations only: the pages ask the services
    from app.procedures.models import Procedure

router = APIRouter()


@router.get("/observer", name="observer_home")
def observer_home(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_use_observer_home(principal))
    rows = (
        session.execute(permissions.procedures_with_role(principal, ProcedureRole.OBSERVER))
        .scalars()
        .all()
    )
    return _observer_page(request, session, principal, rows)


def _observer_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    rows: Sequence[Procedure],
    *,
    error: DomainError | None = None,
    error_reference: str | None = None,
    status_code: int = 200,
) -> Response:
    heads = {p.reference: audit.head(session, p.reference) for p in rows}
    declarations = queries.memberships(session, principal.user_id)
    return render(
        request,
        "oversight/home.html",
        {
            "procedures": rows,
            "heads": heads,
            "declarations": declarations,
            "can_declare": {p.reference: permissions.can_declare_ties(principal, p) for p in rows},
            "audit_refusals": {
                p.reference: permissions.audit_export_refusal(_view(session, principal, p))
                for p in rows
            },
            "open_draws": draws.open_draws(session, rows),
            "error": error,
            "error_reference": error_reference,
        },
        status_code=status_code,
    )


@router.post("/procedures/{reference}/ties")
def declare_ties(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    has_ties: Annotated[str, Form(max_length=10)] = "",
    ties: Annotated[str, Form(max_length=20_000)] = "",
) -> Response:
    """The observer declares whether they have personal ties with the committee."""
    permissions.require_login(principal)
    procedure = queries.get_procedure(session, reference)
    if principal.role_in(procedure) is None:
        permissions.require_visible(False)
    permissions.require(principal, permissions.can_declare_ties(principal, procedure))
    assert principal.user_id is not None
    try:
        if has_ties not in ("yes", "no"):
            raise InvalidInput(_("Choose whether you have personal ties."), field="has_ties")
        if has_ties == "yes" and not ties.strip():
            raise InvalidInput(_("Describe your ties."), field="ties")
        procedure_committee.declare_ties(
            session,
            procedure=procedure,
            user_id=principal.user_id,
            ties=ties if has_ties == "yes" else "",
        )
    except DomainError as error:
        session.rollback()
        rows = (
            session.execute(permissions.procedures_with_role(principal, ProcedureRole.OBSERVER))
            .scalars()
            .all()
        )
        return _observer_page(
            request,
            session,
            principal,
            rows,
            error=error,
            error_reference=reference,
            status_code=error.status_code,
        )
    return RedirectResponse("/observer", status_code=303)


@router.get("/procedures/{reference}/audit.jsonl", name="audit_export")
def export_chain(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_view_audit
    )
    refusal = permissions.audit_export_refusal(_view(session, principal, procedure))
    if refusal:
        raise Forbidden(refusal)
    lines = list(audit.export_lines(session, procedure.reference))
    return StreamingResponse(
        iter(lines),
        media_type="application/jsonl; charset=utf-8",
        headers=attachment(f"{procedure.reference}-audit.jsonl"),
    )


# The observer's view of a round, remarks, the report and its sign-off ------------------------


def _overseen(session: DbSession, principal: Principal, reference: str) -> Procedure:
    """The observer and the admins read the whole round; nobody else."""
    return permissions.require_procedure(session, principal, reference, permissions.can_read_round)


def _round_and_view(
    session: DbSession, principal: Principal, procedure: Procedure
) -> tuple[scoring_round.Round | None, RoundView]:
    """The round, loaded once for the request, and what the reader's standing leaves out of
    it (permissions.RoundView)."""
    round_ = scoring_round.load_round(session, procedure) if procedure.rubric_hash else None
    return round_, scoring_round.view_of(session, principal, procedure, round_)


def _view(session: DbSession, principal: Principal, procedure: Procedure) -> RoundView:
    return _round_and_view(session, principal, procedure)[1]


def _report(
    session: DbSession, principal: Principal, procedure: Procedure, request: Request | None = None
) -> oversight.Report:
    """The report; asked by a page (`request`), its applicants a page at a time as the
    request's query asks; without, all of them (the PDF)."""
    round_, view = _round_and_view(session, principal, procedure)
    query = ListQuery.of(request.query_params) if request is not None else None
    return oversight.report(session, procedure, view, round_=round_, query=query)


def _overview_page(
    request: Request,
    session: DbSession,
    principal: Principal,
    procedure: Procedure,
    *,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
) -> Response:
    round_, view = _round_and_view(session, principal, procedure)
    query = ListQuery.of(request.query_params)
    return render(
        request,
        "oversight/overview.html",
        {
            "procedure": procedure,
            "report": oversight.report(session, procedure, view, round_=round_, query=query)
            if procedure.rubric_hash
            else None,
            "can_remark": permissions.can_remark(principal, procedure),
            "audit_refusal": permissions.audit_export_refusal(view),
            "error": error,
            "values": values or {},
        },
        status_code=error.status_code if error else 200,
    )


@router.get("/observer/procedures/{reference}", name="observer_overview")
def observer_overview(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _overseen(session, principal, reference)
    return _overview_page(request, session, principal, procedure)


@router.post("/observer/procedures/{reference}/remarks")
def add_remark(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    text: Annotated[str, Form(max_length=20_000)] = "",
    application: Annotated[str, Form(max_length=100)] = "",
    about: Annotated[str, Form(max_length=40)] = "",
    corrects: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    procedure = _overseen(session, principal, reference)
    permissions.require(principal, permissions.can_remark(principal, procedure))
    observer = oversight.observer_of(session, procedure, principal.user_id)
    try:
        remark = oversight.add_remark(
            session, procedure=procedure, observer=observer, text=text,
            application_reference=application, about=about, corrects=corrects,
        )  # fmt: skip
    except DomainError as error:
        session.rollback()
        values = {"text": text, "application": application, "about": about, "corrects": corrects}
        return _overview_page(request, session, principal, procedure, error=error, values=values)
    return RedirectResponse(
        f"/observer/procedures/{reference}#remark-{remark.number}", status_code=303
    )


@router.get("/procedures/{reference}/report", name="round_report")
def round_report(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    procedure = _overseen(session, principal, reference)
    permissions.require_visible(procedure.rubric_hash is not None)
    return render(
        request,
        "oversight/report.html",
        {
            "report": _report(session, principal, procedure, request),
            "procedure": procedure,
            "can_sign": permissions.can_remark(principal, procedure),
        },
    )


@router.get("/procedures/{reference}/report.pdf")
def round_report_pdf(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    check: bool = False,
) -> Response:
    """The PDF when a job has rendered it for the round as it stands (the chain head), the
    reader's view and language; until then a page that says so (202), which checks again
    by itself (`check`: its fragment) and links the PDF once it is there."""
    procedure = _overseen(session, principal, reference)
    permissions.require_visible(procedure.rubric_hash is not None)
    view = _view(session, principal, procedure)
    asked = report_pdf.ask(request.app.state.database, procedure, view, retry=not check)
    if asked.state == "ready" and asked.pdf is not None and not check:
        return Response(
            asked.pdf,
            media_type="application/pdf",
            headers=attachment(f"{procedure.reference}-report.pdf"),
        )
    return render(
        request,
        "oversight/report_pdf.html",
        {"procedure": procedure, "asked": asked},
        status_code=200 if asked.state == "ready" else 202,
        block="status" if check else None,
    )


@router.get("/procedures/{reference}/report.csv")
def round_report_csv(session: DbSession, principal: CurrentPrincipal, reference: str) -> Response:
    procedure = _overseen(session, principal, reference)
    permissions.require_visible(procedure.rubric_hash is not None)
    round_, view = _round_and_view(session, principal, procedure)
    return Response(
        oversight.scores_csv(session, procedure, view, human=True, round_=round_),
        media_type="text/csv; charset=utf-8",
        headers=attachment(f"{procedure.reference}-scores.csv"),
    )


@router.get("/procedures/{reference}/report.xlsx")
def round_report_xlsx(session: DbSession, principal: CurrentPrincipal, reference: str) -> Response:
    procedure = _overseen(session, principal, reference)
    permissions.require_visible(procedure.rubric_hash is not None)
    round_, view = _round_and_view(session, principal, procedure)
    return Response(
        oversight.scores_xlsx(session, procedure, view, round_=round_),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers=attachment(f"{procedure.reference}-scores.xlsx"),
    )


def _report_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    procedure: Procedure,
    error: DomainError,
) -> Response:
    return render(
        request,
        "oversight/report.html",
        {
            "report": _report(session, principal, procedure, request),
            "procedure": procedure,
            "can_sign": True,
            "error": error,
        },
        status_code=error.status_code,
    )


@router.get("/procedures/{reference}/sign-off", name="confirm_sign_off")
def confirm_sign_off(
    request: Request, session: DbSession, principal: CurrentPrincipal, reference: str
) -> Response:
    """The second step of the sign-off, which closes the round for good."""
    procedure = _overseen(session, principal, reference)
    permissions.require(principal, permissions.can_remark(principal, procedure))
    observer = oversight.observer_of(session, procedure, principal.user_id)
    try:
        oversight.check_sign_off(session, procedure=procedure, observer=observer)
    except DomainError as error:
        session.rollback()
        return _report_page(request, session, principal, procedure, error)
    head = audit.head(session, procedure.reference)
    return render(
        request,
        "confirm.html",
        {
            "procedure": procedure,
            "heading": _("Sign the round off"),
            "happens": [
                _(
                    "The round is closed: the outcomes, the ranking and the draw can no "
                    "longer change."
                ),
                _(
                    "Your sign-off goes into the audit chain with the SHA-256 of the scores "
                    "and the chain's head (now %(head)s).",
                    head=(head.hash[:16] + "…") if head else "—",
                ),
                _("The round report then shows that you signed it off, and when."),
            ],
            "recipients": 0,
            "letter": None,
            "action_url": f"/procedures/{procedure.reference}/sign-off",
            "fields": {},
            "confirm_label": _("Sign the round off"),
            "cancel_url": f"/procedures/{procedure.reference}/report",
        },
    )


@router.post("/procedures/{reference}/sign-off")
def sign_off(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    confirmed: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    procedure = _overseen(session, principal, reference)
    permissions.require(principal, permissions.can_remark(principal, procedure))
    observer = oversight.observer_of(session, procedure, principal.user_id)
    try:
        if confirmed != "1":
            # It closes the round for good: first the confirmation step.
            oversight.check_sign_off(session, procedure=procedure, observer=observer)
            return RedirectResponse(f"/procedures/{reference}/sign-off", status_code=303)
        oversight.sign_off(session, procedure=procedure, observer=observer)
    except DomainError as error:
        session.rollback()
        return _report_page(request, session, principal, procedure, error)
    return flash.redirect(
        request,
        f"/procedures/{reference}/report#sign-off",
        _("You signed the round off; it is closed."),
    )
