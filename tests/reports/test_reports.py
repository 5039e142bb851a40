"""Reports: figures equal hand-computed figures on a fixed data set; CSV and XLSX agree."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from openpyxl import load_workbook
from support.formandskab import decide

from models import Deadline, DeadlineKind
from workflow.engine import clock
from workflow.implementation import operations as implementation
from workflow.reports import queries as reports
from workflow.reports.queries import Filters

T0 = clock.now  # the frozen clock's start, read inside the fixture


@pytest.fixture
def data_set(make_case, make_user, body, session):
    """Three signature initiatives moved through the engine on a fixed timetable.

    day 0: A, B, C created; B submitted.   day 5: C submitted.   day 10: A submitted.
    day 20: TSS recommends B.   day 30: TSS recommends A.   day 50: SKU approves A.
    day 80: SKU approves B.   day 90: now. C waits in TSS with a deadline due on day 60.
    """
    start = clock.now()
    nord = make_user("chair@SU-NORD-SOM")
    syd = make_user("chair@SU-SYD-SOM")
    tss = make_user("chair@TSS")
    sku = make_user("chair@SKU")
    a = make_case(origin="SU-NORD-SOM", title="A")
    b = make_case(origin="SU-SYD-SOM", title="B")
    c = make_case(origin="SU-NORD-SOM", title="C")

    def at(day):
        clock.set_time(start + timedelta(days=day))

    decide(b, "submit", syd)
    at(5)
    decide(c, "submit", nord)
    at(10)
    decide(a, "submit", nord)
    at(20)
    decide(b, "tss_recommend", tss)
    at(30)
    decide(a, "tss_recommend", tss)
    at(50)
    decide(a, "sku_approve", sku)
    implementation.create_units(session, a, None, clock.now())
    session.commit()
    units = implementation.units_of(session, a)
    implementation.report_unit(session, units[0].id, nord, status="implemented")
    implementation.report_unit(
        session, units[1].id, nord, status="not_relevant", reason="Ingen målgruppe."
    )
    at(80)
    decide(b, "sku_approve", sku)
    session.add(
        Deadline(
            case_id=c.id, kind=DeadlineKind.STATE, state="at_tss", body_id=body("TSS").id,
            due_at=start + timedelta(days=60), reminder_days=[], created_at=start,
        )
    )  # fmt: skip
    session.commit()
    at(90)
    return {"a": a, "b": b, "c": c, "start": start}


def rows_by(report, width):
    return {tuple(row[:width]): row[width:] for row in report.rows}


def test_throughput_is_days_from_submission_to_sku_decision(data_set, session):
    report = reports.throughput(session)
    assert report.rows == [
        ["Signaturindsats", "SU-NORD-SOM", 1, 40.0, 40.0, 40.0, 40.0],
        ["Signaturindsats", "SU-SYD-SOM", 1, 80.0, 80.0, 80.0, 80.0],
    ]
    process_only = reports.throughput(session, Filters(process="signature_initiative"))
    assert [r[2] for r in process_only.rows] == [1, 1]
    # SKU decided on A on day 50 (21 October) and on B on day 80 (20 November).
    october = reports.throughput(session, Filters(date(2020, 10, 1), date(2020, 10, 31)))
    assert [r[1] for r in october.rows] == ["SU-NORD-SOM"]
    assert reports.throughput(session, Filters(body="SU-SYD-SOM")).rows[0][3] == 80.0


def test_time_in_state_per_body_with_overdue_counts(data_set, session):
    report = reports.time_in_state(session)
    found = rows_by(report, 3)
    process = "Signaturindsats"
    assert found[("SU-NORD-SOM", process, "Kladde i samordningsudvalget")] == [2, 7.5, 10.0, 0]
    assert found[("SU-SYD-SOM", process, "Kladde i samordningsudvalget")] == [1, 0.0, 0.0, 0]
    # A 20 days, B 20 days, C still waiting since day 5: 85 days; C's deadline is overdue.
    assert found[("TSS", process, "Til behandling i TSS")] == [3, 41.7, 85.0, 1]
    assert found[("SKU", process, "Til beslutning i SKU")] == [2, 40.0, 60.0, 0]
    assert found[("SU-NORD-SOM", process, "Udbredelse og implementering")] == [1, 40.0, 40.0, 0]
    assert found[("SU-SYD-SOM", process, "Udbredelse og implementering")] == [1, 10.0, 10.0, 0]
    only_tss = reports.time_in_state(session, Filters(body="TSS"))
    assert [row[0] for row in only_tss.rows] == ["TSS"]


def test_decisions_of_sku_and_tss_in_a_period(data_set, session):
    report = reports.decisions(session, Filters(date(2020, 9, 1), date(2020, 10, 31)))
    assert [(row[0], row[1], row[3], row[5]) for row in report.rows] == [
        (date(2020, 9, 21), "TSS", "B", "Indstil til godkendelse i SKU"),
        (date(2020, 10, 1), "TSS", "A", "Indstil til godkendelse i SKU"),
        (date(2020, 10, 21), "SKU", "A", "Godkend"),
    ]
    # TSS's chairmanship recommends between meetings; SKU approves only at a meeting of SKU
    # (its terms do not let the chairmanship take political approvals, seed 000).
    assert [row[7] for row in report.rows] == [
        "Formandskabet på organets vegne",
        "Formandskabet på organets vegne",
        "Møde 21. oktober 2020",
    ]
    sku_only = reports.decisions(session, Filters(body="SKU"))
    assert [row[3] for row in sku_only.rows] == ["A", "B"]
    assert sku_only.title == "Beslutninger i SKU"


def test_status_by_body_and_focus_area(data_set, session):
    by_body = reports.status_by_body(session)
    assert by_body.rows == [
        ["SU-NORD-SOM", "Signaturindsats", "Udbredelse og implementering", 1, 0],
        ["SU-SYD-SOM", "Signaturindsats", "Udbredelse og implementering", 1, 0],
        ["TSS", "Signaturindsats", "Til behandling i TSS", 1, 1],
    ]
    assert by_body.totals() == ["I alt", None, None, 3, 1]
    by_area = reports.status_by_focus_area(session)
    assert [row[2:] for row in by_area.rows] == [
        ["Til behandling i TSS", 1],
        ["Udbredelse og implementering", 2],
    ]


def test_overdue_lists_open_deadlines_past_due(data_set, session):
    report = reports.overdue(session)
    assert len(report.rows) == 1
    row = report.rows[0]
    assert row[0] == data_set["c"].id
    assert row[4:] == ["TSS", "Frist i tilstanden", date(2020, 10, 31), 30]
    assert reports.overdue(session, Filters(body="SKU")).rows == []
    assert reports.overdue(session, Filters(body="NIX")).rows == []


def test_implementation_spread_counts_units(data_set, session):
    report = reports.implementation_spread(session)
    # B's units exist too once approval creates them (on_enter); A is the one with reports.
    row = next(r for r in report.rows if r[0] == data_set["a"].id)
    assert row == [
        data_set["a"].id, "A", "Signaturindsats", "Udbredelse og implementering",
        36, 1, 1, 0, 34, 6,
    ]  # fmt: skip
    only_syd = reports.implementation_spread(session, Filters(body="SU-SYD-SOM"))
    assert data_set["a"].id not in [r[0] for r in only_syd.rows]


def test_csv_holds_the_same_numbers(data_set, session):
    text = reports.to_csv(reports.time_in_state(session))
    assert text.startswith("\ufeffOrgan;Proces;Tilstand;Ophold")
    assert "TSS;Signaturindsats;Til behandling i TSS;3;41,7;85,0;1\r\n" in text
    assert text.rstrip().endswith("I alt;;;10;;;1")


def test_the_xlsx_opens_with_openpyxl_and_holds_the_same_numbers(data_set, session):
    throughput = reports.throughput(session)
    waiting = reports.time_in_state(session)
    workbook = load_workbook(io.BytesIO(reports.to_xlsx([throughput, waiting])))
    assert workbook.sheetnames == [throughput.title[:31], waiting.title]
    sheet = workbook[throughput.title[:31]]
    assert [c.value for c in sheet[4]] == throughput.columns
    values = [[c.value for c in row] for row in sheet.iter_rows(min_row=5, max_row=6)]
    assert values == throughput.rows
    totals = [c.value for c in sheet[7]]
    assert totals[:3] == ["I alt", None, 2]
    second = workbook[waiting.title]
    body_rows = [[c.value for c in row] for row in second.iter_rows(min_row=5)]
    assert body_rows[:-1] == waiting.rows


def test_the_yearly_follow_up_is_a_workbook_for_sku(data_set, session):
    from workflow.implementation import indicators

    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    indicators.import_csv(
        session, "indikator;år;område;værdi\nGENIND;2019;REGION-H;8,4\nGENIND;2020;REGION-H;7,9\n"
    )
    workbook = load_workbook(io.BytesIO(reports.yearly_follow_up_xlsx(session, 2020)))
    assert "Indikatorer 2020" in workbook.sheetnames
    assert "Beslutninger i SKU" in workbook.sheetnames
    sheet = workbook["Indikatorer 2020"]
    row = [c.value for c in sheet[5]]
    assert row[:7] == ["GENIND", "Genindlæggelser", None, "Lavere er bedre", 8.4, 7.9, "Forbedret"]
    decisions = [[c.value for c in r] for r in workbook["Beslutninger i SKU"].iter_rows(min_row=5)]
    assert [r[3] for r in decisions] == ["A", "B"]
