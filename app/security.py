"""CSRF protection and security headers for every response.

CSRF: each browser gets a random seed in an HttpOnly cookie; forms carry
HMAC(secret, seed) in a hidden field, htmx sends it as the X-CSRF-Token header (set once
on <body> with data-hx-headers). Every POST, PUT, PATCH and DELETE is checked by one global
dependency before its handler runs, so a request without a valid token changes nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import re
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import Request
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import Forbidden, InvalidInput
from app.i18n import LANGUAGES, set_language
from app.i18n import gettext as _

CSRF_COOKIE = "csrf_seed"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LANGUAGE_COOKIE = "lang"
DEVICE_COOKIE = "known_device"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def csrf_token_for(secret: str, seed: str) -> str:
    digest = hmac.new(secret.encode(), f"csrf:{seed}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def device_mark(secret: str, account: str) -> str:
    """What the known-device cookie holds after a login to `account`: an HMAC, so it
    names no one and cannot be made without the secret key."""
    digest = hmac.new(secret.encode(), f"device:{account}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def is_known_device(request: Request, account: str) -> bool:
    sent = request.cookies.get(DEVICE_COOKIE, "")
    expected = device_mark(request.app.state.settings.secret_key, account)
    return bool(sent) and hmac.compare_digest(sent, expected)


def csrf_token(request: Request) -> str:
    return csrf_token_for(request.app.state.settings.secret_key, request.state.csrf_seed)


async def verify_csrf(request: Request) -> None:
    """The global dependency: refuse any state-changing request without a valid token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
    seed = request.cookies.get(CSRF_COOKIE)
    expected = csrf_token(request) if seed else None
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            _(
                "This form has expired or did not come from this site. "
                "Reload the page and try again; nothing was changed."
            )
        )


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def client_address(peer: str, forwarded_for: Iterable[str], trusted: Sequence[Network]) -> str:
    """The address a request came from, as a key for throttling.

    The connection's own address, unless it is one of the `trusted` proxies: then the
    X-Forwarded-For list is read from the right (each proxy appends the address it saw)
    and the first address that is not a trusted proxy is the client. Whatever a client
    writes into the header itself stays to the left of that and is never believed.
    IPv6 addresses count per /64, the block one household or phone is given."""
    address = _ip(peer)
    if address is not None and _trusted(address, trusted):
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        for hop in reversed(hops):
            forwarded = _ip(hop)
            if forwarded is None:
                # A trusted proxy would not write this: stop believing the header here.
                break
            address = forwarded
            if not _trusted(forwarded, trusted):
                break
    if address is None:
        return peer[:64]
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def _ip(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as a proxy writes it: bare, `a.b.c.d:port` or `[v6]:port`."""
    if value.startswith("[") and "]" in value:
        value = value[1 : value.index("]")]
    elif value.count(":") == 1:
        value = value.split(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _trusted(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]
) -> bool:
    return any(address.version == network.version and address in network for network in trusted)


def request_address(request: Request) -> str:
    """client_address() for a request, with the app's TRUSTED_PROXIES."""
    peer = request.client.host if request.client else "unknown"
    return client_address(
        peer,
        request.headers.getlist("x-forwarded-for"),
        request.app.state.settings.trusted_proxies,
    )


# NUL and other control characters (but tab and newlines) are never meaningful input, and
# PostgreSQL cannot store NUL in text: refused for every request, in one place.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


async def refuse_control_characters(request: Request) -> None:
    values = [request.url.path, *request.query_params.values()]
    if request.method not in SAFE_METHODS:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
            values += [value for value in form.values() if isinstance(value, str)]
    if any(_CONTROL.search(value) for value in values):
        raise InvalidInput(
            _(
                "Part of what was sent contains invisible control characters; remove them "
                "and try again."
            )
        )


class RequestContextMiddleware:
    """Per request: the language, the CSRF seed cookie, and the security headers."""

    def __init__(self, app: ASGIApp, *, default_language: str, https: bool) -> None:
        self.app = app
        self.default_language = default_language
        self.https = https

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cookies = _cookies(scope)
        language = cookies.get(LANGUAGE_COOKIE, self.default_language)
        if language not in LANGUAGES:
            language = self.default_language
        set_language(language)
        seed = cookies.get(CSRF_COOKIE)
        new_seed = None
        if not seed or len(seed) < 20:
            seed = new_seed = secrets.token_urlsafe(32)
        state = scope.setdefault("state", {})
        state["csrf_seed"] = seed
        state["language"] = language
        secure = self.https or scope.get("scheme") == "https"

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                present = {name.lower() for name, _value in headers}
                for name, value in security_headers(secure):
                    if name not in present:
                        headers.append((name, value))
                if new_seed:
                    attributes = "Path=/; HttpOnly; SameSite=Lax" + ("; Secure" if secure else "")
                    headers.append(
                        (b"set-cookie", f"{CSRF_COOKIE}={new_seed}; {attributes}".encode())
                    )
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}


def security_headers(secure: bool) -> list[tuple[bytes, bytes]]:
    headers = [
        (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), interest-cohort=()"),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if secure:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    return headers


class BodySizeLimit:
    """Refuse a request body larger than `max_bytes` with 413, before it is read or stored."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = next(
            (value for name, value in scope.get("headers", []) if name == b"content-length"), None
        )
        # bytes.isdigit() is ASCII only; a length of more digits than any body is too large.
        if (
            declared is not None
            and declared.isdigit()
            and (len(declared) > 15 or int(declared) > self.max_bytes)
        ):
            await self._too_large(send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge
            return message

        try:
            await self.app(scope, counting_receive, send)
        except BodyTooLarge:
            await self._too_large(send)

    async def _too_large(self, send: Send) -> None:
        megabytes = self.max_bytes // (1024 * 1024)
        message = _("What you sent is larger than %(mb)s MB and was not accepted.", mb=megabytes)
        body = f'<!doctype html><html lang="nl"><title>413</title><p>{message}</p></html>'.encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"text/html; charset=utf-8"),
                    (b"content-length", str(len(body)).encode()),
                    *security_headers(False),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


class BodyTooLarge(Exception):
    pass
