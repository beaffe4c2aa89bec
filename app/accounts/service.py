"""Account use cases: registration, verification, login with throttling, sessions,
password reset and invitations. Each state change is recorded in the audit chain."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from email_validator import EmailNotValidError, validate_email
from sqlalchemy import delete
from sqlmodel import Session, col, select

from app.accounts import mail, throttle
from app.accounts.models import (
    LoginFailure,
    LoginSession,
    Mail,
    MailRequest,
    MailState,
    Token,
    User,
)
from app.accounts.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from app.audit.service import PLATFORM_CHAIN, actor_id, record
from app.config import Settings
from app.db import utcnow
from app.errors import Conflict, InvalidInput, NotFound
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


def user_by_id(session: Session, user_id: int | None) -> User | None:
    return session.get(User, user_id) if user_id is not None else None


def users_by_id(session: Session, user_ids: Iterable[int | None]) -> dict[int, User]:
    """Several users in one query (the identity map answers for those already loaded)."""
    wanted = {i for i in user_ids if i is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User).where(col(User.id).in_(wanted))).scalars()
    return {user.id: user for user in rows if user.id is not None}


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
    session: Session,
    settings: Settings,
    *,
    name: str,
    email: str,
    password: str,
    confirm: str,
    address: str,
) -> None:
    """Create an applicant account and send the verification link.

    An address that already has an account gets a notice instead, and the page says the
    same in both cases, so registration does not reveal who has an account. Either way one
    mail goes to the address, counted by the mail throttle.
    """
    name = name.strip()
    if not name:
        raise InvalidInput(_("Enter your name."), field="name")
    if len(name) > 200:
        raise InvalidInput(_("This name is too long."), field="name")
    email = normalise_email(email)
    check_new_password(password, confirm)
    throttle.check_mail(session, settings, mailbox=email, address=address)
    # Hashed before the address is looked up: argon2 is most of a registration's time, so
    # an address with an account must cost it too, or the answer's delay tells.
    password_hash = hash_password(password)
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
    user = User(email=email, name=name, password_hash=password_hash)
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


def send_mail_again(session: Session, *, actor: int, mail_id: int) -> Mail:
    """The platform admin queues a failed message once more (after fixing the SMTP
    settings, or once the server is back); chained in the platform chain."""
    message = session.get(Mail, mail_id)
    if message is None:
        raise NotFound(_("This page does not exist."))
    if message.state != MailState.FAILED:
        raise Conflict(_("Only a message that could not be sent can be sent again."))
    mail.send_again(session, message)
    record(
        session,
        chain=PLATFORM_CHAIN,
        actor=actor_id(actor),
        action="mail.send_again",
        subject=f"mail:{message.id}",
    )
    session.commit()
    return message


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


def resend_verification(session: Session, settings: Settings, user: User, address: str) -> None:
    if user.email_verified_at is None:
        throttle.check_mail(session, settings, mailbox=user.email, address=address)
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
    session: Session,
    settings: Settings,
    *,
    email: str,
    password: str,
    address: str,
    known_device: bool = False,
) -> Login:
    """Log in; `known_device` says the browser logged in to this account before (it
    carries the device mark), which exempts it from the limits that strangers can reach."""
    if not email.strip() or not password:
        raise InvalidInput(_("Enter your e-mail address and your password."), field="email")
    account = email.strip().lower()[:254]
    address = address[:64]
    throttle.check_login(
        session, settings, account=account, address=address, known_device=known_device
    )
    user = find_user(session, account)
    # The attempt counts as a failure until the password proves right, committed before
    # argon2 runs: parallel guesses cannot all pass the count before the first is written,
    # and the write lock is not held while the password is checked.
    attempt = throttle.record_login_attempt(session, account=account, address=address)
    session.commit()
    # verify_password() runs argon2 against a dummy hash when there is no account, so an
    # unknown address costs the same time as a wrong password.
    verified = verify_password(password, user.password_hash if user else None)
    if user is None or not verified:
        throttle.settle_login_failure(session, attempt)
        session.commit()
        raise InvalidInput(_("The e-mail address or password is not correct."))
    assert user.id is not None and user.password_hash is not None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    # This address's failures (this attempt's too), and only those: a success here must not
    # wipe what strangers elsewhere have tried, or the real user's logins would keep
    # resetting their count.
    session.execute(
        delete(LoginFailure).where(
            col(LoginFailure.account) == account, col(LoginFailure.address) == address
        )
    )
    token = start_session(session, settings, user)
    session.commit()
    return Login(user=user, token=token)


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
    """Old sessions, login failures and mail requests are of no use once they are out of
    their window; the daily job removes them."""
    now = utcnow()
    session.execute(delete(LoginSession).where(col(LoginSession.expires_at) <= now))
    window = now - timedelta(seconds=settings.login_window_seconds)
    session.execute(delete(LoginFailure).where(col(LoginFailure.at) <= window))
    mail_window = now - timedelta(seconds=settings.mail_window_seconds)
    session.execute(delete(MailRequest).where(col(MailRequest.at) <= mail_window))
    session.commit()


# Password reset -------------------------------------------------------------------------


def request_password_reset(session: Session, settings: Settings, email: str, address: str) -> None:
    """Send a reset link when the account exists, and a note that there is none when it
    does not: the page says the same either way, and either way one message is sent (a
    delivery over SMTP takes measurable time, so skipping it for unknown addresses would
    tell)."""
    mailbox = normalise_email(email)
    throttle.check_mail(session, settings, mailbox=mailbox, address=address)
    user = find_user(session, mailbox)
    if user is None:
        mail.send(
            session,
            settings,
            to=mailbox,
            subject=_("Reset your password"),
            body=_(
                "Someone asked to reset the password of an account with this e-mail address, "
                "but there is no account with this address. Did you perhaps register with "
                "another address? To apply, create an account at %(url)s\n\nDid you not ask "
                "for this? Then ignore this message.",
                url=f"{settings.base_url}/register",
            ),
        )
        session.commit()
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
