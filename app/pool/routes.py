"""The pool's pages: a person's own record, the WV admins' search (with adding people), and
composing a procedure's committee from the pool."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import Response

from app import flash, forms, permissions
from app.audit.service import actor_id
from app.deps import AppSettings, CurrentPrincipal, DbSession
from app.downloads import attachment
from app.errors import DomainError
from app.i18n import gettext as _
from app.permissions import Principal
from app.pool import service
from app.procedures import queries
from app.procedures.vocabulary import Phase
from app.web import render

if TYPE_CHECKING:  # names for annotations only
    from app.procedures.models import Procedure

router = APIRouter()

Text = Annotated[str, Form(max_length=1000)]


def record_form(
    function: Text = "",
    specialty: Text = "",
    institution: Text = "",
    region: Text = "",
    starr_course: Text = "",
    starr_on: Text = "",
    bias_course: Text = "",
    bias_on: Text = "",
) -> service.Record:
    """The fields of a pool record as the form sent them (one's own, or an admin's "add")."""
    return service.Record(
        function=function,
        specialty=specialty,
        institution=institution,
        region=region,
        starr_course=starr_course,
        starr_on=starr_on,
        bias_course=bias_course,
        bias_on=bias_on,
    )


RecordForm = Annotated[service.Record, Depends(record_form)]


def _values_of(entry: object | None) -> dict[str, str]:
    """The form's fields filled from a stored record."""
    if entry is None:
        return {}
    return {
        "function": getattr(entry, "function", ""),
        "specialty": getattr(entry, "specialty", ""),
        "institution": getattr(entry, "institution", ""),
        "region": getattr(entry, "region", ""),
        "starr_course": getattr(entry, "starr_course", ""),
        "starr_on": forms.day_input(getattr(entry, "starr_on", None)),
        "bias_course": getattr(entry, "bias_course", ""),
        "bias_on": forms.day_input(getattr(entry, "bias_on", None)),
    }


def _choices() -> dict[str, object]:
    return {
        "functions": queries.FUNCTIONS,
        "specialties": service.SPECIALTIES,
        "regions": service.REGIONS,
        "date_hint": forms.input_hint(with_time=False),
    }


# A person's own record ------------------------------------------------------------------


