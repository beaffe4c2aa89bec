"""A one-sheet XLSX workbook written directly (Office Open XML, ECMA-376), for the scores
export: a national round has hundreds of thousands of cells, which openpyxl, even in its
write-only mode, writes at about 50 µs each. Pure code.

Whole numbers are number cells; every other value an inline string cell, which Excel and
LibreOffice never evaluate; a string that a spreadsheet would read as a formula when
someone edits the cell also gets the quote-prefix style, so it stays text then too. The
caller makes the cells (text_cell, number_cell), each distinct one once: a round's rows
repeat few values."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterable

_XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_OOXML = "http://schemas.openxmlformats.org/"
_TYPE = "application/vnd.openxmlformats-"
_SHEET_TYPE = f"{_TYPE}officedocument.spreadsheetml"
_RELATION = f"{_OOXML}officeDocument/2006/relationships"
_CONTENT_TYPES = (
    f'{_XML}<Types xmlns="{_OOXML}package/2006/content-types">'
    f'<Default Extension="rels" ContentType="{_TYPE}package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SHEET_TYPE}.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SHEET_TYPE}.worksheet+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_SHEET_TYPE}.styles+xml"/>'
    "</Types>"
)
_ROOT_RELS = (
    f'{_XML}<Relationships xmlns="{_OOXML}package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATION}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_WORKBOOK_RELS = (
    f'{_XML}<Relationships xmlns="{_OOXML}package/2006/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATION}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_RELATION}/styles" Target="styles.xml"/>'
    "</Relationships>"
)
# Style 0 the default, style 1 the quote prefix.
_STYLES = (
    f'{_XML}<styleSheet xmlns="{_OOXML}spreadsheetml/2006/main">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_SHEET_START = f'{_XML}<worksheet xmlns="{_OOXML}spreadsheetml/2006/main"><sheetData>'
_SHEET_END = "</sheetData></worksheet>"

# XML 1.0 has no place for most control characters (a carriage return is read back as a
# line feed, as from openpyxl).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _text(value: str) -> str:
    cleaned = _NOT_XML.sub("", value)
    return cleaned.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def text_cell(value: str, formula_starts: tuple[str, ...]) -> str:
    """The XML of an inline string cell holding `value`, with the quote-prefix style when
    it starts with one of `formula_starts`."""
    style = ' s="1"' if value.startswith(formula_starts) else ""
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'<c t="inlineStr"{style}><is><t{space}>{_text(value)}</t></is></c>'


def number_cell(value: int) -> str:
    return f"<c><v>{value}</v></c>"


def workbook(sheet_name: str, rows: Iterable[str]) -> bytes:
    """The workbook of one sheet `sheet_name` (at most 31 characters) holding `rows`, each
    the cells of one row (made by text_cell and number_cell) written one after the other."""
    name = _text(sheet_name[:31]).replace('"', "&quot;")
    parts = [_SHEET_START]
    # Rows and cells without their reference (optional in ECMA-376: each follows the one
    # before), so a row is just its cells.
    parts += (f"<row>{row}</row>" for row in rows)
    parts.append(_SHEET_END)
    book = (
        f'{_XML}<workbook xmlns="{_OOXML}spreadsheetml/2006/main" xmlns:r="{_RELATION}">'
        f'<sheets><sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", book)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        archive.writestr("xl/styles.xml", _STYLES)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(parts))
    return buffer.getvalue()
