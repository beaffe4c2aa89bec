"""Is this a well-formed PDF? Decided by parsing the bytes, never by name or declared type."""

from __future__ import annotations

import logging
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.errors import PdfReadError

logging.getLogger("pypdf").setLevel(logging.ERROR)


def is_pdf(stream: BinaryIO) -> bool:
    stream.seek(0)
    if not stream.read(1024).lstrip(b"\x00\t\n\r ").startswith(b"%PDF-"):
        stream.seek(0)
        return False
    stream.seek(0)
    try:
        reader = PdfReader(stream, strict=True)
        if reader.is_encrypted:
            return False  # the committee could not open it
        pages = len(reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return False
    finally:
        stream.seek(0)
    return pages > 0
