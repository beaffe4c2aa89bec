"""File names: what we keep of an uploaded file's name, and how a download names its file
(RFC 6266: an ASCII `filename` for old clients and a UTF-8 `filename*` for the rest)."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

MAX_NAME = 120
# Letters, marks and digits of any script, and the punctuation file names commonly carry.
_KEPT_PUNCTUATION = frozenset(" ._-()[],+&")
_ASCII_KEPT = re.compile(r"[^A-Za-z0-9 ._\-()\[\],+&]")


def safe_name(raw: str, *, suffix: str = ".pdf") -> str:
    """A name that is safe to keep, show and offer as a download: the last part of any path,
    no control or direction-changing characters (U+202E would show "fdp.exe" as "exe.pdf"),
    no quotes, at most MAX_NAME characters, ending in `suffix`."""
    name = unicodedata.normalize("NFC", raw)
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(_kept(character) for character in name)
    name = re.sub(r"\s+", " ", name)
    name = re.sub(r"_{2,}", "_", name)
    stem = name[: -len(suffix)] if name.lower().endswith(suffix) else name
    stem = stem.strip(" ._")[: MAX_NAME - len(suffix)].rstrip(" .")
    return (stem or "document") + suffix


def _kept(character: str) -> str:
    category = unicodedata.category(character)
    if category[0] in "LMN" or character in _KEPT_PUNCTUATION:
        return character
    if category == "Cf":
        return ""  # direction marks and zero-width characters: invisible, so dropped
    if category[0] == "Z":
        return " "
    return "_"


def ascii_name(name: str) -> str:
    """The closest ASCII name: accents dropped (Ş to S), other characters to `_`."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    plain = _ASCII_KEPT.sub("_", plain.encode("ascii", "replace").decode("ascii"))
    plain = re.sub(r"_{2,}", "_", plain)
    stem, dot, extension = plain.rpartition(".")
    if dot and not stem.strip("_ "):
        return f"document.{extension}"
    return plain.strip() or "download"


def content_disposition(filename: str, *, inline: bool = False) -> str:
    """The Content-Disposition header value for a download named `filename` (RFC 6266 and
    RFC 8187): every byte of it is ASCII, so any name can be sent."""
    kind = "inline" if inline else "attachment"
    fallback = ascii_name(filename)
    encoded = quote(filename, safe="")
    if encoded == fallback:
        return f'{kind}; filename="{fallback}"'
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def attachment(filename: str) -> dict[str, str]:
    """Headers for a response the browser should save as `filename`."""
    return {"Content-Disposition": content_disposition(filename)}
