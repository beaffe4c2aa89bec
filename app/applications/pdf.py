"""Is this upload a PDF the committee can open? Decided by parsing the bytes, never by name or
declared type, within a budget: pages, depth and objects are counted, and the parse runs in a
child process with a CPU and memory limit, so that no file (and no parser bug) can hold or
take down the worker that received it.

`inspect()` is the decision itself and can run anywhere; `check()` runs it in the child.
"""

from __future__ import annotations

import enum
import io
import logging
import multiprocessing
import os
import resource
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject

logging.getLogger("pypdf").setLevel(logging.ERROR)

# A CV or a letter is a few pages deep and a few thousand objects; these leave room for a
# scanned or generated file while refusing the shapes that only a bomb has.
MAX_DEPTH = 32
MAX_OBJECTS = 100_000
MEMORY_BYTES = 512 * 1024 * 1024
HEADER_WINDOW = 1024


class Reason(enum.StrEnum):
    ACCEPTED = "accepted"
    NOT_PDF = "not_pdf"
    UNREADABLE = "unreadable"
    ENCRYPTED = "encrypted"
    NO_PAGES = "no_pages"
    TOO_MANY_PAGES = "too_many_pages"
    TOO_COMPLEX = "too_complex"
    TOO_SLOW = "too_slow"


@dataclass(frozen=True)
class Verdict:
    reason: Reason
    pages: int = 0

    @property
    def accepted(self) -> bool:
        return self.reason == Reason.ACCEPTED


@dataclass(frozen=True)
class Limits:
    max_pages: int = 500
    seconds: int = 3  # CPU seconds of the child; the wall clock gets twice that and one more
    memory_bytes: int = MEMORY_BYTES


class _Refused(Exception):
    def __init__(self, reason: Reason) -> None:
        super().__init__(reason)
        self.reason = reason


def looks_like_pdf(head: bytes) -> bool:
    return head[:HEADER_WINDOW].lstrip(b"\x00\t\n\r ").startswith(b"%PDF-")


def inspect(data: bytes, max_pages: int) -> Verdict:
    """The verdict on `data`: counted without flattening the page tree (a tree whose levels
    all point at one child holds billions of pages in a kilobyte)."""
    if not looks_like_pdf(data):
        return Verdict(Reason.NOT_PDF)
    try:
        reader = PdfReader(io.BytesIO(data), strict=True)
        if reader.is_encrypted:
            return Verdict(Reason.ENCRYPTED)
        if _object_count(reader) > MAX_OBJECTS:
            return Verdict(Reason.TOO_COMPLEX)
        pages = _count_pages(reader, max_pages)
        if pages == 0:
            return Verdict(Reason.NO_PAGES)
        len(reader.pages)  # pypdf's own walk, now known to be small and a real tree
    except _Refused as refused:
        return Verdict(refused.reason)
    except (MemoryError, RecursionError):
        return Verdict(Reason.TOO_COMPLEX)
    except Exception:  # whatever the parser raises, the file is not readable
        return Verdict(Reason.UNREADABLE)
    return Verdict(Reason.ACCEPTED, pages=pages)


def _object_count(reader: PdfReader) -> int:
    declared = reader.trailer.get("/Size", 0)
    listed = sum(len(table) for table in reader.xref.values()) + len(reader.xref_objStm)
    return max(int(declared), listed)


def _count_pages(reader: PdfReader, max_pages: int) -> int:
    """The number of leaves of the page tree, refusing a shared node or a loop (a page tree
    is a tree), more than `max_pages` leaves, or more than MAX_DEPTH levels."""
    catalog = reader.trailer["/Root"].get_object()
    if not isinstance(catalog, DictionaryObject) or "/Pages" not in catalog:
        raise _Refused(Reason.UNREADABLE)
    seen: set[tuple[int, int]] = set()
    stack = [(catalog.raw_get("/Pages"), 0)]
    pages = 0
    while stack:
        reference, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise _Refused(Reason.TOO_COMPLEX)
        node = reference.get_object()
        if not isinstance(node, DictionaryObject):
            raise _Refused(Reason.UNREADABLE)
        if "/Kids" not in node:
            pages += 1
            if pages > max_pages:
                raise _Refused(Reason.TOO_MANY_PAGES)
            continue
        kids = node.raw_get("/Kids")
        if isinstance(kids, IndirectObject):
            kids = kids.get_object()
        if not isinstance(kids, ArrayObject):
            raise _Refused(Reason.UNREADABLE)
        for kid in kids:
            if isinstance(kid, IndirectObject):
                key = (kid.idnum, kid.generation)
                if key in seen:
                    raise _Refused(Reason.UNREADABLE)
                seen.add(key)
            stack.append((kid, depth + 1))
    return pages


# The child process ---------------------------------------------------------------------------

# A fork server: a small process started once (by exec, so safe from a threaded server) with
# this module imported; each check is a fork of it, which costs milliseconds, not the
# interpreter's start-up.
_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload([__name__])
# Each child may take MEMORY_BYTES; at most this many run at once per worker.
_slots = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


def check(stream: BinaryIO, limits: Limits) -> Verdict:
    """The verdict on an upload, parsed in a child process under `limits`; the stream is left
    at its start."""
    stream.seek(0)
    data = stream.read()
    stream.seek(0)
    if not looks_like_pdf(data):
        return Verdict(Reason.NOT_PDF)  # no child needed to see that
    with _slots:
        return in_child(data, limits)


Judge = Callable[[bytes, int], Verdict]


def in_child(data: bytes, limits: Limits, judge: Judge = inspect) -> Verdict:
    """`judge(data, limits.max_pages)` in a fresh child process: past its CPU time or wall
    time it is TOO_SLOW, out of memory or crashed it is TOO_COMPLEX; this worker lives on."""
    ours, theirs = _context.Pipe()
    process = _context.Process(
        target=_child,
        args=(theirs, judge, limits.max_pages, limits.seconds, limits.memory_bytes),
    )
    process.daemon = True
    try:
        process.start()
    except BaseException:
        ours.close()
        raise
    finally:
        theirs.close()
    try:
        ours.send_bytes(data)
        if not ours.poll(2 * limits.seconds + 1):
            return Verdict(Reason.TOO_SLOW)
        answer = ours.recv_bytes().decode("ascii")
        reason, _, pages = answer.partition(":")
        return Verdict(Reason(reason), pages=int(pages or 0))
    except (EOFError, OSError):
        process.join(1)
        if process.exitcode == -signal.SIGXCPU or process.exitcode == -signal.SIGKILL:
            return Verdict(Reason.TOO_SLOW)
        return Verdict(Reason.TOO_COMPLEX)  # out of memory, or the parser crashed
    finally:
        ours.close()
        if process.is_alive():
            process.kill()
        process.join()
        process.close()


def _child(
    connection: Connection, judge: Judge, max_pages: int, seconds: int, memory_bytes: int
) -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # SIGXCPU would otherwise dump core
    resource.setrlimit(resource.RLIMIT_CPU, (seconds, seconds + 1))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    data = connection.recv_bytes()
    verdict = judge(data, max_pages)
    connection.send_bytes(f"{verdict.reason}:{verdict.pages}".encode("ascii"))
    connection.close()
