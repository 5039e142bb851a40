"""Report pages: filters, print styles, CSV and XLSX exports, SKU's yearly follow-up, the
annual cycle and the indicator pages."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

from openpyxl import load_workbook
from support.formandskab import decide

from models import Deadline, DeadlineKind, Meeting
from workflow.engine import clock
from workflow.implementation import indicators
from workflow.reports import queries as reports


def decided_case(make_case, make_user):
    """A signature initiative SKU approved on the chairs' behalf 20 days after submission."""
    start = clock.now()
    case = make_case(title="Fælles akutindsats")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    clock.set_time(start + timedelta(days=10))
    decide(case, "tss_recommend", make_user("chair@TSS"))
    clock.set_time(start + timedelta(days=20))
    decide(case, "sku_approve", make_user("chair@SKU"))
    return case


def test_the_reports_page_lists_every_report(client, logged_in, text_of):
    logged_in("observer@KKR")
    text = text_of(client.get("/rapporter"))
    for title in (
        "Status pr. organ",
        "Overskredne frister",
        "Beslutninger i SKU og TSS",
        "Gennemløbstid",
        "Tid i hver tilstand pr. organ",
        "Årlig opfølgning til SKU",
    ):
        assert title in text  # fmt: skip


def test_a_report_is_filtered_printable_and_exported(
    client, logged_in, make_case, make_user, text_of
):
    decided_case(make_case, make_user)
    logged_in("secretariat@SKU")
    page = client.get("/rapporter/beslutninger", query_string={"organ": "SKU"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    text = text_of(page)
    assert "Fælles akutindsats" in text and "Godkend" in text
    assert "Indstil til godkendelse i SKU" not in text  # TSS's decision is filtered away
    assert "reports.css" in html and 'class="filters no-print"' in html
    assert "/rapporter/beslutninger/csv?organ=SKU" in html
    csv = client.get("/rapporter/gennemloebstid/csv")
    assert csv.mimetype == "text/csv"
    assert "Signaturindsats;SU-NORD-SOM;1;20,0" in csv.get_data(as_text=True)
    xlsx = client.get("/rapporter/gennemloebstid/xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    assert [c.value for c in sheet[5]][:4] == ["Signaturindsats", "SU-NORD-SOM", 1, 20.0]


def test_print_styles_hide_navigation(client, logged_in):
    logged_in("member@TSS")
    with client.get("/rapporter/static/reports.css") as response:
        css = response.get_data(as_text=True)
    assert "@media print" in css and ".no-print" in css


def test_a_bad_filter_is_explained_not_fatal(client, logged_in, text_of):
    logged_in("member@TSS")
    response = client.get("/rapporter/overskredne", query_string={"fra": "1. maj", "organ": "XYZ"})
    assert response.status_code == 200
    text = text_of(response)
    assert "Fra-datoen '1. maj' er ikke en dato; skriv den som ÅÅÅÅ-MM-DD." in text
    assert "Organet 'XYZ' findes ikke." in text


def test_an_unknown_report_is_not_found(client, logged_in):
    logged_in("member@TSS")
    assert client.get("/rapporter/findes-ikke").status_code == 404


def test_the_secretariat_downloads_skus_yearly_follow_up(client, logged_in, make_case, make_user):
    decided_case(make_case, make_user)
    logged_in("secretariat@SKU")
    response = client.get("/rapporter/aarsopfoelgning", query_string={"aar": 2020})
    assert response.status_code == 200
    assert "aarsopfoelgning-2020.xlsx" in response.headers["Content-Disposition"]
    workbook = load_workbook(io.BytesIO(response.data))
    assert {"Implementeringsplan 2020", "Indikatorer 2020", "Beslutninger i SKU"} <= set(
        workbook.sheetnames
    )
    rows = [[c.value for c in r] for r in workbook["Beslutninger i SKU"].iter_rows(min_row=5)]
    assert [r[3] for r in rows] == ["Fælles akutindsats"]


def test_the_annual_cycle_shows_meetings_and_plan_milestones(
    client, logged_in, session, body, text_of
):
    session.add(
        Meeting(
            body_id=body("SKU").id,
            title="SKU-møde",
            starts_at=datetime(2020, 10, 27, 13, tzinfo=UTC),
        )
    )
    session.commit()
    logged_in("secretariat@TSS")
    text = text_of(client.get("/rapporter/aarshjul", query_string={"aar": 2020}))
    assert "Årshjul 2020" in text
    assert "SKU-møde" in text
    assert "Implementeringsplan 2021: Til tiltrædelse i SKU (ultimo oktober)" in text
    created = client.post("/rapporter/aarshjul/plan", data={"year": 2021})
    assert created.status_code == 302
    again = client.get("/rapporter/aarshjul", query_string={"aar": 2020})
    assert "Implementeringsplan 2021" in text_of(again)
    assert "Opret implementeringsplanen for 2021" not in text_of(again)


def test_indicator_pages_chart_table_and_import(client, logged_in, session, text_of):
    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    logged_in("secretariat@TSS")
    good = "indikator;år;område;værdi\nGENIND;2019;REGION-H;8,4\nGENIND;2020;REGION-H;7,9\n"
    imported = client.post(
        "/indikatorer/indlaes", data={"file": (io.BytesIO(good.encode()), "v.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert imported.status_code == 302
    bad = "indikator;år;område;værdi\nGENIND;2021;REGION-H;otte\n"
    refused = client.post(
        "/indikatorer/indlaes", data={"file": (io.BytesIO(bad.encode()), "v.csv")},
        content_type="multipart/form-data",
    )  # fmt: skip
    assert refused.status_code == 400
    assert "Række 2: værdien 'otte' er ikke et tal" in text_of(refused)
    page = client.get("/indikatorer/GENIND")
    html = page.get_data(as_text=True)
    assert 'role="img"' in html and "<title" in html and "<desc" in html
    assert "8,4" in text_of(page) and "7,9" in text_of(page)


def test_only_the_secretariats_import_values(client, logged_in):
    logged_in("member@SU-NORD-SOM")
    assert client.get("/indikatorer/indlaes").status_code == 403


def test_reports_module_titles_match_the_index(session):
    from workflow.reports.views import REPORT_TITLES

    for key, build in reports.REPORTS.items():
        if key != "beslutninger":
            assert build(session, reports.Filters()).title == REPORT_TITLES[key]


def test_the_yearly_follow_up_is_also_a_word_document_with_the_same_figures(
    client, logged_in, make_case, make_user
):
    from docx import Document

    decided_case(make_case, make_user)
    logged_in("secretariat@SKU")
    assert "/rapporter/aarsopfoelgning/docx" in client.get("/rapporter").get_data(as_text=True)
    response = client.get("/rapporter/aarsopfoelgning/docx", query_string={"aar": 2020})
    assert response.status_code == 200
    assert "aarsopfoelgning-2020.docx" in response.headers["Content-Disposition"]
    document = Document(io.BytesIO(response.data))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["Implementeringsplan 2020", "Implementering og udbredelse",
                            "Indikatorer 2020"]  # fmt: skip
    workbook = load_workbook(
        io.BytesIO(client.get("/rapporter/aarsopfoelgning", query_string={"aar": 2020}).data)
    )
    sheet = workbook["Gennemløbstid fra indstilling t"]
    xlsx_rows = [[c.value for c in r] for r in sheet.iter_rows(min_row=4) if r[0].value]
    [table] = [
        t
        for t in document.tables
        if [c.text for c in t.rows[0].cells] == xlsx_rows[0] and len(t.rows) == len(xlsx_rows)
    ]
    word_rows = [[c.text for c in row.cells] for row in table.rows]
    assert word_rows[1][:4] == ["Signaturindsats", "SU-NORD-SOM", "1", "20"]
    assert xlsx_rows[1][:4] == ["Signaturindsats", "SU-NORD-SOM", 1, 20.0]
    decisions = next(
        t for t in document.tables if any("Fælles akutindsats" in c.text for c in t.rows[-1].cells)
    )
    assert "Godkend" in [c.text for c in decisions.rows[-1].cells]


def test_the_implementation_report_shows_its_per_cent_column(
    client, logged_in, make_case, make_user, text_of
):
    """A column heading with a per cent sign once broke the translation call (500)."""
    decided_case(make_case, make_user)
    user = logged_in("secretariat@TSS")
    page = client.get("/rapporter/implementering")
    assert page.status_code == 200
    assert "Færdige (pct.)" in text_of(page) and "Fælles akutindsats" in text_of(page)
    user.locale = "en"
    assert "Done (per cent)" in text_of(client.get("/rapporter/implementering"))


def returned_draft(make_case, make_user, session, body):
    """A signature initiative of SU-SYD-SOM that TSS returned for revision (a draft again,
    but one that was shared), with a follow-up deadline of TSS that is now overdue."""
    case = make_case(origin="SU-SYD-SOM", title="Syds returnerede kladde")
    decide(case, "submit", make_user("chair@SU-SYD-SOM"))
    decide(case, "tss_return", make_user("chair@TSS"), comment="Beskriv økonomien.")
    _overdue_follow_up(session, body, case)
    assert case.state == "draft"
    return case


def private_draft(make_case, make_user, session, body):
    """A draft of SU-SYD-SOM that was never sent on, with an overdue deadline of TSS's."""
    case = make_case(origin="SU-SYD-SOM", title="Syds fortrolige kladde")
    _overdue_follow_up(session, body, case)
    return case


def _overdue_follow_up(session, body, case):
    session.add(
        Deadline(
            case_id=case.id, kind=DeadlineKind.FOLLOW_UP, state="draft", body_id=body("TSS").id,
            due_at=clock.now() - timedelta(days=3), reminder_days=[], created_at=clock.now(),
        )
    )  # fmt: skip
    session.commit()


REPORT_KEYS = ("overskredne", "beslutninger", "status-organ", "status-fokusomraade", "ventetid")


def test_reports_leave_out_the_drafts_of_other_bodies(
    client, logged_in, make_case, make_user, session, body, text_of
):
    private_draft(make_case, make_user, session, body)
    logged_in("secretariat@TSS")
    overdue = text_of(client.get("/rapporter/overskredne"))
    assert "Syds fortrolige kladde" not in overdue
    assert "Syds fortrolige kladde" not in text_of(client.get("/rapporter/beslutninger"))
    assert "Kladde i samordningsudvalget" not in text_of(client.get("/rapporter/status-organ"))
    # The draft's stays (with SU-SYD-SOM and TSS) are the only ones: nothing is left to count.
    assert "Ingen rækker" in text_of(client.get("/rapporter/ventetid"))
    for key in REPORT_KEYS:
        assert "Syds fortrolige kladde" not in client.get(f"/rapporter/{key}/csv").text
        sheet = load_workbook(io.BytesIO(client.get(f"/rapporter/{key}/xlsx").data)).active
        assert not any("Syds" in str(c.value) for row in sheet.iter_rows() for c in row)


def test_the_body_of_a_draft_and_admins_still_see_it_in_the_reports(
    client, logged_in, make_case, make_user, session, body, text_of
):
    private_draft(make_case, make_user, session, body)
    for roles, kwargs in ((("member@SU-SYD-SOM",), {}), ((), {"is_admin": True})):
        logged_in(*roles, **kwargs)
        assert "Syds fortrolige kladde" in text_of(client.get("/rapporter/overskredne"))
        assert "Syds fortrolige kladde" in client.get("/rapporter/overskredne/csv").text
        client.post("/logout")


def test_the_yearly_follow_up_leaves_out_the_drafts_of_other_bodies(
    client, logged_in, make_case, make_user, session, body
):
    from docx import Document

    private_draft(make_case, make_user, session, body)
    logged_in("secretariat@SKU")
    workbook = load_workbook(
        io.BytesIO(client.get("/rapporter/aarsopfoelgning", query_string={"aar": 2020}).data)
    )
    cells = [str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert not any("Syds fortrolige kladde" in c for c in cells)
    document = Document(
        io.BytesIO(client.get("/rapporter/aarsopfoelgning/docx", query_string={"aar": 2020}).data)
    )
    words = [c.text for t in document.tables for row in t.rows for c in row.cells]
    assert not any("Syds fortrolige kladde" in w for w in words)
    client.post("/logout")
    logged_in("member@SU-SYD-SOM")
    workbook = load_workbook(
        io.BytesIO(client.get("/rapporter/aarsopfoelgning", query_string={"aar": 2020}).data)
    )
    cells = [str(c.value) for sheet in workbook for row in sheet.iter_rows() for c in row]
    assert any("Syds fortrolige kladde" in c for c in cells)


def test_a_draft_returned_for_revision_stays_in_the_reports_of_those_who_saw_it(
    client, logged_in, make_case, make_user, session, body, text_of
):
    """It was shared when it was sent on; TSS's own decision on it stays readable."""
    returned_draft(make_case, make_user, session, body)
    logged_in("secretariat@TSS")
    assert "Syds returnerede kladde" in text_of(client.get("/rapporter/overskredne"))
    decided = text_of(client.get("/rapporter/beslutninger"))
    assert "Syds returnerede kladde" in decided and "Send tilbage til revision" in decided


def test_every_report_heading_has_an_english_translation(session):
    """The pages translate a report's headings as they render them; each one is in the
    catalogue (marked with N_ for `make translations`)."""
    from babel.messages.pofile import read_po

    from workflow.engine.paths import resource_dir

    with (resource_dir("translations") / "en" / "LC_MESSAGES" / "messages.po").open("rb") as po:
        catalogue = read_po(po)
    reports_shown = [reports.REPORTS[key](session, reports.Filters()) for key in reports.REPORTS]
    reports_shown += reports.yearly_follow_up(session, 2020)
    headings = {c for r in reports_shown for c in r.columns if not c.isdigit()}
    untranslated = {h for h in headings if h not in catalogue or not catalogue[h].string}
    assert len(headings) > 40 and untranslated == set()


def test_the_yearly_follow_up_is_also_a_tagged_pdf_with_the_same_tables(
    client, logged_in, make_case, make_user
):
    from support.documents import is_a4, pdf_facts, pdf_text

    decided_case(make_case, make_user)
    logged_in("secretariat@SKU")
    assert "/rapporter/aarsopfoelgning/pdf" in client.get("/rapporter").get_data(as_text=True)
    response = client.get("/rapporter/aarsopfoelgning/pdf", query_string={"aar": 2020})
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "aarsopfoelgning-2020.pdf" in response.headers["Content-Disposition"]
    facts = pdf_facts(response.data)
    assert facts.tagged and facts.has_structure_tree and facts.language == "da-DK"
    assert facts.title == "Årlig opfølgning på sundhedsaftalen 2020"
    # Landscape A4 on every page: the tables are wide.
    assert all(is_a4(size) and size[0] > size[1] for size in facts.page_sizes)
    assert {"Table", "TH", "TD", "H1", "H2"} <= facts.structure_roles
    text = pdf_text(response.data)
    assert f"Side 1 af {len(facts.page_sizes)}" in text
    assert "Sundhedskoordinationsudvalget (SKU) · Årlig opfølgning på sundhedsaftalen 2020" in text
    assert "Implementeringsplan 2020" in text and "Indikatorer 2020" in text
    assert "Signaturindsats SU-NORD-SOM 1 20" in text and "Fælles akutindsats" in text


def test_the_yearly_follow_up_in_word_is_landscape_a4_danish_with_page_numbers(
    client, logged_in, make_case, make_user
):
    from support.documents import word_facts

    decided_case(make_case, make_user)
    logged_in("secretariat@SKU")
    response = client.get("/rapporter/aarsopfoelgning/docx", query_string={"aar": 2020})
    facts = word_facts(response.data)
    assert facts.page_mm == [(297, 210)]
    assert facts.languages == {"da-DK"}
    assert facts.footer_fields == ["PAGE", "NUMPAGES"]
    assert facts.header_text.endswith("Årlig opfølgning på sundhedsaftalen 2020")


def test_a_long_report_is_shown_a_page_at_a_time_and_exported_whole(
    client, logged_in, make_case, make_user, text_of, monkeypatch
):
    from workflow.reports import views

    decided_case(make_case, make_user)  # two decisions: TSS's recommendation, SKU's approval
    monkeypatch.setattr(views, "ROWS_PER_PAGE", 1)
    logged_in("secretariat@SKU")
    first = client.get("/rapporter/beslutninger", query_string={"fra": "2020-01-01"})
    text = text_of(first)
    assert "Viser række 1–1 af 2 (side 1 af 2)" in text
    assert "Hent rapporten som CSV eller Excel for at få alle rækker." in text
    assert "Indstil til godkendelse i SKU" in text and "Godkend " not in text
    assert "/rapporter/beslutninger?side=2&amp;fra=2020-01-01" in first.get_data(as_text=True)
    second = text_of(client.get("/rapporter/beslutninger", query_string={"side": 2}))
    assert "Viser række 2–2 af 2 (side 2 af 2)" in second and "Godkend " in second
    # A page past the last shows the last; the exports hold every row.
    assert "Viser række 2–2 af 2" in text_of(client.get("/rapporter/beslutninger?side=99"))
    csv = client.get("/rapporter/beslutninger/csv").get_data(as_text=True)
    assert len(csv.strip().splitlines()) == 1 + 2
    client.post("/sprog", data={"sprog": "en", "tilbage": "/rapporter"})
    english = text_of(client.get("/rapporter/beslutninger", query_string={"side": 2}))
    assert "Showing rows 2–2 of 2 (page 2 of 2)" in english
