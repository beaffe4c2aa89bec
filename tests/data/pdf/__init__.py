"""Crafted PDFs for tests and fuzzers, made by `make.py` beside them.

`REFUSED` maps each file that must be refused to what is wrong with it; `ACCEPTED` are files
that must be taken; `ALL` is every path, for a fuzzer to draw from.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent

ACCEPTED = [HERE / "valid.pdf"]
REFUSED = {
    HERE / "page-tree-bomb.pdf": "every level of the page tree points at one child 10 times",
    HERE / "cyclic-page-tree.pdf": "the page tree is a loop",
    HERE / "ten-thousand-pages.pdf": "10,000 pages",
    HERE / "truncated.pdf": "cut off halfway",
    HERE / "text-renamed.pdf": "a text file named .pdf",
    HERE / "encrypted.pdf": "needs a password",
}
ALL = [*ACCEPTED, *REFUSED]
