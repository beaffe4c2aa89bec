"""The one way a saved change says so: a short message in a signed cookie, set on the
redirect after the change and shown once, in a live region, by the next page rendered."""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

FLASH_COOKIE = "flash"
# Long enough for the redirect and a slow page; a message left unread expires.
FLASH_SECONDS = 120
MAX_MESSAGE = 600


def _signature(secret: str, payload: str) -> str:
    digest = hmac.new(secret.encode(), f"flash:{payload}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def encode(secret: str, message: str) -> str:
    payload = base64.urlsafe_b64encode(message[:MAX_MESSAGE].encode()).decode().rstrip("=")
    return f"{payload}.{_signature(secret, payload)}"


def decode(secret: str, value: str) -> str | None:
    """The message a cookie value holds, or None when it was not made by this site."""
    payload, _dot, signature = value.partition(".")
    if not payload or not hmac.compare_digest(signature, _signature(secret, payload)):
        return None
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError:
        return None


def set_flash(request: Request, response: Response, message: str) -> Response:
    """Have the next page say `message` (a translated sentence)."""
    secure = request.app.state.settings.https or request.url.scheme == "https"
    response.set_cookie(
        FLASH_COOKIE,
        encode(request.app.state.settings.secret_key, message),
        max_age=FLASH_SECONDS,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
    return response


def redirect(request: Request, url: str, message: str) -> Response:
    """The answer to a form that changed something: back to a page that says so."""
    return set_flash(request, RedirectResponse(url, status_code=303), message)


def take(request: Request) -> str | None:
    """The message waiting for this page, if any (the caller clears the cookie)."""
    value = request.cookies.get(FLASH_COOKIE)
    if not value:
        return None
    return decode(request.app.state.settings.secret_key, value)


def clear(response: Any) -> None:
    response.delete_cookie(FLASH_COOKIE, httponly=True, samesite="lax")