@router.get("/pool", name="pool_mine")
def my_record(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    user = permissions.require_login(principal)
    permissions.require(principal, permissions.can_keep_pool_record(principal))
    entry = service.entry_of(session, user.id)
    return render(
        request,
        "pool/mine.html",
        {"entry": entry, "values": _values_of(entry), **_choices()},
    )


@router.post("/pool")
def save_my_record(
    request: Request, session: DbSession, principal: CurrentPrincipal, form: RecordForm
) -> Response:
    user = permissions.require_login(principal)
    permissions.require(principal, permissions.can_keep_pool_record(principal))
    joined = service.entry_of(session, user.id) is None
    try:
        service.save_own(session, actor=actor_id(user.id), user=user, form=form)
    except DomainError as error:
        session.rollback()
        return render(
            request,
            "pool/mine.html",
            {
                "entry": service.entry_of(session, user.id),
                "values": form.__dict__,
                "error": error,
                **_choices(),
            },
            status_code=error.status_code,
        )
    message = _("You are in the pool now.") if joined else _("Your pool record is saved.")
    return flash.redirect(request, "/pool", message)


@router.post("/pool/leave")
def leave_pool(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    confirm: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    user = permissions.require_login(principal)
    permissions.require(principal, permissions.can_keep_pool_record(principal))
    entry = service.entry_of(session, user.id)
    if confirm != "yes":
        return render(
            request,
            "pool/mine.html",
            {
                "entry": entry,
                "values": _values_of(entry),
                "error": DomainError(_("Tick the box to confirm that you leave the pool.")),
                **_choices(),
            },
            status_code=422,
        )
    service.leave(session, actor=actor_id(user.id), user=user)
    return flash.redirect(request, "/pool", _("Your pool record is removed."))


@router.get("/pool/export.json")
def export_my_record(session: DbSession, principal: CurrentPrincipal) -> Response:
    user = permissions.require_login(principal)
    permissions.require(principal, permissions.can_keep_pool_record(principal))
    body = {
        "name": user.name,
        "email": user.email,
        "pool": entry.exported() if (entry := service.entry_of(session, user.id)) else None,
    }
    return Response(
        json.dumps(body, ensure_ascii=False, indent=2),
        media_type="application/json",
        headers=attachment("pool-record.json"),
    )


# The admins' search ---------------------------------------------------------------------


SearchField = Annotated[str, Query(max_length=200)]


def search_query(
    function: SearchField = "",
    specialty: SearchField = "",
    region: SearchField = "",
    trained: SearchField = "",
    q: SearchField = "",
) -> service.Query:
    """The search as the address asks it; a value not in its list is ignored."""
    return service.Query(
        function=function if function in queries.FUNCTIONS else "",
        specialty=specialty if specialty in service.SPECIALTIES else "",
        region=region if region in service.REGIONS else "",
        trained=trained == "yes",
        text=q,
    )


SearchQuery = Annotated[service.Query, Depends(search_query)]


def _search_page(
    request: Request,
    session: DbSession,
    query: service.Query,
    *,
    procedure: Procedure | None = None,
    error: DomainError | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    found, total = service.search(session, query)
    on_committee: set[int] = set()
    if procedure is not None:
        on_committee = {member.user_id for member, _user in queries.members(session, procedure)}
    return render(
        request,
        "pool/search.html",
        {
            "query": query,
            "found": found,
            "total": total,
            "limit": service.SEARCH_LIMIT,
            "procedure": procedure,
            "on_committee": on_committee,
            "needs_justification": procedure is not None and procedure.phase != Phase.DRAFT,
            "error": error,
            "values": values or {},
            "request_query": f"?{request.url.query}" if request.url.query else "",
            **_choices(),
        },
        status_code=status_code,
    )


def _require_search(principal: Principal) -> None:
    permissions.require_login(principal)
    permissions.require(principal, permissions.can_search_pool(principal))


@router.get("/manage/pool", name="pool_search")
def search_pool(
    request: Request, session: DbSession, principal: CurrentPrincipal, query: SearchQuery
) -> Response:
    _require_search(principal)
    return _search_page(request, session, query)


@router.post("/manage/pool")
def add_to_pool(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    form: RecordForm,
    email: Text = "",
    name: Text = "",
) -> Response:
    _require_search(principal)
    try:
        invitation = service.add_person(
            session,
            settings,
            actor=actor_id(principal.user_id),
            email=email,
            name=name,
            form=form,
        )
    except DomainError as error:
        session.rollback()
        return _search_page(
            request,
            session,
            service.Query(),
            error=error,
            values={"email": email, "name": name, **form.__dict__},
            status_code=error.status_code,
        )
    return flash.redirect(
        request,
        "/manage/pool#found",
        _("%(name)s is in the pool now and has been told.", name=invitation.user.name),
    )


# Composing a committee ------------------------------------------------------------------


def _composing(session: DbSession, principal: Principal, reference: str) -> Procedure:
    procedure = permissions.require_procedure(
        session, principal, reference, permissions.can_manage_procedure
    )
    permissions.require(principal, permissions.can_invite_to_procedure(principal, procedure))
    return procedure


@router.get("/manage/procedures/{reference}/pool", name="pool_compose")
def compose_page(
    request: Request,
    session: DbSession,
    principal: CurrentPrincipal,
    reference: str,
    query: SearchQuery,
) -> Response:
    procedure = _composing(session, principal, reference)
    if not request.url.query:  # start from the procedure's own specialty
        query = search_query(specialty=procedure.specialty)
    return _search_page(request, session, query, procedure=procedure)


@router.post("/manage/procedures/{reference}/pool/{entry_id}")
def compose(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    principal: CurrentPrincipal,
    reference: str,
    entry_id: forms.Id,
    role: Annotated[str, Form(max_length=20)] = "",
    reserve: Annotated[bool, Form()] = False,
    justification: Annotated[str, Form(max_length=20_000)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    procedure = _composing(session, principal, reference)
    try:
        invitation = service.compose(
            session,
            settings,
            actor=actor_id(principal.user_id),
            procedure=procedure,
            entry_id=entry_id,
            role=role,
            reserve=reserve,
            justification=justification,
        )
    except DomainError as error:
        session.rollback()
        procedure = queries.get_procedure(session, reference)
        return _search_page(
            request,
            session,
            search_query(specialty=procedure.specialty),
            procedure=procedure,
            error=error,
            values={"justification": justification},
            status_code=error.status_code,
        )
    # Back to the same search (only a query string of this page is followed).
    query = back if back.startswith("?") and "\n" not in back and "\r" not in back else ""
    return flash.redirect(
        request,
        f"/manage/procedures/{reference}/pool{query}#found",
        _("%(name)s is invited onto the committee.", name=invitation.user.name),
    )
