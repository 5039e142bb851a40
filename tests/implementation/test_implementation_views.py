"""Implementation pages: the chair's one-page overview, a case's units and the unit report."""

from __future__ import annotations

import re
from collections import Counter
from datetime import date

from sqlalchemy import select

from models import CaseEvent, ImplementationState
from workflow.engine import clock
from workflow.implementation import operations as implementation


def implementing(make_case, session, **fields):
    case = make_case(state="implementation", **fields)
    implementation.create_units(session, case, None, clock.now())
    session.commit()
    return case


def unit_of(session, case, code):
    return next(u for u in implementation.units_of(session, case) if u.party.code == code)


def test_a_chair_sees_every_initiative_in_every_municipality_on_one_page(
    client, logged_in, make_case, session, make_user, text_of
):
    implementing(make_case, session, title="Akutfunktioner")
    second = implementing(make_case, session, title="Sårbare gravide", origin="SU-SYD-SOM")
    implementation.report_unit(
        session, unit_of(session, second, "KOM-HVIDOVRE").id, make_user("secretariat@TSS"),
        status="implemented",
    )  # fmt: skip
    logged_in("chair@SKU")
    response = client.get("/implementering", query_string={"sag": second.id})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = text_of(response)
    assert "Akutfunktioner" in text and "Sårbare gravide" in text
    assert "Hvidovre Kommune Planområde Syd ○ Ikke startet ✓ Implementeret" in text
    # The grid: an accessible SVG whose tiles say the status in words.
    assert 'role="img"' in html and "<title>Hvidovre Kommune: Implementeret</title>" in html
    assert "<title>Hillerød Kommune: Ikke startet</title>" in html
    assert html.count("<title>") >= 29 + 1
    # The legend explains each status in text, not colour alone.
    for word in ("Implementeret", "I gang", "Ikke startet", "Ikke relevant"):
        assert word in text


def test_the_grid_and_the_legend_on_one_page_use_each_id_once(
    client, logged_in, make_case, session, make_user
):
    """The grid and the legend each defined the hatched patterns as id="skraa" and "kryds", so
    the observer's dashboard and the overview had them twice (found by the KKR observer's
    browser journey); each chart now fills from its own patterns."""
    case = implementing(make_case, session, title="Sårbare gravide", origin="SU-SYD-SOM")
    implementation.report_unit(
        session, unit_of(session, case, "KOM-HVIDOVRE").id, make_user("secretariat@TSS"),
        status="in_progress",
    )  # fmt: skip
    logged_in("chair@SKU")
    html = client.get("/implementering", query_string={"sag": case.id}).get_data(as_text=True)
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    for target in re.findall(r'fill="url\(#([^)]+)\)"', html):
        assert ids[target] == 1, target


def test_the_overview_without_initiatives_says_so(client, logged_in, text_of):
    logged_in("member@TSS")
    response = client.get("/implementering")
    assert "Ingen indsatser er under implementering endnu." in text_of(response)


def test_a_unit_reports_through_the_short_form(client, logged_in, make_case, session, text_of):
    case = implementing(make_case, session)
    unit = unit_of(session, case, "KOM-HILLEROED")
    logged_in("member@SU-NORD-SOM")
    page = client.get(f"/implementering/sag/{case.id}")
    assert f"/implementering/enhed/{unit.id}" in page.get_data(as_text=True)
    refused = client.post(
        f"/implementering/enhed/{unit.id}", data={"status": "not_relevant", "reason": ""}
    )
    assert refused.status_code == 400
    assert "Skriv en begrundelse" in text_of(refused)
    assert unit.status == ImplementationState.NOT_STARTED
    saved = client.post(
        f"/implementering/enhed/{unit.id}",
        data={"status": "implemented", "started_on": "2020-06-01", "implemented_on": "2020-08-20"},
    )
    assert saved.status_code == 302
    session.refresh(unit)
    assert unit.status == ImplementationState.IMPLEMENTED
    assert unit.implemented_on == date(2020, 8, 20)
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
    ).first()
    assert event.trigger == implementation.REPORT_TRIGGER


def test_a_member_of_another_committee_cannot_report(client, logged_in, make_case, session):
    case = implementing(make_case, session)
    unit = unit_of(session, case, "KOM-HVIDOVRE")
    logged_in("member@SU-NORD-SOM")
    assert client.get(f"/implementering/enhed/{unit.id}").status_code == 403
    assert (
        client.post(f"/implementering/enhed/{unit.id}", data={"status": "implemented"}).status_code
        == 403
    )


def test_a_reader_who_can_report_nothing_gets_no_empty_action_column(
    client, logged_in, make_case, session
):
    """An observer saw a "Handling" column of empty cells; a reporting member keeps it."""
    case = implementing(make_case, session)
    logged_in("observer@KKR")
    page = client.get(f"/implementering/sag/{case.id}").get_data(as_text=True)
    assert "Enhedernes status" in page and "Handling" not in page
    client.post("/logout")
    logged_in("member@SU-NORD-SOM")
    page = client.get(f"/implementering/sag/{case.id}").get_data(as_text=True)
    assert "Handling" in page and "Meld status" in page


def test_the_secretariat_can_create_missing_units(client, logged_in, make_case, session, text_of):
    case = make_case(state="implementation")
    logged_in("secretariat@SU-NORD-SOM")
    page = client.get(f"/implementering/sag/{case.id}")
    assert "Opret enhederne" in text_of(page)
    response = client.post(f"/implementering/sag/{case.id}/enheder")
    assert response.status_code == 302
    assert len(implementation.units_of(session, case)) == 36


def test_the_case_page_links_to_implementation_only_once_it_has_begun(
    client, logged_in, make_case, session, text_of
):
    logged_in("member@SU-NORD-SOM")
    draft = make_case()
    assert "Implementering pr. enhed" not in text_of(client.get(f"/sager/{draft.id}"))
    approved = implementing(make_case, session)
    assert "Implementering pr. enhed" in text_of(client.get(f"/sager/{approved.id}"))


def test_the_implementation_page_of_a_draft_is_for_its_body(client, logged_in, make_case):
    draft = make_case(title="Syds kladde", origin="SU-SYD-SOM")
    logged_in("member@TSS")
    assert client.get(f"/implementering/sag/{draft.id}").status_code == 404
    client.post("/logout")
    logged_in("member@SU-SYD-SOM")
    page = client.get(f"/implementering/sag/{draft.id}")
    assert page.status_code == 200 and "Syds kladde" in page.text


def test_a_unit_outside_every_planning_area_is_placed_in_the_whole_region_in_the_readers_language(
    client, logged_in, make_case, session
):
    case = implementing(make_case, session, title="Akutfunktioner")
    areas = {u.party.code: u.party.planning_area for u in implementation.units_of(session, case)}
    assert any(area is None for area in areas.values()), "the fixture needs a region-wide unit"
    logged_in("chair@SKU")
    danish = client.get("/implementering", query_string={"sag": case.id}).get_data(as_text=True)
    assert "<td>Hele regionen</td>" in danish
    client.post("/sprog", data={"sprog": "en", "tilbage": "/"})
    english = client.get("/implementering", query_string={"sag": case.id}).get_data(as_text=True)
    assert "<td>The whole region</td>" in english and "Hele regionen" not in english
