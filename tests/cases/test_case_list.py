"""The case list: filters, sorting, pagination in the database, and the CSV export."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import UTC, datetime

from models import Deadline, DeadlineKind, FocusArea
from workflow.cases import keyset, queries


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


def _small_pages(monkeypatch) -> None:
    monkeypatch.setattr(queries, "PAGE_SIZE", 2)
    monkeypatch.setattr(queries.list_cases, "__defaults__", (2,))


def _dated_and_undated(make_case, session, undated: int) -> tuple[list[str], list[str]]:
    """Three cases with a next deadline (two on the same day) and `undated` without one; their
    titles in the list's order by deadline (ties by number), and the undated ones'."""
    dated = [make_case(title=f"Frist {number}") for number in range(3)]
    without = [make_case(title=f"Uden frist {number}").title for number in range(undated)]
    for case, day in zip(dated, (2, 1, 2), strict=True):
        case.next_due_at = datetime(2021, 1, day, tzinfo=UTC)
    session.commit()
    return [dated[1].title, dated[0].title, dated[2].title], without


def _link(html_text: str, rel: str) -> str | None:
    found = re.search(rf'<a href="([^"]+)" rel="{rel}">', html_text)
    return html.unescape(found.group(1)) if found else None


def test_pages_follow_on_by_cursor_and_back(client, logged_in, make_case, monkeypatch, text_of):
    _small_pages(monkeypatch)
    for number in range(5):
        make_case(title=f"Sag {number}")
    logged_in("member@SU-NORD-SOM")
    first = client.get("/sager?sortering=titel")
    assert _titles(first.get_data(as_text=True)) == ["Sag 0", "Sag 1"]
    assert "5 sager matcher filtrene." in text_of(first)
    assert _link(first.get_data(as_text=True), "prev") is None

    second = client.get(_link(first.get_data(as_text=True), "next"))
    assert _titles(second.get_data(as_text=True)) == ["Sag 2", "Sag 3"]
    third = client.get(_link(second.get_data(as_text=True), "next"))
    assert _titles(third.get_data(as_text=True)) == ["Sag 4"]
    assert "Forrige side" in text_of(third) and "Næste side" not in text_of(third)

    back = client.get(_link(third.get_data(as_text=True), "prev"))
    assert _titles(back.get_data(as_text=True)) == ["Sag 2", "Sag 3"]
    again = client.get(_link(back.get_data(as_text=True), "prev"))
    assert _titles(again.get_data(as_text=True)) == ["Sag 0", "Sag 1"]
    assert _link(again.get_data(as_text=True), "prev") is None


def test_a_page_continues_after_its_last_case_even_when_that_case_changes(
    client, logged_in, make_case, monkeypatch, session
):
    _small_pages(monkeypatch)
    cases = [make_case(title=f"Sag {number}") for number in range(5)]
    logged_in("member@SU-NORD-SOM")
    first = client.get("/sager")  # the default: most recently changed first
    shown = _titles(first.get_data(as_text=True))
    next_page = _link(first.get_data(as_text=True), "next")
    # The last case shown changes meanwhile (it moves to the top of the list).
    moved = next(case for case in cases if case.title == shown[-1])
    moved.updated_at = datetime(2030, 1, 1, tzinfo=UTC)
    session.commit()
    rest = _titles(client.get(next_page).get_data(as_text=True))
    assert not set(rest) & set(shown)
    assert len(rest) == 2


def test_cases_without_a_deadline_come_last_across_pages(
    client, logged_in, make_case, monkeypatch, session
):
    _small_pages(monkeypatch)
    dated = [make_case(title=f"Frist {number}") for number in range(3)]
    for number in range(2):
        make_case(title=f"Uden frist {number}")
    for day, case in enumerate(dated, start=1):
        case.next_due_at = datetime(2021, 1, day, tzinfo=UTC)
    session.commit()
    logged_in("member@SU-NORD-SOM")
    seen: list[str] = []
    address: str | None = "/sager?sortering=frist"
    while address:
        page = client.get(address).get_data(as_text=True)
        seen += _titles(page)
        address = _link(page, "next")
    assert seen[:3] == ["Frist 0", "Frist 1", "Frist 2"]
    assert sorted(seen[3:]) == ["Uden frist 0", "Uden frist 1"]


def test_by_deadline_both_ways_pages_cross_from_dated_to_undated_cases_and_back(
    client, logged_in, make_case, monkeypatch, session
):
    # The dated and the undated cases are read by separate statements (queries._page_parts):
    # every page boundary, forward and back, must give the one order.
    _small_pages(monkeypatch)
    by_date, undated = _dated_and_undated(make_case, session, undated=4)
    logged_in("member@SU-NORD-SOM")
    for order, expected in (
        ("frist", by_date + undated),
        ("-frist", by_date[::-1] + undated[::-1]),
    ):
        pages: list[list[str]] = []
        address: str | None = f"/sager?sortering={order}"
        while address:
            page = client.get(address).get_data(as_text=True)
            pages.append(_titles(page))
            last, address = page, _link(page, "next")
        assert [title for page in pages for title in page] == expected
        back: list[list[str]] = []
        address = _link(last, "prev")
        while address:
            page = client.get(address).get_data(as_text=True)
            back.append(_titles(page))
            address = _link(page, "prev")
        assert back == pages[-2::-1]


def test_an_unreadable_cursor_starts_from_the_top(client, logged_in, make_case):
    make_case(title="Eneste")
    logged_in("member@SU-NORD-SOM")
    for cursor in ("ikke-en-cursor", "WzEsMl0", "W251bGwsLTFd", "%%%"):
        response = client.get("/sager", query_string={"efter": cursor, "sortering": "titel"})
        assert response.status_code == 200
        assert _titles(response.get_data(as_text=True)) == ["Eneste"]


def test_a_page_past_the_last_case_still_counts_the_list(client, logged_in, make_case, text_of):
    for title in ("Alfa", "Beta"):
        make_case(title=title)
    logged_in("member@SU-NORD-SOM")
    past = keyset.encode("zzzz", 10**9)  # after every title
    response = client.get("/sager", query_string={"efter": past, "sortering": "titel"})
    assert _titles(response.get_data(as_text=True)) == []
    assert "2 sager matcher filtrene." in text_of(response)


def test_the_count_stops_at_the_cap(client, logged_in, make_case, monkeypatch, text_of):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    for number in range(5):
        make_case(title=f"Sag {number}")
    logged_in("member@SU-NORD-SOM")
    assert "Over 3 sager matcher filtrene." in text_of(client.get("/sager"))


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


def test_csv_export_by_deadline_lists_the_cases_in_the_order_of_the_list(
    client, logged_in, make_case, session
):
    # The list reads the dated and the undated cases by separate statements (_page_parts); the
    # export reads them the same way and must give the list's one order, both ways.
    by_date, undated = _dated_and_undated(make_case, session, undated=2)
    logged_in("member@SU-NORD-SOM")
    for order, expected in (
        ("frist", by_date + undated),
        ("-frist", by_date[::-1] + undated[::-1]),
    ):
        response = client.get("/sager/eksport.csv", query_string={"sortering": order})
        rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig")), delimiter=";"))
        assert [row[1] for row in rows[1:]] == expected
        listed = _titles(client.get("/sager", query_string={"sortering": order}).get_data(True))
        assert listed == expected


def test_the_overdue_list_of_a_process_shows_its_overdue_cases_the_reader_may_see(
    client, logged_in, make_case, session, text_of
):
    # overskredet=1&proces= is read through the next_due_at index, which holds the process and
    # the columns of the access rule (migration 0028): the rule must still hold.
    def overdue(case, day: int) -> None:
        case.next_due_at = datetime(2020, 8, day, tzinfo=UTC)

    overdue(make_case(title="Egen kladde"), 5)
    overdue(make_case(title="Andet udvalgs kladde", origin="SU-SYD-SOM"), 1)
    overdue(make_case(title="Andet udvalgs sag hos TSS", origin="SU-SYD-SOM", state="at_tss"), 3)
    overdue(make_case("development_task", title="Anden proces", state="development"), 2)
    make_case(title="Ikke over").next_due_at = datetime(2099, 1, 1, tzinfo=UTC)
    make_case(title="Uden frist")
    session.commit()
    logged_in("member@SU-NORD-SOM")
    response = client.get("/sager?proces=signature_initiative&overskredet=1")
    assert _titles(response.get_data(as_text=True)) == ["Andet udvalgs sag hos TSS", "Egen kladde"]
    assert "2 sager matcher filtrene." in text_of(response)


def test_overdue_cases_come_most_overdue_first_unless_the_user_chose_an_order(
    client, logged_in, make_case, monkeypatch, session, text_of
):
    _small_pages(monkeypatch)
    days = {"Lidt over": 20, "Meget over": 2, "Mest over": 1, "Noget over": 10}
    for title, day in days.items():
        make_case(title=title).next_due_at = datetime(2020, 8, day, tzinfo=UTC)
    make_case(title="Ikke over").next_due_at = datetime(2020, 10, 1, tzinfo=UTC)
    make_case(title="Uden frist")
    session.commit()
    logged_in("member@SU-NORD-SOM")
    seen: list[str] = []
    address: str | None = "/sager?overskredet=1"
    while address:
        response = client.get(address)
        seen += _titles(response.get_data(as_text=True))
        assert "Næste frist (stigende)" in text_of(response)
        address = _link(response.get_data(as_text=True), "next")
    assert seen == ["Mest over", "Meget over", "Noget over", "Lidt over"]
    back = client.get(_link(client.get(
        _link(client.get("/sager?overskredet=1").get_data(as_text=True), "next")
    ).get_data(as_text=True), "prev"))  # fmt: skip
    assert _titles(back.get_data(as_text=True)) == ["Mest over", "Meget over"]
    chosen = client.get("/sager?overskredet=1&sortering=titel").get_data(as_text=True)
    assert _titles(chosen) == ["Lidt over", "Meget over"]


def test_the_filter_form_keeps_only_an_order_the_user_chose(client, logged_in):
    # Ticking "overdue" on the default list then gives the overdue list its own order.
    logged_in("member@SU-NORD-SOM")
    assert 'name="sortering"' not in client.get("/sager").get_data(as_text=True)
    chosen = client.get("/sager?sortering=titel").get_data(as_text=True)
    assert '<input type="hidden" name="sortering" value="titel">' in chosen
