"""The scores as CSV and XLSX never carry a live formula (OWASP, CSV injection), and every
download names its file in ASCII with a UTF-8 `filename*` where it needs one."""

from __future__ import annotations

import csv
import io
import zipfile
from typing import Any

from openpyxl import load_workbook
from sqlmodel import Session, col, select

from app.accounts.models import User
from app.procedures.models import ProcedureMember
from app.procedures.vocabulary import Phase
from tests.app.conftest import Browser, Factory

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "+31 6 12345678",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def test_names_that_look_like_formulas_are_text_in_csv_and_xlsx(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=1, extra_members=3)
    scorers = (
        session.execute(
            select(User)
            .join(ProcedureMember, col(ProcedureMember.user_id) == col(User.id))
            .where(ProcedureMember.procedure_id == procedure.id, ProcedureMember.role != "observer")
        )
        .scalars()
        .all()
    )
    assert len(scorers) == len(HOSTILE)
    for user, name in zip(scorers, HOSTILE, strict=True):
        user.name = name
        session.add(user)
    admin = factory.user(platform_admin=True)
    session.commit()
    browser = new_browser()
    browser.login(admin.email)

    response = browser.get(f"/procedures/{procedure.reference}/report.csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    assert rows[0] == ["Application", "Scorer", "Criterion", "Level", "Suitable"]
    names = {row[1] for row in rows[1:]}
    assert names == {"'" + name for name in HOSTILE}
    assert all(row[3].isdigit() for row in rows[1:])  # levels stay numbers

    response = browser.get(f"/procedures/{procedure.reference}/report.xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content))["Scores"]
    cells = list(sheet.iter_rows(min_row=2))
    # XML reads a carriage return as a line feed; what matters is that it is text
    assert {row[1].value for row in cells} == {name.replace("\r", "\n") for name in HOSTILE}
    assert all(row[1].data_type == "s" for row in cells)  # strings, not formulas
    assert all(row[3].data_type == "n" and isinstance(row[3].value, int) for row in cells)
    with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
        assert b"<f>" not in workbook.read("xl/worksheets/sheet1.xml")


def test_ordinary_names_and_numbers_are_left_alone() -> None:
    from app.oversight.service import csv_cell

    assert [csv_cell(v) for v in ("Sanne Jansen", "3", "-1", "2.5", "", "a=b")] == [
        "Sanne Jansen",
        "3",
        "-1",
        "2.5",
        "",
        "a=b",
    ]
    assert csv_cell("-1+1") == "'-1+1"


def test_every_download_names_its_file(
    factory: Factory, session: Session, new_browser: Any
) -> None:
    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=1)
    admin = factory.user(platform_admin=True)
    applicant: User = factory.last_applicants[0]
    browser: Browser = new_browser()
    browser.login(admin.email)
    reference = procedure.reference
    for path, name in [
        (f"/procedures/{reference}/audit.jsonl", f"{reference}-audit.jsonl"),
        (f"/procedures/{reference}/report.csv", f"{reference}-scores.csv"),
        (f"/procedures/{reference}/report.xlsx", f"{reference}-scores.xlsx"),
        (f"/procedures/{reference}/calendar.ics", f"{reference}.ics"),
    ]:
        response = browser.get(path)
        assert response.status_code == 200, path
        assert response.headers["content-disposition"] == f'attachment; filename="{name}"'

    own: Browser = new_browser()
    own.login(applicant.email)
    own.get("/lang/nl?next=/")
    export = own.get("/account/export")
    assert export.status_code == 200
    assert export.headers["content-disposition"] == 'attachment; filename="mijn-gegevens.zip"'
    own.get("/lang/en?next=/")
    export = own.get("/account/export")
    assert export.headers["content-disposition"] == 'attachment; filename="my-data.zip"'


def test_the_csv_is_what_the_csv_module_writes(factory: Factory, session: Session) -> None:
    """scores_csv quotes each distinct text once and joins the lines itself: byte for byte
    what csv.writer makes of the rows (the sign-off hashes it), whatever the names hold."""
    from app.oversight.service import csv_cell, scores_csv, scores_rows

    procedure = factory.procedure(phase=Phase.DELIBERATION, applicants=2, extra_members=3)
    scorers = session.execute(
        select(User)
        .join(ProcedureMember, col(ProcedureMember.user_id) == col(User.id))
        .where(ProcedureMember.procedure_id == procedure.id, ProcedureMember.role != "observer")
    ).scalars()
    odd = ['De Vries, "Anna"', "regel\neen", "cr\rin", " spaties ", "", "=1+1"]
    for user, name in zip(scorers, odd, strict=True):
        user.name = name
    session.commit()
    for human in (False, True):
        expected = io.StringIO()
        rows = scores_rows(session, procedure, human=human)
        assert len(rows) > 1 + 6
        csv.writer(expected, lineterminator="\r\n").writerows(
            [csv_cell(v) for v in row] for row in rows
        )
        assert scores_csv(session, procedure, human=human) == expected.getvalue()
