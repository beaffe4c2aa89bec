"""Writes the crafted PDFs beside this file: `python -m tests.data.pdf.make`.

Each is small and made by hand (or with pypdf) so that what it does to a parser is plain to
read here; the files themselves are committed so that fuzzers and other tests can use them
without running this script.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

from pypdf import PdfWriter

HERE = Path(__file__).resolve().parent


def _assemble(objects: list[bytes], *, root: int = 1) -> bytes:
    """A classic PDF: numbered objects, a cross-reference table with their offsets, a trailer."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        root,
        xref,
    )
    return bytes(out)


def _assemble_compressed(objects: list[bytes], *, root: int = 1) -> bytes:
    """A PDF 1.5 file: every object inside one compressed object stream, found through a
    compressed cross-reference stream, so that thousands of objects take a few kilobytes."""
    header = bytearray()
    body = bytearray()
    for number, obj in enumerate(objects, start=1):
        header += b"%d %d " % (number, len(body))
        body += obj + b"\n"
    packed = zlib.compress(bytes(header) + bytes(body), 9)
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    stream_number = len(objects) + 1
    xref_number = stream_number + 1
    stream_offset = len(out)
    out += b"%d 0 obj\n<< /Type /ObjStm /N %d /First %d /Filter /FlateDecode /Length %d >>\n" % (
        stream_number,
        len(objects),
        len(header),
        len(packed),
    )
    out += b"stream\n" + packed + b"\nendstream\nendobj\n"
    xref_offset = len(out)
    rows = [struct.pack(">BIH", 0, 0, 65535)]
    rows += [struct.pack(">BIH", 2, stream_number, index) for index in range(len(objects))]
    rows += [struct.pack(">BIH", 1, stream_offset, 0), struct.pack(">BIH", 1, xref_offset, 0)]
    # The PNG "up" predictor stores each row as its difference from the row above: the
    # rows count up by one, so the differences are nearly all zero and compress to nothing.
    previous = bytes(7)
    predicted = bytearray()
    for row in rows:
        predicted += b"\x02" + bytes((a - b) % 256 for a, b in zip(row, previous, strict=True))
        previous = row
    table = zlib.compress(bytes(predicted), 9)
    out += (
        b"%d 0 obj\n<< /Type /XRef /Size %d /W [1 4 2] /Root %d 0 R /Filter /FlateDecode"
        b" /DecodeParms << /Predictor 12 /Columns 7 >> /Length %d >>\nstream\n"
        % (xref_number, xref_number + 1, root, len(table))
    )
    out += table + b"\nendstream\nendobj\nstartxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def page_tree_bomb(levels: int = 10, fan_out: int = 10) -> bytes:
    """Every level of the page tree lists the same child `fan_out` times: fan_out ** levels
    pages in under a kilobyte (10 ** 10 here); a parser that flattens the tree never ends."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    for level in range(levels):
        number = 2 + level
        child = number + 1
        kids = b" ".join(b"%d 0 R" % child for _ in range(fan_out))
        count = fan_out ** (levels - level)
        parent = b"" if level == 0 else b" /Parent %d 0 R" % (number - 1)
        objects.append(b"<< /Type /Pages /Kids [%s] /Count %d%s >>" % (kids, count, parent))
    objects.append(b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842] >>" % (levels + 1))
    return _assemble(objects)


def cyclic_page_tree() -> bytes:
    """A page tree whose node lists its own parent as a kid: a loop, not a tree."""
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Pages /Kids [2 0 R] /Count 1 /Parent 2 0 R >>",
        ]
    )


def many_pages(count: int = 10_000) -> bytes:
    """`count` distinct pages (100 nodes of 100 pages): a real file, not a trick, just too
    long for a CV or a letter."""
    per_node = 100
    nodes = count // per_node
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    first_node = 3
    first_page = first_node + nodes
    kids = b" ".join(b"%d 0 R" % (first_node + n) for n in range(nodes))
    objects.append(b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, count))
    for n in range(nodes):
        pages = b" ".join(b"%d 0 R" % (first_page + n * per_node + p) for p in range(per_node))
        objects.append(b"<< /Type /Pages /Parent 2 0 R /Kids [%s] /Count %d >>" % (pages, per_node))
    for n in range(nodes):
        page = b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 9 9] >>" % (first_node + n)
        objects += [page] * per_node
    return _assemble_compressed(objects)


def valid(title: str = "Curriculum vitae") -> bytes:
    """One A4 page with a line of text, as a word processor would save it (smaller)."""
    text = b"BT /F1 24 Tf 72 760 Td (Curriculum vitae) Tj ET"
    stream = zlib.compress(text)
    return _assemble(
        [
            b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>",
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream)
            + stream
            + b"\nendstream",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Title (%s) >>" % title.encode("ascii"),
        ]
    )


def encrypted() -> bytes:
    """A valid page behind a password: the committee could not open it."""
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="geheim", owner_password="geheim", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def truncated() -> bytes:
    """A valid file cut off halfway, as an interrupted download leaves it."""
    whole = valid()
    return whole[: len(whole) // 2]


def text_renamed() -> bytes:
    """A plain text file someone renamed to .pdf."""
    return b"Curriculum vitae\nNaam: Sanne Jansen\nBIG: 19012345601\n"


FILES = {
    "valid.pdf": valid,
    "page-tree-bomb.pdf": page_tree_bomb,
    "cyclic-page-tree.pdf": cyclic_page_tree,
    "ten-thousand-pages.pdf": many_pages,
    "truncated.pdf": truncated,
    "text-renamed.pdf": text_renamed,
    "encrypted.pdf": encrypted,
}


def main() -> None:
    for name, make in FILES.items():
        (HERE / name).write_bytes(make())
        print(name, (HERE / name).stat().st_size, "bytes")


if __name__ == "__main__":
    main()
