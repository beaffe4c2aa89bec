"""The PDF check: the crafted files get their verdict quickly, and a parse that runs past its
CPU, wall-clock or memory budget (or crashes) is refused while this process lives on."""

from __future__ import annotations

import io
import os
import signal
import time
from pathlib import Path

import pytest
from pypdf import PdfWriter

from app.applications import pdf
from tests.data import pdf as crafted

LIMITS = pdf.Limits(max_pages=500, seconds=1)

EXPECTED = {
    "valid.pdf": pdf.Reason.ACCEPTED,
    "page-tree-bomb.pdf": pdf.Reason.UNREADABLE,
    "cyclic-page-tree.pdf": pdf.Reason.UNREADABLE,
    "ten-thousand-pages.pdf": pdf.Reason.TOO_MANY_PAGES,
    "truncated.pdf": pdf.Reason.UNREADABLE,
    "text-renamed.pdf": pdf.Reason.NOT_PDF,
    "encrypted.pdf": pdf.Reason.ENCRYPTED,
}


def test_every_crafted_file_has_an_expected_verdict() -> None:
    assert {path.name for path in crafted.ALL} == set(EXPECTED)
    assert [path.name for path in crafted.ACCEPTED] == ["valid.pdf"]


@pytest.mark.parametrize("path", crafted.ALL, ids=lambda path: path.name)
def test_crafted_files_get_their_verdict_quickly_in_a_child(path: Path) -> None:
    started = time.monotonic()
    verdict = pdf.check(io.BytesIO(path.read_bytes()), LIMITS)
    assert verdict.reason == EXPECTED[path.name]
    assert time.monotonic() - started < 2.5  # within the budget, with room for a busy machine


def test_the_bomb_is_refused_without_flattening_its_ten_billion_pages() -> None:
    data = (crafted.HERE / "page-tree-bomb.pdf").read_bytes()
    started = time.process_time()
    assert pdf.inspect(data, 500).reason == pdf.Reason.UNREADABLE
    assert time.process_time() - started < 0.2


def test_pages_are_counted_up_to_the_limit() -> None:
    writer = PdfWriter()
    for _ in range(12):
        writer.add_blank_page(width=595, height=842)
    buffer = io.BytesIO()
    writer.write(buffer)
    assert pdf.inspect(buffer.getvalue(), 12) == pdf.Verdict(pdf.Reason.ACCEPTED, pages=12)
    assert pdf.inspect(buffer.getvalue(), 11).reason == pdf.Reason.TOO_MANY_PAGES


def test_a_page_tree_deeper_than_the_limit_is_refused() -> None:
    from tests.data.pdf.make import page_tree_bomb

    # one child per level: a single page, but pdf.MAX_DEPTH + 5 levels down
    deep = page_tree_bomb(levels=pdf.MAX_DEPTH + 5, fan_out=1)
    assert pdf.inspect(deep, 500).reason == pdf.Reason.TOO_COMPLEX
    assert pdf.inspect(page_tree_bomb(levels=3, fan_out=1), 500).accepted


def test_a_file_with_no_pages_is_refused() -> None:
    from tests.data.pdf.make import _assemble

    empty = _assemble(
        [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [] /Count 0 >>"]
    )
    assert pdf.inspect(empty, 500).reason == pdf.Reason.NO_PAGES


def test_the_stream_is_left_at_its_start() -> None:
    stream = io.BytesIO((crafted.HERE / "valid.pdf").read_bytes())
    stream.seek(100)
    assert pdf.check(stream, LIMITS).accepted
    assert stream.tell() == 0


# Judges that misbehave as a parser bug might; run in the child, they must cost this process
# nothing but the wait.


def spin(data: bytes, max_pages: int) -> pdf.Verdict:
    while True:
        pass


def sleep(data: bytes, max_pages: int) -> pdf.Verdict:
    time.sleep(60)
    return pdf.Verdict(pdf.Reason.ACCEPTED)


def hog(data: bytes, max_pages: int) -> pdf.Verdict:
    hoard = bytearray(4 * 1024 * 1024 * 1024)  # 4 GiB, past the 512 MiB limit
    return pdf.Verdict(pdf.Reason.ACCEPTED, pages=len(hoard))


def crash(data: bytes, max_pages: int) -> pdf.Verdict:
    os.kill(os.getpid(), signal.SIGSEGV)
    return pdf.Verdict(pdf.Reason.ACCEPTED)


@pytest.mark.parametrize(
    ("judge", "reason"),
    [
        (spin, pdf.Reason.TOO_SLOW),
        (sleep, pdf.Reason.TOO_SLOW),
        (hog, pdf.Reason.TOO_COMPLEX),
        (crash, pdf.Reason.TOO_COMPLEX),
    ],
    ids=["cpu", "wall clock", "memory", "crash"],
)
def test_a_judge_past_its_budget_is_stopped_and_the_worker_lives_on(
    judge: pdf.Judge, reason: pdf.Reason
) -> None:
    started = time.monotonic()
    assert pdf.in_child(b"%PDF-1.7", LIMITS, judge) == pdf.Verdict(reason)
    assert time.monotonic() - started < 2 * LIMITS.seconds + 3
    # and the next upload is judged as before
    valid = io.BytesIO((crafted.HERE / "valid.pdf").read_bytes())
    assert pdf.check(valid, LIMITS).accepted
