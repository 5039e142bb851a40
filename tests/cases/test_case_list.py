"""The case list: filters, sorting, pagination in the database, and the CSV export."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime

from models import Deadline, DeadlineKind, FocusArea
from workflow.cases import queries


def _titles(html: str) -> list[str]:
    return re.findall(r'<a href="/sager/\d+">([^<]+)</a>', html)


def test_free_text_searches_title_and_summary(client, logged_in, make_case):
    make_case(title="Hjemmebehandling af KOL", summary="")
    make_case(title="Andet forslag", summary="Telemedicinsk opfølgning på KOL-patienter")
    make_case(title="Demens", summary="Pårørende")
    logged_in("member@SU-NORD-SOM")
    titles = _titles(client.get("/sager", query_string={"q": "kol"}).get_data(as_text=True))
    assert sorted(titles) == ["Andet forslag", "Hjemmebehandling af KOL"]


def test_filters_by_focus_area_goal_and_overdue(client, logged_in, make_case, session):
    areas = session.query(FocusArea).order_by(FocusArea.id).limit(2).all()
    in_area = make_case(title="I området", focus_area_id=areas[1].id)
    make_case(title="Andet område", focus_area_id=areas[0].id)
    logged_in("member@SU-NORD-SOM")
    html = client.get("/sager", query_string={"fokus": areas[1].id}).get_data(as_text=True)
    assert _titles(html) == ["I området"]
    goal_only = make_case(title="Uden mål", goals=False)
    html = client.get("/sager", query_string={"maal": 1}).get_data(as_text=True)
    assert "Uden mål" not in _titles(html) and "I området" in _titles(html)
    session.add(
        Deadline(
            case_id=in_area.id, kind=DeadlineKind.STATE, state="draft",
            body_id=in_area.current_body_id, due_at=datetime(2020, 8, 1, tzinfo=UTC),
            reminder_days=[],
        )
    )  # fmt: skip
    session.flush()
    html = client.get("/sager", query_string={"overskredet": "1"}).get_data(as_text=True)
    assert _titles(html) == ["I området"]
    assert goal_only.id


def test_sorting_by_title_both_ways(client, logged_in, make_case):
    for title in ("Beta", "Alfa", "Gamma"):
        make_case(title=title)
    logged_in("member@SU-NORD-SOM")
    ascending = _titles(client.get("/sager?sortering=titel").get_data(as_text=True))
    descending = _titles(client.get("/sager?sortering=-titel").get_data(as_text=True))
    assert ascending == ["Alfa", "Beta", "Gamma"]
    assert descending == ["Gamma", "Beta", "Alfa"]


def test_pages_are_cut_in_the_database(client, logged_in, make_case, monkeypatch, text_of):
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries.list_cases, "__defaults__", (2,))
    for number in range(5):
        make_case(title=f"Sag {number}")
    logged_in("member@SU-NORD-SOM")
    first = client.get("/sager?sortering=titel")
    assert _titles(first.get_data(as_text=True)) == ["Sag 0", "Sag 1"]
    assert "Side 1 af 3" in text_of(first)
    last = client.get("/sager?sortering=titel&side=3")
    assert _titles(last.get_data(as_text=True)) == ["Sag 4"]
    assert "Forrige side" in text_of(last) and "Næste side" not in text_of(last)


def test_csv_export_has_danish_headers_semicolons_and_a_bom(client, logged_in, make_case):
    make_case(title="Æblegrød og rødgrød", summary="Søde sager; med semikolon")
    make_case(title="Andet", origin="SU-SYD-SOM")
    logged_in("member@SU-NORD-SOM")
    response = client.get("/sager/eksport.csv", query_string={"organ": "SU-NORD-SOM"})
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:4] == ["Nr.", "Titel", "Proces", "Tilstand"]
    assert len(rows) == 2
    assert rows[1][1] == "Æblegrød og rødgrød"
    assert rows[1][3] == "Kladde i samordningsudvalget"
    assert rows[1][-1] == "Søde sager; med semikolon"
