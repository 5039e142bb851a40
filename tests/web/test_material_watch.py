"""Missing material is flagged before the materialefrist: on the dashboards of the originating
body and of the secretariat, and among the agenda candidates."""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import CaseExpense, Meeting, MeetingStatus, Party, PartyKind
from workflow.engine import core as engine
from workflow.engine.errors import GuardFailed


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


# A cost-driving case without a business case (the complete test case has one).
WITHOUT_BUSINESS_CASE = {"cost_driving": True, "business_case": ""}


def _submitted(make_case, make_user, **fields):
    case = make_case(**fields)
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    return case


def test_dashboards_list_a_case_lacking_a_business_case_before_the_materialefrist(
    session, body, client, logged_in, make_case, make_user, text_of
):
    _tss_meeting(session, body, 18)
    case = _submitted(
        make_case, make_user, title="Sag uden businesscase", cost_driving=True, business_case=""
    )
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
    _submitted(
        make_case, make_user, title="Sag uden businesscase", cost_driving=True, business_case=""
    )
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
    make_case(state="at_tss", title="Sag uden businesscase", **WITHOUT_BUSINESS_CASE)
    logged_in("member@SU-NORD-SOM")
    assert "Materialefrister, der nærmer sig" not in text_of(client.get("/"))


def test_the_warning_days_are_configurable(
    session, body, make_app, make_login_user, make_case, make_user
):
    _tss_meeting(session, body, 20, month=11)
    _submitted(
        make_case, make_user, title="Sag uden businesscase", cost_driving=True, business_case=""
    )
    client = make_app(MATERIAL_WARNING_DAYS=90).test_client()
    user = make_login_user("member@SU-NORD-SOM")
    from support.web import PASSWORD

    client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert "Materialefrister, der nærmer sig" in client.get("/").get_data(as_text=True)


def test_agenda_candidates_show_what_is_missing(
    session, body, client, logged_in, make_case, text_of
):
    meeting = _tss_meeting(session, body, 18)
    make_case(state="at_tss", title="Sag uden businesscase", **WITHOUT_BUSINESS_CASE)
    logged_in("secretariat@TSS")
    page = text_of(client.get(f"/moeder/{meeting.id}"))
    assert "Mangler før materialefristen: Forslaget giver kommunerne nye opgaver" in page
    assert "mangler en businesscase" in page


def test_the_warnings_say_what_the_rules_refuse_and_follow_a_rule_change(
    session, body, client, logged_in, make_case, make_user, monkeypatch, text_of
):
    """One source of truth: the dashboard's warning, the agenda candidate's warning and the
    guard that refuses the step come from the same rule in workflow/cases/rules.py."""
    from workflow.cases import rules
    from workflow.engine.guards import Failure

    meeting = _tss_meeting(session, body, 18)
    _submitted(make_case, make_user, title="Komplet sag")
    complete = make_case(state="at_tss", title="Komplet sag hos TSS")
    # A municipal extra expense without a business case, on a case not flagged cost-driving:
    # the financing rule refuses it (a copy of the rule looked at the flag only).
    municipality = session.scalar(select(Party).where(Party.kind == PartyKind.MUNICIPALITY))
    submitted = _submitted(
        make_case, make_user, title="Merudgift uden businesscase", business_case=""
    )
    at_tss = make_case(state="at_tss", title="Hos TSS", business_case="")
    for case in (submitted, at_tss):
        session.add(CaseExpense(case_id=case.id, party_id=municipality.id, amount_dkk=50000))
    session.commit()
    [refusal] = [
        f for f in engine.check(at_tss, "tss_recommend", None) if f.rule == "financing_follows"
    ]
    logged_in("secretariat@TSS")
    dashboard = text_of(client.get("/"))
    section = dashboard[dashboard.index("Materialefrister, der nærmer sig") :]
    assert "Merudgift uden businesscase" in section and refusal.message in section
    assert refusal.message in text_of(client.get(f"/moeder/{meeting.id}"))

    # The agreement changes: the role rule now also asks for a named contact person.
    def stricter(case):
        return rules_before(case) or Failure(
            "role_distribution_stated", "Angiv en kontaktperson.", "Name a contact person."
        )

    rules_before = rules.role_distribution_failure
    monkeypatch.setattr(rules, "role_distribution_failure", stricter)
    # The guards refuse it (submitting another draft, recommending at TSS) …
    with pytest.raises(GuardFailed, match="Angiv en kontaktperson"):
        _submitted(make_case, make_user, title="Ny kladde")
    assert "Angiv en kontaktperson." in [
        f.message for f in engine.check(complete, "tss_recommend", None)
    ]
    # … and the dashboard and the agenda candidates say so before the materialefrist.
    dashboard = text_of(client.get("/"))
    assert "Komplet sag" in dashboard and "Angiv en kontaktperson." in dashboard
    assert "Angiv en kontaktperson." in text_of(client.get(f"/moeder/{meeting.id}"))
