"""A page per process definition: diagram, rules in words, versions; the case page forecast."""

from __future__ import annotations

from datetime import UTC, date, datetime

from models import Meeting, ProcessVersion
from workflow.engine.clock import LOCAL_TZ


def test_the_process_list_needs_a_login_and_names_every_process(client, logged_in, text_of):
    assert client.get("/processer").status_code == 302
    logged_in("member@SU-NORD-SOM")
    page = text_of(client.get("/processer"))
    for title in ("Signaturindsats", "Fælles samarbejdsaftale", "Udviklingsopgave"):
        assert title in page, title


def test_a_process_page_puts_the_rules_into_words(client, logged_in, text_of):
    logged_in("member@SU-NORD-SOM")
    response = client.get("/processer/signature_initiative")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "<svg" in html and 'role="img"' in html
    page = text_of(response)
    assert "Til behandling i TSS" in page
    assert "Materialefristen før TSS' næste møde: 8 arbejdsdage før mødet" in page
    assert "Påmindelse 7, 2 dage før fristen" in page
    assert "180 dage efter, at sagen kom i tilstanden" in page
    assert (
        "Indstil til godkendelse i SKU" in page
        and "formandskabet for TSS eller sekretariatet for TSS" in page
    )
    assert "formandskabet for det organ, der har rejst sagen" in page
    assert "skal der være en businesscase og et finansieringsforslag" in page
    assert "Begrundelse" in page  # a required field
    assert "Orienterer KKR Hovedstaden (KKR), Kommunekontaktudvalget (KKU)" in page
    assert "Versioner" in page and "1 (vist)" in page


def test_a_process_page_shows_automatic_routes(client, logged_in, text_of):
    logged_in("member@SU-NORD-SOM")
    page = text_of(client.get("/processer/forum_matter"))
    assert "Automatiske ruter" in page
    assert "når sagen er en større opgave, som TSS endnu ikke har set" in page


def test_older_versions_stay_readable(client, logged_in, session, text_of):
    logged_in("member@TSS")
    current = session.query(ProcessVersion).filter_by(name="forum_matter").one()
    session.add(
        ProcessVersion(
            name="forum_matter",
            version=current.version + 1,
            source=current.source.replace("Forumsag", "Forumsag (ny)", 1),
            sha256="0" * 64,
        )
    )
    session.flush()
    page = text_of(client.get(f"/processer/forum_matter?version={current.version}"))
    assert f"Du ser version {current.version}. Den nyeste er version {current.version + 1}" in page
    assert client.get("/processer/forum_matter?version=99").status_code == 404


def test_an_unknown_process_is_not_found(client, logged_in):
    logged_in("member@TSS")
    assert client.get("/processer/findes_ikke").status_code == 404


def _meeting(session, body, code, day):
    starts = datetime(day.year, day.month, day.day, 10, 0, tzinfo=LOCAL_TZ).astimezone(UTC)
    session.add(Meeting(body_id=body(code).id, title=f"{code}-møde", starts_at=starts))


def test_the_case_page_shows_the_earliest_decision(
    client, logged_in, make_case, session, body, text_of
):
    for code, day in [
        ("TSS", date(2020, 10, 1)),
        ("SKU", date(2020, 10, 7)),
        ("SKU", date(2020, 12, 9)),
    ]:
        _meeting(session, body, code, day)
    session.flush()
    case = make_case(state="draft", cost_driving=True, business_case="")
    logged_in("member@SU-NORD-SOM")
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Tidligst behandlet i TSS: 1. oktober 2020" in page
    assert "Tidligst besluttet i SKU: 9. december 2020" in page
    assert (
        "Indstil til TSS (SU-NORD-SOM) senest 21. september 2020 – materialefristen for TSS' "
        "møde 1. oktober 2020." in page
    )
    assert "Mangler: Forslaget giver kommunerne nye opgaver med merudgift" in page


def test_the_case_page_says_when_no_meeting_is_planned(client, logged_in, make_case, text_of):
    case = make_case(state="at_sku")
    logged_in("member@SU-NORD-SOM")
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "SKU har ingen planlagte møder, som sagen kan nå efter 1. september 2020" in page
