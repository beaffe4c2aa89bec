"""create_app(): settings, database, middleware, routers, static files and error pages."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from http import HTTPStatus

import anyio
from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.formparsers import MultiPartParser
from starlette.middleware.gzip import DEFAULT_EXCLUDED_CONTENT_TYPES, GZipMiddleware

from app import jobs
from app.accounts import labels as account_labels
from app.accounts import passwords
from app.accounts.routes import router as accounts_router
from app.applications import labels as application_labels
from app.applications.letter_round_routes import router as letter_round_router
from app.applications.routes import router as applications_router
from app.applications.stores import check_store
from app.assets import STATIC_DIR, HashedStaticFiles, static_url
from app.audit import labels as audit_labels
from app.audit.routes import router as audit_router
from app.conduct import stages
from app.config import Settings, get_settings
from app.db import connect
from app.deps import get_principal
from app.errors import DomainError, LoginRequired, TooManyAttempts
from app.i18n import LANGUAGES, set_language
from app.i18n import gettext as _
from app.interviews.routes import router as interviews_router
from app.lottery import labels as lottery_labels
from app.lottery.routes import router as lottery_router
from app.oversight import service as oversight
from app.oversight.routes import router as oversight_router
from app.placement import labels as placement_labels
from app.placement.routes import router as placement_router
from app.pool.routes import router as pool_router
from app.procedures import labels as procedure_labels
from app.procedures import lifecycle, queries
from app.procedures.admin_routes import router as admin_router
from app.procedures.api import router as api_router
from app.procedures.editor_routes import router as editor_router
from app.procedures.routes import router as procedures_router
from app.scoring import labels as scoring_labels
from app.scoring.deliberation_routes import router as deliberation_router
from app.scoring.routes import router as scoring_router
from app.scoring.sheet_routes import router as sheet_router
from app.security import (
    LANGUAGE_COOKIE,
    BodySizeLimit,
    RequestContextMiddleware,
    refuse_control_characters,
    security_headers,
    verify_csrf,
)
from app.web import render, templates
from app.worker import make_context

templates.env.globals.update(
    phase_label=procedure_labels.phase_label,
    phase_now=queries.phase_now,
    takes_applications=queries.takes_applications,
    role_label=procedure_labels.role_label,
    function_label=procedure_labels.function_label,
    ranking_rule_label=procedure_labels.ranking_rule_label,
    requirement_kind_label=procedure_labels.requirement_kind_label,
    plus_label=procedure_labels.plus_label,
    correction_subject_label=procedure_labels.correction_subject_label,
    action_label=lifecycle.action_label,
    application_status_label=application_labels.application_status_label,
    document_kind_label=application_labels.document_kind_label,
    relation_label=application_labels.relation_label,
    sheet_status_label=scoring_labels.sheet_status_label,
    agreement_label=scoring_labels.agreement_label,
    draw_status_label=lottery_labels.draw_status_label,
    contributor_label=lottery_labels.contributor_label,
    offer_status_label=placement_labels.offer_status_label,
    verify_step_label=lottery_labels.verify_step_label,
    explain_step=lottery_labels.explain,
    remark_about_label=oversight.remark_about_label,
    audit_problem_label=audit_labels.problem_label,
    audit_step_label=audit_labels.step_label,
    diversity_label=application_labels.diversity_label,
    stage_state_label=stages.state_label,
    static_url=static_url,
    mail_state_label=account_labels.mail_state_label,
)

log = logging.getLogger("app")

# Already compressed, or binary: gzip would spend time for nothing (a PDF's streams are
# deflated, an XLSX is a zip file).
NOT_COMPRESSED = (
    *DEFAULT_EXCLUDED_CONTENT_TYPES,
    "application/pdf",
    "application/octet-stream",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/x-icon",
    "image/vnd.microsoft.icon",
)


# Uploads go to a temporary file after 64 kB instead of 1 MB, so two hundred applicants
# uploading at the deadline hold kilobytes each in memory, not megabytes.
MultiPartParser.spool_max_size = 64 * 1024


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    passwords.use_cost(settings.password_hash_cost)
    database = connect(settings.database_url)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _freeze_startup_objects()
        async with asynccontextmanager(_run_jobs)(app):
            yield
        database.dispose()

    app = FastAPI(
        title="Selectieplatform",
        summary="Transparent selection procedures for postgraduate medical training",
        lifespan=lifespan,
        dependencies=[Depends(verify_csrf), Depends(refuse_control_characters)],
        docs_url=None,
        redoc_url="/api/docs",
    )
    app.state.settings = settings
    app.state.database = database
    # The document store and the checkpoint signing key (made on first start, outside the
    # database), shared with the jobs.
    app.state.jobs = make_context(settings, database)
    with database.session() as session:
        check_store(settings, session, app.state.jobs.storage)
    app.state.storage = app.state.jobs.storage
    app.state.keyring = app.state.jobs.keyring
    app.state.sheet_limiter = anyio.CapacityLimiter(settings.sheet_threads)
    # Three documents and the form fields; anything larger is refused before it is read.
    app.add_middleware(BodySizeLimit, max_bytes=(3 * settings.max_document_mb + 2) * 1024 * 1024)
    app.add_middleware(
        RequestContextMiddleware,
        default_language=settings.default_language,
        https=settings.https,
    )
    # Outermost: it compresses what the others made, the error pages and headers included.
    # Level 1, nginx's default: on a national round's 3.6 MB scores CSV it took 12 ms for
    # 319 KB, where level 6 took 62 ms for 249 KB (bench/README.md, "A national round").
    app.add_middleware(
        GZipMiddleware, minimum_size=500, compresslevel=1, exclude_content_types=NOT_COMPRESSED
    )
    app.mount("/static", HashedStaticFiles(directory=STATIC_DIR), name="static")
    # The score sheet first: an autosave is the most frequent request, and no path of the
    # routers after it matches one of its paths (routes are tried in order).
    for router in (
        sheet_router,
        deliberation_router,
        scoring_router,
        api_router,
        procedures_router,
        editor_router,
        admin_router,
        accounts_router,
        applications_router,
        letter_round_router,
        oversight_router,
        lottery_router,
        placement_router,
        interviews_router,
        pool_router,
        audit_router,
    ):
        app.include_router(router)
    _add_basic_routes(app)
    _add_error_handlers(app)
    return app


def _freeze_startup_objects() -> None:
    """Move what is alive once the app is built (modules, routes, templates, the ORM's
    mappers: some 180,000 objects) out of the garbage collector's sight. A page of a
    national round makes tens of thousands of short-lived objects, and each full collection
    they trigger walked the startup objects again: half the time of loading a 2,000-applicant
    round went there (bench/README.md, "A national round"). Frozen objects are never freed,
    which is right for objects that live as long as the process."""
    gc.collect()
    gc.freeze()


async def _run_jobs(app: FastAPI) -> AsyncIterator[None]:
    """The job worker inside the web server (JOBS_IN_WEB; by default on SQLite only): a
    thread running the local queue, or procrastinate's worker on this event loop."""
    context: jobs.Context = app.state.jobs
    if not context.settings.runs_jobs_in_web:
        yield
        return
    if context.database.is_sqlite:
        from app.jobs.local import Worker

        worker = Worker(context)
        worker.start()
        try:
            yield
        finally:
            await run_in_threadpool(worker.stop)
        return
    from app.jobs.postgres import worker_app

    queue = worker_app(context)
    async with queue.open_async():
        running = asyncio.create_task(
            queue.run_worker_async(install_signal_handlers=False, name="web")
        )
        try:
            yield
        finally:
            running.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await running


