"""Missing material is flagged before the materialefrist: on the dashboards of the originating
body and of the secretariat, and among the agenda candidates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

from models import Meeting, MeetingStatus
from workflow.engine import core as engine


def _tss_meeting(session, body, day: int, month: int = 9) -> Meeting:
    meeting = Meeting(
        body_id=body("TSS").id,
        title="TSS-møde",
        starts_at=datetime(2020, month, day, 9, tzinfo=UTC),
        status=MeetingStatus.PLANNED,
    )
    session.add(meeting)
    session.commit()
    return meeting


def _submitted(make_case, make_user, **fields):
    case = make_case(**fields)
    engine.perform(case, "submit", make_user("chair@SU-NORD-SOM"))
    return case


def test_dashboards_list_a_case_lacking_a_business_case_before_the_materialefrist(
    session, body, client, logged_in, make_case, make_user, text_of
):
    _tss_meeting(session, body, 18)
    case = _submitted(make_case, make_user, title="Sag uden businesscase", cost_driving=True)
    _submitted(make_case, make_user, title="Komplet sag")

    logged_in("member@SU-NORD-SOM")
    page = text_of(client.get("/"))
    assert "Materialefrister, der nærmer sig" in page
    section = page[page.index("Materialefrister, der nærmer sig") :]
    assert "Sag uden businesscase" in section
    assert "mangler en businesscase" in section
    client.post("/logout")

    logged_in("secretariat@TSS")
    page = text_of(client.get("/"))
    assert "Sag uden businesscase" in page[page.index("Materialefrister, der nærmer sig") :]
    assert case.id


def test_the_secretariats_two_material_sections_are_named_by_their_own_headings(
    session, body, client, logged_in, make_case, make_user
):
    """The near materialefrister and the board's per-meeting list are both on a secretariat's
    dashboard: a shared id named both sections "Materialefrister, der nærmer sig" for a screen
    reader (found by the SU secretariat's browser journey)."""
    _tss_meeting(session, body, 18)
    _submitted(make_case, make_user, title="Sag uden businesscase", cost_driving=True)
    logged_in("secretariat@TSS")
    html = client.get("/").get_data(as_text=True)
    assert "Materialefrister, der nærmer sig" in html and "Materialefrister pr. møde" in html
    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, count in ids.items() if count > 1] == []
    headings = dict(re.findall(r'<h2 id="([^"]+)">([^<]+)</h2>', html))
    for label in re.findall(r'<section aria-labelledby="([^"]+)"', html):
        assert label in headings, label
    assert {
        headings[label] for label in re.findall(r'aria-labelledby="(materialefrister[^"]*)"', html)
    } == {
        "Materialefrister, der nærmer sig",
        "Materialefrister pr. møde",
    }


def test_a_far_materialefrist_is_not_flagged_yet(
    session, body, client, logged_in, make_case, text_of
):
    _tss_meeting(session, body, 20, month=11)
    make_case(state="at_tss", title="Sag uden businesscase", cost_driving=True)
    logged_in("member@SU-NORD-SOM")
    assert "Materialefrister, der nærmer sig" not in text_of(client.get("/"))


def test_the_warning_days_are_configurable(
    session, body, make_app, make_login_user, make_case, make_user
):
    _tss_meeting(session, body, 20, month=11)
    _submitted(make_case, make_user, title="Sag uden businesscase", cost_driving=True)
    client = make_app(MATERIAL_WARNING_DAYS=90).test_client()
    user = make_login_user("member@SU-NORD-SOM")
    from support.web import PASSWORD

    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Materialefrister, der nærmer sig" in client.get("/").get_data(as_text=True)


def test_agenda_candidates_show_what_is_missing(
    session, body, client, logged_in, make_case, text_of
):
    meeting = _tss_meeting(session, body, 18)
    make_case(state="at_tss", title="Sag uden businesscase", cost_driving=True)
    logged_in("secretariat@TSS")
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Mangler før materialefristen: Sagen mangler en businesscase." in page
