"""Account use cases: registration, verification, login with throttling, sessions,
password reset and invitations. Each state change is recorded in the audit chain."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete, func
from sqlmodel import Session, col, select

from app.accounts import mail
from app.accounts.models import LoginFailure, LoginSession, Token, User
from app.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from app.audit.service import PLATFORM_CHAIN, actor_id, record
from app.config import Settings
from app.db import utcnow
from app.errors import InvalidInput, NotFound, TooManyAttempts
from app.i18n import gettext as _

VERIFY = "verify"
RESET = "reset"
INVITE = "invite"
TOKEN_LIFETIME = {
    VERIFY: timedelta(days=2),
    RESET: timedelta(hours=1),
    INVITE: timedelta(days=14),
}


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(raw: str) -> str:
    try:
        result = validate_email(raw.strip(), check_deliverability=False)
    except EmailNotValidError:
        raise InvalidInput(_("Enter a valid e-mail address."), field="email") from None
    return result.normalized.lower()


def check_new_password(password: str, confirmation: str) -> None:
    if len(password) < MIN_LENGTH:
        raise InvalidInput(
            _("Choose a password of at least %(n)s characters.", n=MIN_LENGTH), field="password"
        )
    if len(password) > 1024:
        raise InvalidInput(_("This password is too long."), field="password")
    if password != confirmation:
        raise InvalidInput(_("The two passwords are not the same."), field="password_confirm")


def find_user(session: Session, email: str) -> User | None:
    return session.execute(select(User).where(User.email == email)).scalar_one_or_none()


# Tokens -----------------------------------------------------------------------------------


def issue_token(session: Session, user: User, purpose: str) -> str:
    token = secrets.token_urlsafe(32)
    assert user.id is not None
    session.add(
        Token(
            token_hash=_hash(token),
            purpose=purpose,
            user_id=user.id,
            expires_at=utcnow() + TOKEN_LIFETIME[purpose],
        )
    )
    return token


def valid_token(session: Session, token: str, purpose: str) -> Token:
    row = session.execute(
        select(Token).where(Token.token_hash == _hash(token), Token.purpose == purpose)
    ).scalar_one_or_none()
    if row is None or row.used_at is not None or row.expires_at <= utcnow():
        raise NotFound(_("This link is not valid: it has expired or has been used already."))
    return row


def _use(session: Session, token: Token) -> User:
    token.used_at = utcnow()
    user = session.get(User, token.user_id)
    assert user is not None
    return user


# Registration and verification ----------------------------------------------------------


def register(
    session: Session, settings: Settings, *, name: str, email: str, password: str, confirm: str
) -> None:
    """Create an applicant account and send the verification link.

    An address that already has an account gets a notice instead, and the page says the
    same in both cases, so registration does not reveal who has an account.
    """
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter your name."), field="name")
    if len(name) > 200:
        raise InvalidInput(_("This name is too long."), field="name")
    email = normalise_email(email)
    check_new_password(password, confirm)
    existing = find_user(session, email)
    if existing is not None:
        mail.send(
            session,
            settings,
            to=email,
            subject=_("Someone tried to register with your e-mail address"),
            body=_(
                "An account with this address already exists. If that was you, log in or "
                "reset your password at %(url)s",
                url=f"{settings.base_url}/password/forgot",
            ),
        )
        session.commit()
        return
    user = User(email=email, name=name, password_hash=hash_password(password))
    session.add(user)
    session.flush()
    send_verification(session, settings, user)
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor_id(user.id),
        action="account.registered",
        subject=f"user:{user.id}",
    )
    session.commit()


def send_verification(session: Session, settings: Settings, user: User) -> None:
    token = issue_token(session, user, VERIFY)
    mail.send(
        session,
        settings,
        to=user.email,
        subject=_("Confirm your e-mail address"),
        body=_(
            "Dear %(name)s,\n\nConfirm your e-mail address by opening this link within two "
            "days:\n%(url)s\n\nDid you not create an account? Then ignore this message.",
            name=user.name,
            url=f"{settings.base_url}/verify/{token}",
        ),
    )


def resend_verification(session: Session, settings: Settings, user: User) -> None:
    if user.email_verified_at is None:
        send_verification(session, settings, user)
        session.commit()


def verify_email(session: Session, token: str) -> User:
    user = _use(session, valid_token(session, token, VERIFY))
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
        record(
            session,
            chain=PLATFORM_CHAIN,
            actor=actor_id(user.id),
            action="account.verified",
            subject=f"user:{user.id}",
        )
    session.commit()
    return user


# Login, throttling and sessions ----------------------------------------------------------


@dataclass
class Login:
    user: User
    token: str


def login(
    session: Session, settings: Settings, *, email: str, password: str, address: str
) -> Login:
    if not email.strip() or not password:
        raise InvalidInput(_("Enter your e-mail address and your password."), field="email")
    account = email.strip().lower()[:254]
    address = address[:64]
    _check_throttle(session, settings, account, address)
    user = find_user(session, account)
    if user is None or not verify_password(password, user.password_hash):
        session.add(LoginFailure(account=account, address=address))
        session.commit()
        raise InvalidInput(_("The e-mail address or password is not correct."))
    assert user.id is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    session.execute(delete(LoginFailure).where(col(LoginFailure.account) == account))
    token = start_session(session, settings, user)
    session.commit()
    return Login(user=user, token=token)


def _check_throttle(session: Session, settings: Settings, account: str, address: str) -> None:
    since = utcnow() - timedelta(seconds=settings.login_window_seconds)
    by_account, by_address = session.execute(
        select(
            func.count().filter(col(LoginFailure.account) == account),
            func.count().filter(col(LoginFailure.address) == address),
        ).where(col(LoginFailure.at) > since)
    ).one()
    if (
        by_account >= settings.login_max_failures
        or by_address >= settings.login_max_failures_per_address
    ):
        raise TooManyAttempts(
            _("Too many failed attempts. Wait a minute and try again, or reset your password."),
            retry_after=settings.login_window_seconds,
        )


def start_session(session: Session, settings: Settings, user: User) -> str:
    assert user.id is not None
    token = secrets.token_urlsafe(32)
    session.add(
        LoginSession(
            token_hash=_hash(token),
            user_id=user.id,
            expires_at=utcnow() + timedelta(days=settings.session_days),
        )
    )
    return token


def logout(session: Session, token: str | None) -> None:
    if token:
        session.execute(delete(LoginSession).where(col(LoginSession.token_hash) == _hash(token)))
        session.commit()


def prune_expired(session: Session, settings: Settings) -> None:
    """Old sessions and login failures are of no use; the daily job removes them."""
    now = utcnow()
    session.execute(delete(LoginSession).where(col(LoginSession.expires_at) <= now))
    window = now - timedelta(seconds=settings.login_window_seconds)
    session.execute(delete(LoginFailure).where(col(LoginFailure.at) <= window))
    session.commit()


# Password reset -------------------------------------------------------------------------


def request_password_reset(session: Session, settings: Settings, email: str) -> None:
    """Send a reset link when the account exists; the page says the same either way."""
    try:
        address = normalise_email(email)
    except InvalidInput:
        raise
    user = find_user(session, address)
    if user is None:
        return
    token = issue_token(session, user, RESET)
    mail.send(
        session,
        settings,
        to=user.email,
        subject=_("Reset your password"),
        body=_(
            "Dear %(name)s,\n\nChoose a new password by opening this link within an hour; "
            "it works once:\n%(url)s\n\nDid you not ask for this? Then ignore this message; "
            "your password stays as it is.",
            name=user.name,
            url=f"{settings.base_url}/password/reset/{token}",
        ),
    )
    session.commit()


def reset_password(
    session: Session, settings: Settings, *, token: str, password: str, confirm: str
) -> Login:
    row = valid_token(session, token, RESET)
    check_new_password(password, confirm)
    user = _use(session, row)
    user.password_hash = hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    # A new password ends every session that the old one opened.
    session.execute(delete(LoginSession).where(col(LoginSession.user_id) == user.id))
    session.execute(delete(LoginFailure).where(col(LoginFailure.account) == user.email))
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor_id(user.id),
        action="account.password_reset",
        subject=f"user:{user.id}",
    )
    login_token = start_session(session, settings, user)
    session.commit()
    return Login(user=user, token=login_token)


# Invitations ------------------------------------------------------------------------------


def invited_user(session: Session, token: str) -> User:
    return _peek(session, valid_token(session, token, INVITE))


def _peek(session: Session, token: Token) -> User:
    user = session.get(User, token.user_id)
    assert user is not None
    return user


def accept_invitation(
    session: Session, settings: Settings, *, token: str, name: str, password: str, confirm: str
) -> Login:
    """The invited person chooses their name and password; the link proves the address."""
    row = valid_token(session, token, INVITE)
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter your name."), field="name")
    check_new_password(password, confirm)
    user = _use(session, row)
    user.name = name[:200]
    user.password_hash = hash_password(password)
    if user.email_verified_at is None:
        user.email_verified_at = utcnow()
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor_id(user.id),
        action="account.invitation_accepted",
        subject=f"user:{user.id}",
    )
    login_token = start_session(session, settings, user)
    session.commit()
    return Login(user=user, token=login_token)


def create_user(
    session: Session,
    *,
    email: str,
    name: str,
    password: str | None,
    platform_admin: bool = False,
    verified: bool = True,
    actor: str = "system",
) -> User:
    """For the command line and the demo data: an account that can log in at once."""
    user = User(
        email=normalise_email(email),
        name=name,
        password_hash=hash_password(password) if password else None,
        is_platform_admin=platform_admin,
        email_verified_at=utcnow() if verified else None,
    )
    session.add(user)
    session.flush()
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor,
        action="account.created",
        subject=f"user:{user.id}",
        data={"platform_admin": platform_admin},
    )
    session.commit()
    return user
