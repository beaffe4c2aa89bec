"""File names: what is kept of an uploaded name, and the Content-Disposition of a download."""

from __future__ import annotations

import pytest

from app.downloads import ascii_name, content_disposition, safe_name


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("cv.pdf", "cv.pdf"),
        ("履歴書.pdf", "履歴書.pdf"),
        ("Zoe\u0308.pdf", "Zoë.pdf"),  # decomposed, as macOS sends it: kept composed
        ("a\x00b\r\nc\td.pdf", "a_b_c_d.pdf"),
        ("cv\u202efdp.exe", "cvfdp.exe.pdf"),  # shown as "cvexe.pdf" with the override
        ("zero\u200bwidth\ufeff.pdf", "zerowidth.pdf"),
        ("say \"hi\" 'there'.pdf", "say _hi_ _there.pdf"),
        ("../../../etc/passwd", "passwd.pdf"),
        ("..\\..\\boot.ini", "boot.ini.pdf"),
        ("", "document.pdf"),
        ("   ", "document.pdf"),
        ("\u202e", "document.pdf"),
        ("x" * 500 + ".pdf", "x" * 116 + ".pdf"),
        ("é" * 500, "é" * 116 + ".pdf"),
        ("CV.PDF", "CV.pdf"),
        ("brief   met\u00a0spaties.pdf", "brief met spaties.pdf"),
    ],
)
def test_what_is_kept_of_an_uploaded_name(raw: str, kept: str) -> None:
    assert safe_name(raw) == kept
    assert safe_name(kept) == kept  # keeping it again changes nothing


@pytest.mark.parametrize(
    ("name", "plain"),
    [
        ("Şule.pdf", "Sule.pdf"),
        ("Zoë Ünal.pdf", "Zoe Unal.pdf"),
        ("履歴書.pdf", "document.pdf"),
        ("TST-1-2027-scores.csv", "TST-1-2027-scores.csv"),
        ('a"b\\c.pdf', "a_b_c.pdf"),
    ],
)
def test_the_ascii_fallback(name: str, plain: str) -> None:
    assert ascii_name(name) == plain


def test_content_disposition_names_any_file_in_ascii() -> None:
    assert content_disposition("cv.pdf") == 'attachment; filename="cv.pdf"'
    assert content_disposition("履歴書.pdf") == (
        "attachment; filename=\"document.pdf\"; filename*=UTF-8''%E5%B1%A5%E6%AD%B4%E6%9B%B8.pdf"
    )
    assert content_disposition("Şule CV.pdf", inline=True) == (
        "inline; filename=\"Sule CV.pdf\"; filename*=UTF-8''%C5%9Eule%20CV.pdf"
    )
    for hostile in ('x"; filename=evil.exe', "a\r\nSet-Cookie: x=1", "\u202e"):
        header = content_disposition(hostile)
        header.encode("ascii")
        assert "\r" not in header and "\n" not in header and header.count('"') == 2
