"""Login, logout, registration, e-mail verification, password reset and invitations."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import col, select

from app import flash, forms, permissions
from app.accounts import service
from app.accounts.models import Mail
from app.deps import SESSION_COOKIE, AppSettings, CurrentPrincipal, DbSession
from app.errors import Conflict, InvalidInput, TooManyAttempts
from app.i18n import gettext as _
from app.permissions import require_login
from app.procedures import roles
from app.security import DEVICE_COOKIE, device_mark, is_known_device, request_address
from app.web import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a local path: never an open redirect to another site."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/home"


def signed_in(
    request: Request, settings: AppSettings, result: service.Login, target: str
) -> Response:
    response = RedirectResponse(target, status_code=303)
    secure = settings.https or request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        result.token,
        max_age=settings.session_days * 86_400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    # This browser has proved it knows the password: strangers' failures will not lock
    # it out of the account (see app/accounts/throttle.py).
    response.set_cookie(
        DEVICE_COOKIE,
        device_mark(settings.secret_key, result.user.email),
        max_age=365 * 86_400,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/login",
    )
    return response


def too_many(response: Response, error: TooManyAttempts) -> Response:
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/login", name="login")
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "accounts/login.html", {"next": safe_next(next), "email": ""})


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/home",
) -> Response:
    account = email.strip().lower()
    try:
        result = service.login(
            session,
            settings,
            email=email,
            password=password,
            address=request_address(request),
            known_device=is_known_device(request, account),
        )
    except (InvalidInput, TooManyAttempts) as error:
        context = {"next": safe_next(next), "email": email, "error": error.message}
        if isinstance(error, TooManyAttempts):
            page = render(request, "accounts/login.html", context, status_code=429)
            return too_many(page, error)
        status = 400 if error.field is None else 422
        return render(request, "accounts/login.html", context, status_code=status)
    return signed_in(request, settings, result, safe_next(next))


@router.post("/logout", name="logout")
def logout(request: Request, session: DbSession) -> Response:
    service.logout(session, request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/register", name="register")
def register_page(request: Request) -> Response:
    return render(request, "accounts/register.html", {"values": {}})


@router.post("/register")
def register(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    name: Annotated[str, Form(max_length=1000)] = "",
    email: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    password_confirm: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        service.register(
            session,
            settings,
            name=name,
            email=email,
            password=password,
            confirm=password_confirm,
            address=request_address(request),
        )
    except (InvalidInput, TooManyAttempts) as error:
        context = {"values": {"name": name, "email": email}, "error": error}
        page = render(request, "accounts/register.html", context, status_code=error.status_code)
        return too_many(page, error) if isinstance(error, TooManyAttempts) else page
    return render(request, "accounts/check_mail.html", {"email": email.strip()})


@router.get("/verify/{token}", name="verify")
def verify_page(request: Request, session: DbSession, token: str) -> Response:
    service.valid_token(session, token, service.VERIFY)
    return render(request, "accounts/verify.html", {"token": token})


@router.post("/verify/{token}")
def verify(request: Request, session: DbSession, token: str) -> Response:
    service.verify_email(session, token)
    return render(request, "accounts/verified.html")


@router.get("/account", name="account")
def account_page(request: Request, principal: CurrentPrincipal) -> Response:
    require_login(principal)
    return render(request, "accounts/account.html")


@router.post("/account/verification")
def resend_verification(
    request: Request, session: DbSession, settings: AppSettings, principal: CurrentPrincipal
) -> Response:
    user = require_login(principal)
    try:
        service.resend_verification(session, settings, user, request_address(request))
    except TooManyAttempts as error:
        page = render(request, "accounts/account.html", {"error": error}, status_code=429)
        return too_many(page, error)
    return render(request, "accounts/account.html", {"resent": True})


@router.get("/password/forgot", name="forgot_password")
def forgot_page(request: Request) -> Response:
    return render(request, "accounts/forgot.html", {"email": ""})


@router.post("/password/forgot")
def forgot(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    email: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    try:
        service.request_password_reset(session, settings, email, request_address(request))
    except (InvalidInput, TooManyAttempts) as error:
        context = {"email": email, "error": error}
        page = render(request, "accounts/forgot.html", context, status_code=error.status_code)
        return too_many(page, error) if isinstance(error, TooManyAttempts) else page
    return render(request, "accounts/forgot.html", {"sent": True, "email": email})


@router.get("/password/reset/{token}", name="reset_password")
def reset_page(request: Request, session: DbSession, token: str) -> Response:
    service.valid_token(session, token, service.RESET)
    return render(request, "accounts/reset.html", {"token": token})


@router.post("/password/reset/{token}")
def reset(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: str,
    password: Annotated[str, Form(max_length=2000)] = "",
    password_confirm: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        result = service.reset_password(
            session, settings, token=token, password=password, confirm=password_confirm
        )
    except InvalidInput as error:
        return render(
            request, "accounts/reset.html", {"token": token, "error": error}, status_code=422
        )
    return signed_in(request, settings, result, "/home")


@router.get("/invitations/{token}", name="invitation")
def invitation_page(request: Request, session: DbSession, token: str) -> Response:
    user = service.invited_user(session, token)
    return render(
        request, "accounts/invitation.html", {"token": token, "invitee": user, "values": {}}
    )


@router.post("/invitations/{token}")
def accept_invitation(
    request: Request,
    session: DbSession,
    settings: AppSettings,
    token: str,
    name: Annotated[str, Form(max_length=1000)] = "",
    password: Annotated[str, Form(max_length=2000)] = "",
    password_confirm: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    try:
        overlap = roles.overlapping_invitations(session, service.invited_user(session, token).id)
        if overlap:
            # Roles exclude each other within one procedure; the invitation cannot count.
            raise Conflict(
                _(
                    "You have applied to %(references)s, where you are also invited onto the "
                    "committee or as the observer; an applicant cannot be one of its "
                    "assessors. Ask the procedure's admin to withdraw the invitation.",
                    references=", ".join(overlap),
                )
            )
        result = service.accept_invitation(
            session, settings, token=token, name=name, password=password, confirm=password_confirm
        )
    except (InvalidInput, Conflict) as error:
        user = service.invited_user(session, token)
        context = {"token": token, "invitee": user, "values": {"name": name}, "error": error}
        return render(request, "accounts/invitation.html", context, status_code=error.status_code)
    return signed_in(request, settings, result, "/home")


@router.get("/home", name="dashboard")
def dashboard(principal: CurrentPrincipal) -> Response:
    """After login, each role lands on its own page (the first role it holds, in this order)."""
    require_login(principal)
    if permissions.can_use_platform_admin(principal):
        target = "/admin"
    elif permissions.can_use_manage_home(principal):
        target = "/manage"
    elif permissions.can_use_committee_home(principal):
        target = "/committee"
    elif permissions.can_use_observer_home(principal):
        target = "/observer"
    else:
        target = "/my"
    return RedirectResponse(target, status_code=303)


@router.get("/admin/outbox", name="outbox")
def outbox(request: Request, session: DbSession, principal: CurrentPrincipal) -> Response:
    permissions.require(principal, permissions.can_read_outbox(principal))
    mails = session.execute(select(Mail).order_by(col(Mail.id).desc()).limit(200)).scalars().all()
    return render(request, "admin/outbox.html", {"mails": mails})


@router.get("/admin/outbox/{mail_id}", name="outbox_mail")
def outbox_mail(
    request: Request, session: DbSession, principal: CurrentPrincipal, mail_id: forms.Id
) -> Response:
    permissions.require(principal, permissions.can_read_outbox(principal))
    message = session.get(Mail, mail_id)
    permissions.require_visible(message is not None)
    return render(request, "admin/mail.html", {"mail": message})


@router.post("/admin/outbox/{mail_id}/send-again", name="outbox_send_again")
def outbox_send_again(
    request: Request, session: DbSession, principal: CurrentPrincipal, mail_id: forms.Id
) -> Response:
    permissions.require(principal, permissions.can_read_outbox(principal))
    service.send_mail_again(session, actor=principal.user_id or 0, mail_id=mail_id)
    return flash.redirect(request, "/admin/outbox", _("The message is queued to be sent again."))
