"""Throttling of logins and of the mails anyone can ask for, counted in the database so
that every worker and every machine sees the same counts (SQLite and PostgreSQL).

Logins: failures count per account from one address (the tight limit), per address over
all accounts, and per account over all addresses (a looser ceiling against guessing from
many places). A browser that logged in to the account before carries a device mark and is
held only to the first, so a stranger's failures never lock the real user out.

Mails (registration, password reset, confirmation link): requests count per address and
per target mailbox, whether or not an account has that address, so a refusal says nothing
about who has an account.
"""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from babel.dates import format_time
from sqlalchemy import ColumnElement, and_, func, text
from sqlmodel import Session, col, select

from app.accounts.models import LoginFailure, MailRequest
from app.config import Settings
from app.db import utcnow
from app.errors import TooManyAttempts
from app.forms import AMSTERDAM
from app.i18n import current_language, ngettext
from app.i18n import gettext as _


def check_login(
    session: Session,
    settings: Settings,
    *,
    account: str,
    address: str,
    known_device: bool,
) -> None:
    """Raise TooManyAttempts when one of the limits is reached within the window."""
    _serialise(session, f"login-account:{account}", f"login-address:{address}")
    now = utcnow()
    window = timedelta(seconds=settings.login_window_seconds)
    limits = [
        (
            and_(col(LoginFailure.account) == account, col(LoginFailure.address) == address),
            settings.login_max_failures,
        )
    ]
    if not known_device:
        settled = col(LoginFailure.pending).is_(False)
        limits += [
            (
                and_(col(LoginFailure.address) == address, settled),
                settings.login_max_failures_per_address,
            ),
            (
                and_(col(LoginFailure.account) == account, settled),
                settings.login_max_failures_per_account,
            ),
        ]
    until = _blocked_until(session, LoginFailure.at, limits, since=now - window)
    if until is not None:
        raise TooManyAttempts(
            _(
                "Too many failed attempts. Try again in %(wait)s (at %(time)s), or reset "
                "your password.",
                **_when(until + window, now),
            ),
            retry_after=_seconds(until + window, now),
        )


def record_login_attempt(session: Session, *, account: str, address: str) -> LoginFailure:
    """Count an attempt whose password is still being checked (see LoginFailure.pending);
    settle_login_failure() makes it a failure, a successful login removes it."""
    attempt = LoginFailure(account=account, address=address, pending=True)
    session.add(attempt)
    return attempt


def settle_login_failure(session: Session, attempt: LoginFailure) -> None:
    attempt.pending = False
    session.add(attempt)


def check_mail(session: Session, settings: Settings, *, mailbox: str, address: str) -> None:
    """Count a request for a mail to `mailbox` from `address` and commit it (so it counts
    for every worker at once, and the locks are let go before the mail is sent), or refuse
    it with TooManyAttempts when either has reached its limit within the window."""
    _serialise(session, f"mail-mailbox:{mailbox}", f"mail-address:{address}")
    now = utcnow()
    window = timedelta(seconds=settings.mail_window_seconds)
    limits = [
        (col(MailRequest.address) == address, settings.mail_max_per_address),
        (col(MailRequest.mailbox) == mailbox, settings.mail_max_per_mailbox),
    ]
    until = _blocked_until(session, MailRequest.at, limits, since=now - window)
    if until is not None:
        raise TooManyAttempts(
            _(
                "Enough messages have been sent for now, to this e-mail address or from where "
                "you are. Try again in %(wait)s (at %(time)s). A message sent earlier may "
                "still arrive: check your spam folder too.",
                **_when(until + window, now),
            ),
            retry_after=_seconds(until + window, now),
        )
    session.add(MailRequest(mailbox=mailbox, address=address, at=now))
    session.commit()


def _blocked_until(
    session: Session,
    moment: datetime,
    limits: list[tuple[ColumnElement[bool], int]],
    *,
    since: datetime,
) -> datetime | None:
    """For the limits that are reached: the latest moment among them whose leaving the
    window brings its count back under the limit (None when no limit is reached)."""
    at = col(moment)
    counts = session.execute(
        select(*(func.count().filter(condition) for condition, _limit in limits)).where(at > since)
    ).one()
    until = None
    for (condition, limit), count in zip(limits, counts, strict=True):
        if count < limit:
            continue
        # The oldest failures leave the window first; once count - limit + 1 of them have
        # left, the next attempt is allowed.
        edge = session.execute(
            select(at).where(condition, at > since).order_by(at).offset(count - limit).limit(1)
        ).scalar_one()
        until = edge if until is None else max(until, edge)
    return until


def _serialise(session: Session, *keys: str) -> None:
    """On PostgreSQL, requests with the same keys take turns until they commit, so a burst
    of parallel guesses cannot all pass the count before the first failure is written.
    (SQLite takes one writer at a time anyway.) The keys are always taken in the same
    order, account or mailbox first, so two requests never wait for each other in a
    circle."""
    if session.get_bind().dialect.name != "postgresql":
        return
    for key in keys:
        number = int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big", signed=True)
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": number})


def _seconds(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _when(moment: datetime, now: datetime) -> dict[str, str]:
    """How long to wait, in words, and the wall-clock time in Amsterdam."""
    seconds = _seconds(moment, now)
    if seconds < 120:
        wait = ngettext("%(num)s second", "%(num)s seconds", seconds)
    else:
        wait = ngettext("%(num)s minute", "%(num)s minutes", math.ceil(seconds / 60))
    clock = format_time(
        (now + timedelta(seconds=seconds)).astimezone(AMSTERDAM),
        format="HH:mm:ss" if seconds < 120 else "HH:mm",
        locale=current_language(),
    )
    return {"wait": wait, "time": clock}
