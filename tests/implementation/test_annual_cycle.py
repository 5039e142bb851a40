"""The annual cycle: the year's plan case, its milestones from the rules, the plan's lines and
the calendar of every body's meetings, material deadlines and plan milestones."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import CaseEvent, Meeting
from workflow.engine.calendar import subtract_days
from workflow.engine.errors import GuardFailed, NotAllowed
from workflow.implementation import annual_cycle, indicators


@pytest.fixture
def meeting(session, body):
    def create(code, when):
        m = Meeting(body_id=body(code).id, title=f"Møde i {code}", starts_at=when)
        session.add(m)
        session.commit()
        return m

    return create


def test_a_year_has_one_plan_case_opened_in_tss(session, make_user):
    secretariat = make_user("secretariat@TSS")
    plan = annual_cycle.create_plan(session, 2021, secretariat)
    assert (plan.process, plan.plan_year) == ("implementation_plan", 2021)
    assert plan.state == "preparation"
    assert plan.current_body.code == "TSS"
    assert annual_cycle.plan_case(session, 2021) == plan
    expected = f"allerede en implementeringsplan for 2021 \\(sag nr. {plan.id}\\)"
    with pytest.raises(GuardFailed, match=expected):
        annual_cycle.create_plan(session, 2021, secretariat)


def test_milestones_follow_the_rules_of_seed_004(session, make_user, meeting):
    june = meeting("SKU", datetime(2020, 6, 17, 13, tzinfo=UTC))
    october = meeting("SKU", datetime(2020, 10, 27, 13, tzinfo=UTC))
    plan = annual_cycle.create_plan(session, 2021, make_user("secretariat@TSS"))
    steps = annual_cycle.milestones(session, 2021)
    assert [(m.state, m.body_code, m.due) for m in steps] == [
        ("preparation", "TSS", date(2020, 5, 31)),
        ("initial_discussion", "SKU", date(2020, 6, 30)),  # Q2 of the year before
        ("kkr_dialogue", "TSS", date(2020, 9, 30)),
        ("awaiting_adoption", "SKU", date(2020, 10, 31)),  # end of October, after budgets
        ("in_effect", "TSS", date(2021, 12, 31)),
        ("follow_up", "SKU", date(2022, 6, 30)),  # yearly follow-up
    ]
    by_state = {m.state: m for m in steps}
    assert by_state["initial_discussion"].meeting == june
    assert by_state["awaiting_adoption"].meeting == october
    assert by_state["preparation"].current and not by_state["preparation"].reached
    assert plan.state == "preparation"


def test_the_calendar_holds_meetings_material_deadlines_and_milestones(session, body, meeting):
    sku = meeting("SKU", datetime(2020, 10, 27, 13, tzinfo=UTC))
    sku_body = body("SKU")
    due = subtract_days(
        date(2020, 10, 27), sku_body.material_deadline_days,
        working_days=sku_body.material_deadline_working_days,
    )  # fmt: skip
    entries = annual_cycle.year_calendar(session, 2020)
    kinds = {(e.kind, e.day, e.body_code) for e in entries}
    assert ("meeting", date(2020, 10, 27), "SKU") in kinds
    assert ("material", due, "SKU") in kinds
    milestone_titles = [e.title for e in entries if e.kind == "milestone"]
    assert "Implementeringsplan 2021: Til tiltrædelse i SKU (ultimo oktober)" in milestone_titles
    assert "Implementeringsplan 2020: Gældende plan" in milestone_titles
    assert "Implementeringsplan 2019: Årlig opfølgning på indikatorer" in milestone_titles
    assert [e.day for e in entries] == sorted(e.day for e in entries)
    only_tss = annual_cycle.year_calendar(session, 2020, ["TSS"])
    assert all(e.body_code == "TSS" for e in only_tss)
    assert sku.id not in {e.meeting_id for e in only_tss}


def test_a_plan_line_holds_what_seed_004_asks_for(session, make_user, make_case):
    secretariat = make_user("secretariat@TSS")
    plan = annual_cycle.create_plan(session, 2021, secretariat)
    initiative = make_case(title="Akutfunktioner i kommunerne")
    genind = indicators.define_indicator(
        session, code="GENIND", name="Genindlæggelser", direction="down"
    )
    item = annual_cycle.add_plan_item(
        session, plan, secretariat, title="Akutfunktioner", purpose="Færre indlæggelser",
        anchoring="SU Nord", responsible_start="TSS", responsible_delivery="Kommunerne",
        starts_on=date(2021, 1, 1), ends_on=date(2021, 12, 31), economy="Inden for rammen",
        economy_dkk=Decimal("250000"), initiative=initiative, indicator_ids=[genind.id],
    )  # fmt: skip
    assert annual_cycle.plan_items(session, plan) == [item]
    assert item.indicators == [genind]
    assert item.initiative == initiative
    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == plan.id).order_by(CaseEvent.seq.desc())
    ).first()
    assert event.trigger == annual_cycle.ITEM_TRIGGER


def test_a_plan_line_is_checked_and_locked_after_adoption(session, make_user):
    secretariat = make_user("secretariat@TSS")
    plan = annual_cycle.create_plan(session, 2021, secretariat)
    with pytest.raises(GuardFailed) as refused:
        annual_cycle.add_plan_item(
            session, plan, secretariat, title="X", purpose="",
            starts_on=date(2021, 6, 1), ends_on=date(2021, 1, 1),
        )  # fmt: skip
    assert [f.rule for f in refused.value.failures] == ["field:purpose", "field:ends_on"]
    with pytest.raises(NotAllowed):
        annual_cycle.add_plan_item(
            session, plan, make_user("member@SU-NORD-SOM"), title="X", purpose="Y"
        )
    plan.state = "in_effect"
    session.commit()
    with pytest.raises(GuardFailed, match="tiltrådt af SKU"):
        annual_cycle.add_plan_item(session, plan, secretariat, title="X", purpose="Y")


def test_the_calendar_page_shows_dates_in_words_and_the_danish_genitive(
    session, meeting, client, logged_in, text_of
):
    meeting("TSS", datetime(2020, 10, 14, 13, tzinfo=UTC))
    meeting("SKU", datetime(2020, 10, 27, 13, tzinfo=UTC))
    user = logged_in("secretariat@TSS")
    page = text_of(client.get("/rapporter/aarshjul", query_string={"aar": 2020}))
    assert "Materialefrist til TSS' møde 14. oktober 2020" in page
    assert "Materialefrist til SKU's møde 27. oktober 2020" in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)
    user.locale = "en"
    session.commit()
    page = text_of(client.get("/rapporter/aarshjul", query_string={"aar": 2020}))
    assert "Material deadline for TSS's meeting 14 October 2020" in page
    assert "October 2020" in page and "oktober" not in page
    assert not re.search(r"\d{4}-\d{2}-\d{2}", page)
