"""Static files under names that carry their content's hash (`css/app.1a2b3c4d.css`), so a
browser may keep them for a year and still fetches a new file the moment it changes; the
plain names keep working with a short cache."""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from pathlib import Path

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).resolve().parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
# A plain name may change under the same address at the next release.
SHORT = "public, max-age=300"
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<hash>[0-9a-f]{8})(?P<suffix>\.[A-Za-z0-9]+)$")


@lru_cache(maxsize=256)
def content_hash(path: str) -> str | None:
    """The first eight hex digits of the file's SHA-256, or None when there is no such file.
    Static files ship with the code, so a hash is computed once per process."""
    try:
        file = (STATIC_DIR / path).resolve()
        if not file.is_relative_to(STATIC_DIR) or not file.is_file():
            return None
        return hashlib.sha256(file.read_bytes()).hexdigest()[:8]
    except (OSError, ValueError):  # a name no file system has (a NUL byte, too long)
        return None


def static_url(path: str) -> str:
    """The address of a static file with its hash in the name: `static_url('css/app.css')`
    is `/static/css/app.<hash8>.css`. A missing file keeps its plain name (and 404s)."""
    digest = content_hash(path)
    if digest is None:
        return f"/static/{path}"
    stem, dot, suffix = path.rpartition(".")
    if not dot or "/" in suffix:
        return f"/static/{path}.{digest}"
    return f"/static/{stem}.{digest}.{suffix}"


def unhashed(path: str) -> tuple[str, bool]:
    """The file a requested name stands for, and whether the name carried the file's current
    hash (only then may it be cached for good)."""
    match = _HASHED.match(path)
    if match is None or content_hash(path) is not None:
        return path, False
    plain = match["stem"] + match["suffix"]
    return plain, content_hash(plain) == match["hash"]


class HashedStaticFiles(StaticFiles):
    """StaticFiles that also answers the hashed names, with the cache each deserves."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        plain, current = unhashed(path.replace("\\", "/"))
        response = await super().get_response(plain, scope)
        # A stale hash (a page from before a release) gets today's file, briefly cached.
        response.headers["Cache-Control"] = IMMUTABLE if current else SHORT
        return response