def _add_basic_routes(app: FastAPI) -> None:
    @app.get("/healthz", include_in_schema=False)
    def healthz(request: Request) -> Response:
        try:
            with request.app.state.database.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            log.exception("health check failed")
            return JSONResponse({"status": "database unreachable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        # Browsers ask for it at this address whatever the page links to.
        return FileResponse(
            STATIC_DIR / "favicon.ico",
            media_type="image/x-icon",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    @app.get("/lang/{language}", name="set_language", include_in_schema=False)
    def switch_language(request: Request, language: str, next: str = "/") -> Response:
        if language not in LANGUAGES:
            language = request.app.state.settings.default_language
        target = next if next.startswith("/") and not next.startswith("//") else "/"
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(
            LANGUAGE_COOKIE, language, max_age=365 * 86_400, samesite="lax", httponly=True
        )
        return response


def _wants_fragment(request: Request) -> bool:
    return bool(request.headers.get("hx-request"))


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _problem(
    request: Request, status_code: int, message: str, extra: dict[str, object] | None = None
) -> Response:
    """An error of the JSON API as RFC 9457 problem details."""
    body: dict[str, object] = {
        "type": "about:blank",
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": message,
        "instance": request.url.path,
    }
    return JSONResponse(
        body | (extra or {}), status_code=status_code, media_type="application/problem+json"
    )


def _error_page(
    request: Request, status_code: int, message: str, extra: dict[str, object] | None = None
) -> Response:
    if _wants_json(request):
        return _problem(request, status_code, message, extra)
    template = "errors/fragment.html" if _wants_fragment(request) else "errors/error.html"
    if not hasattr(request.state, "csrf_seed"):
        request.state.csrf_seed = ""
    return render(
        request, template, {"status": status_code, "message": message}, status_code=status_code
    )


async def _identify(request: Request) -> None:
    """An error page's header says who is logged in, as every other page does, also when
    the error came before the route asked (a page that does not exist, say)."""
    if _wants_json(request) or getattr(request.state, "principal", None) is not None:
        return
    try:
        await get_principal(request)
    except Exception:  # the database may be why this is an error page
        log.warning("error page for %s without knowing who asked", request.url.path)


def _add_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, error: DomainError) -> Response:
        if isinstance(error, LoginRequired) and not (
            _wants_fragment(request) or _wants_json(request)
        ):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        await _identify(request)
        response = _error_page(request, error.status_code, error.message)
        if isinstance(error, TooManyAttempts):
            response.headers["Retry-After"] = str(error.retry_after)
        return response

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        messages = {
            404: _(
                "This page does not exist. Check the address, or start again from the home page."
            ),
            405: _("This page cannot be used this way."),
        }
        message = messages.get(error.status_code, _("This request could not be handled."))
        if error.status_code == 400 and str(error.detail).startswith("Field exceeded maximum"):
            # Starlette refuses a form field over 1 MB before any route sees the form.
            message = _(
                "Part of what was sent is larger than 1 MB. Send less, or choose a file where "
                "the form offers one."
            )
        await _identify(request)
        return _error_page(request, error.status_code, message)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, error: RequestValidationError) -> Response:
        fields = sorted({str(item["loc"][-1]) for item in error.errors() if item.get("loc")})
        message = _(
            "Some of what was sent is not valid (%(fields)s). Check the form and try again.",
            fields=", ".join(fields),
        )
        invalid = [
            {"name": ".".join(str(part) for part in item["loc"]), "reason": item.get("msg", "")}
            for item in error.errors()
        ]
        await _identify(request)
        return _error_page(request, 422, message, {"invalid_params": invalid})

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, error: Exception) -> Response:
        log.exception("unexpected error on %s %s", request.method, request.url.path)
        set_language(getattr(request.state, "language", "nl"))
        response = _error_page(
            request,
            500,
            _(
                "Something went wrong on our side. It has been logged; please try again in "
                "a moment."
            ),
        )
        # This handler runs outside the middleware that adds these to every other answer.
        secure = request.app.state.settings.https or request.url.scheme == "https"
        for name, value in security_headers(secure):
            response.headers[name.decode()] = value.decode()
        return response
