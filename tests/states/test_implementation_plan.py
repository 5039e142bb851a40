"""Every transition of the annual implementation plan (seed 004), allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

# The contract every process meets, parametrized over PROCESS by conftest.py.
from process_contract import (  # noqa: F401
    test_actor_without_the_role_is_refused_and_told_who_may,
    test_allowed_role_fires_the_transition,
    test_decision_is_taken_at_a_meeting_of_the_deciding_body,
    test_each_guard_of_the_transition_is_enforced,
    test_missing_required_field_is_named,
    test_transition_is_refused_outside_its_source_states,
)
from sqlalchemy import select
from sqlalchemy.orm import object_session
from support.formandskab import decide

from models import (
    CaseEvent,
    Deadline,
    Notification,
)
from workflow.engine import clock
from workflow.engine.definitions import parse_definition
from workflow.engine.errors import GuardFailed
from workflow.engine.guards import GUARDS, GuardContext

PROCESS = "implementation_plan"


# --- The yearly cycle (seed 004 §1.2) ------------------------------------------------------


def _open_deadline(session, case):
    [deadline] = session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)
        )
    ).all()
    return deadline


def _record_dialogue(case, actor, day="2020-08-20"):
    return decide(
        case,
        "record_kkr_dialogue",
        actor,
        data={
            "dialogue_on": day,
            "dialogue_participants": "KKR Hovedstadens formandskab og TSS' formandskab",
            "dialogue_outcome": "Kommunerne ønsker rehabilitering prioriteret i 2021.",
        },
    )


def _record_budgets(case, actor, municipal="2020-10-13", regional="2020-10-06"):
    return decide(
        case,
        "record_budget_adoption",
        actor,
        data={"municipal_budgets_adopted_on": municipal, "regional_budget_adopted_on": regional},
    )


def _value_the_plans_indicator(session, case, value="8.4"):
    from decimal import Decimal

    from models import Indicator, IndicatorDirection, IndicatorValue, Party, PartyKind, PlanItem

    indicator = Indicator(
        code="GENIND-30", name="Genindlæggelser", direction=IndicatorDirection.DOWN, unit="%"
    )
    item = PlanItem(plan_case_id=case.id, title="Udbredelse af KOL-forløbet")
    item.indicators.append(indicator)
    session.add_all([indicator, item])
    session.flush()
    region = session.scalar(select(Party).where(Party.kind == PartyKind.REGION).limit(1))
    if value is not None:
        session.add(
            IndicatorValue(
                indicator_id=indicator.id, year=2021, party_id=region.id, value=Decimal(value)
            )
        )
    session.commit()
    return indicator


def test_plan_for_2021_from_preparation_to_completed_follow_up(session, driver, make_user):
    case = driver.place("preparation")
    tss_chair, tss_secretariat = make_user("chair@TSS"), make_user("secretariat@TSS")
    sku_chair, sku_secretariat = make_user("chair@SKU"), make_user("secretariat@SKU")
    kkr = make_user("observer@KKR")

    decide(case, "submit_for_discussion", tss_chair)
    assert (case.state, case.current_body.code) == ("initial_discussion", "SKU")
    assert _open_deadline(session, case).due_at == datetime(2020, 6, 30, 21, 59, tzinfo=UTC)
    decide(case, "discuss", sku_chair, data={"meeting_id": driver.meeting("SKU").id})
    assert (case.state, case.current_body.code) == ("kkr_dialogue", "TSS")
    assert (
        len(session.scalars(select(Notification).where(Notification.recipient_id == kkr.id)).all())
        == 1
    )
    _record_dialogue(case, tss_secretariat)
    decide(case, "conclude_dialogue", tss_chair)
    assert (case.state, case.current_body.code) == ("awaiting_adoption", "SKU")
    # 31 October 2020 is after the change to winter time: 23:59 CET is 22:59 UTC.
    assert _open_deadline(session, case).due_at == datetime(2020, 10, 31, 22, 59, tzinfo=UTC)

    clock.set_time(datetime(2020, 10, 27, 14, tzinfo=UTC))
    with pytest.raises(GuardFailed) as refused:
        decide(case, "adopt", sku_secretariat, data={"meeting_id": driver.meeting("SKU").id})
    assert refused.value.failures[0].rule == "after_budget_adoption"
    assert "ikke registreret" in refused.value.message
    _record_budgets(case, sku_secretariat)
    meeting = driver.meeting("SKU")
    decide(case, "adopt", sku_secretariat, data={"meeting_id": meeting.id})
    assert (case.state, case.current_body.code) == ("in_effect", "TSS")
    assert _open_deadline(session, case).due_at == datetime(2021, 12, 31, 22, 59, tzinfo=UTC)
    decide(case, "start_follow_up", tss_chair)
    assert _open_deadline(session, case).due_at == datetime(2022, 6, 30, 21, 59, tzinfo=UTC)
    _value_the_plans_indicator(session, case)
    decide(
        case,
        "complete",
        sku_chair,
        comment="Indikatorerne er forbedret.",
        data={"meeting_id": driver.meeting("SKU").id},
    )
    assert (case.state, case.current_body.code) == ("completed", "TSS")


# --- Point 8 of issue 16: the budgets, the KKR dialogue, the indicators (seed 004) ----------


def test_the_kkr_dialogue_is_recorded_before_it_is_closed(session, driver, make_user):
    case = driver.place("kkr_dialogue")
    secretariat = make_user("secretariat@TSS")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "conclude_dialogue", secretariat)
    assert [f.rule for f in refused.value.failures] == ["kkr_dialogue_recorded"]
    assert "registrér dialogen" in refused.value.message

    event = _record_dialogue(case, secretariat)

    assert (event.to_state, case.state) == ("kkr_dialogue", "kkr_dialogue")
    assert event.data["dialogue_on"] == "2020-08-20"
    assert event.data["dialogue_participants"].startswith("KKR Hovedstadens formandskab")
    assert "rehabilitering" in event.data["dialogue_outcome"]
    decide(case, "conclude_dialogue", secretariat)
    assert case.state == "awaiting_adoption"


def test_a_dialogue_is_recorded_once_held_and_again_after_sku_sends_the_plan_back(
    driver, make_user
):
    case = driver.place("kkr_dialogue")
    secretariat = make_user("secretariat@TSS")
    with pytest.raises(GuardFailed) as refused:
        _record_dialogue(case, secretariat, day="2020-09-15")  # the clock says 1 September
    assert [f.rule for f in refused.value.failures] == ["kkr_dialogue_date_valid"]
    _record_dialogue(case, secretariat)
    decide(case, "conclude_dialogue", secretariat)
    decide(
        case,
        "return_to_dialogue",
        make_user("chair@SKU"),
        comment="Mere om rehabilitering.",
        data={"meeting_id": driver.meeting("SKU").id},
    )
    with pytest.raises(GuardFailed) as refused:
        decide(case, "conclude_dialogue", secretariat)
    assert [f.rule for f in refused.value.failures] == ["kkr_dialogue_recorded"]


def _reminders(session, case):
    return session.scalars(
        select(Notification.idempotency_key).where(
            Notification.case_id == case.id, Notification.kind == "reminder"
        )
    ).all()


def _told_of(session, event):
    return session.scalars(
        select(Notification.kind).where(
            Notification.idempotency_key.like(f"event:{event.id}:user:%")
        )
    ).all()


def test_recording_the_dialogue_and_the_budgets_does_not_enter_the_state_again(
    session, driver, make_user
):
    """Both records are records-only: the event with its fields is on the case's chain, but
    the time in the state, its deadline row (30 September, 31 October) and the reminders already
    sent stay, and no one is told of a change of state."""
    from workflow import scheduler
    from workflow.engine import audit
    from workflow.scheduler import SchedulerConfig

    case = driver.place("initial_discussion")
    make_user("member@TSS")  # the raising body's members hear of every change of state
    sku_chair = make_user("chair@SKU")
    tss_secretariat, sku_secretariat = make_user("secretariat@TSS"), make_user("secretariat@SKU")
    discussed = decide(case, "discuss", sku_chair, data={"meeting_id": driver.meeting("SKU").id})
    assert "status_changed" in _told_of(session, discussed)
    # The 14-day reminders of 30 September and 31 October have come on the 20th.
    september, october = (datetime(2020, month, 20, 9, tzinfo=UTC) for month in (9, 10))
    for state, record, actor, reminder_day in [
        ("kkr_dialogue", _record_dialogue, tss_secretariat, september),
        ("awaiting_adoption", _record_budgets, sku_secretariat, october),
    ]:
        if state == "awaiting_adoption":
            decide(case, "conclude_dialogue", tss_secretariat)
        assert case.state == state
        entered, deadline = case.state_entered_at, _open_deadline(session, case)
        due, deadline_id = deadline.due_at, deadline.id
        clock.set_time(reminder_day)  # the 14-day reminder has come
        scheduler.sweep(session, config=SchedulerConfig())
        reminded = _reminders(session, case)
        assert any(f":{deadline_id}:14:" in key for key in reminded)

        clock.set_time(clock.now() + timedelta(hours=1))
        event = record(case, actor)

        assert (event.from_state, event.to_state, case.state) == (state, state, state)
        assert case.state_entered_at == entered
        kept = _open_deadline(session, case)
        assert (kept.id, kept.due_at, kept.cancelled_at) == (deadline_id, due, None)
        assert session.scalars(
            select(Deadline.id).where(Deadline.case_id == case.id, Deadline.state == state)
        ).all() == [deadline_id]
        scheduler.sweep(session, config=SchedulerConfig())
        assert _reminders(session, case) == reminded  # no reminder twice
        assert _told_of(session, event) == []  # no "case arrived", no "status changed"
    assert audit.verify(session).problems == []
    # Both are in the history with what they recorded.
    triggers = [e.trigger for e in driver.events(case)]
    assert triggers[-3:] == ["record_kkr_dialogue", "conclude_dialogue", "record_budget_adoption"]
    assert case.extra["municipal_budgets_adopted_on"] == "2020-10-13"
    assert case.extra["dialogue_on"] == "2020-08-20"


@pytest.mark.parametrize(
    ("municipal", "regional", "meeting_day", "allowed"),
    [
        ("2020-10-13", "2020-10-06", datetime(2020, 10, 28, 14, tzinfo=UTC), True),
        # SKU's meeting the day the last municipality adopts its budget is not after it.
        ("2020-10-13", "2020-10-06", datetime(2020, 10, 13, 14, tzinfo=UTC), False),
        # Late budgets: the October meeting comes before them; November's may adopt.
        ("2020-10-30", "2020-10-06", datetime(2020, 10, 28, 14, tzinfo=UTC), False),
        ("2020-10-30", "2020-10-06", datetime(2020, 11, 25, 14, tzinfo=UTC), True),
    ],
)
def test_adoption_is_at_an_sku_meeting_after_both_budgets(
    driver, make_user, municipal, regional, meeting_day, allowed
):
    case = driver.place("awaiting_adoption")
    secretariat = make_user("secretariat@SKU")
    clock.set_time(datetime(2020, 11, 30, 9, tzinfo=UTC))
    _record_budgets(case, secretariat, municipal, regional)
    meeting = driver.meeting("SKU", hours_ago=(clock.now() - meeting_day).total_seconds() / 3600)
    if allowed:
        decide(case, "adopt", secretariat, data={"meeting_id": meeting.id})
        assert case.state == "in_effect"
    else:
        with pytest.raises(GuardFailed) as refused:
            decide(case, "adopt", secretariat, data={"meeting_id": meeting.id})
        assert [f.rule for f in refused.value.failures] == ["after_budget_adoption"]
        assert "Tiltræd planen på et senere møde" in refused.value.message
        assert case.state == "awaiting_adoption"


def test_budget_dates_lie_in_the_year_before_the_plan_year_and_have_passed(driver, make_user):
    case = driver.place("awaiting_adoption")
    secretariat = make_user("secretariat@TSS")
    clock.set_time(datetime(2020, 10, 20, 9, tzinfo=UTC))
    for municipal, regional in [("2019-10-13", "2020-10-06"), ("2020-10-27", "2020-10-06")]:
        with pytest.raises(GuardFailed) as refused:
            _record_budgets(case, secretariat, municipal, regional)
        assert [f.rule for f in refused.value.failures] == ["budget_dates_for_plan_year"]
        assert "kommunernes budgetter" in refused.value.message
    with pytest.raises(GuardFailed) as refused:
        _record_budgets(case, secretariat, "13.10.2020", "2020-10-06")
    assert "skal være en dato" in refused.value.message
    event = _record_budgets(case, secretariat)
    assert case.extra["municipal_budgets_adopted_on"] == "2020-10-13"
    assert event.data["regional_budget_adopted_on"] == "2020-10-06"


def test_skus_chairs_never_adopt_the_plan_between_meetings(session, driver, make_user, body):
    body("SKU").formandskab_decides = True  # even where SKU's terms let its chairs decide
    session.commit()
    case = driver.place("awaiting_adoption")
    clock.set_time(datetime(2020, 10, 28, 9, tzinfo=UTC))
    _record_budgets(case, make_user("secretariat@SKU"))
    with pytest.raises(GuardFailed) as refused:
        decide(case, "adopt", make_user("chair@SKU"))
    assert [f.rule for f in refused.value.failures] == ["after_budget_adoption"]
    assert "ikke af formandskabet" in refused.value.message


def test_the_follow_up_takes_the_values_of_the_plans_indicators(session, driver, make_user):
    case = driver.place("follow_up")
    secretariat = make_user("secretariat@SKU")
    meeting = {"meeting_id": driver.meeting("SKU").id}
    with pytest.raises(GuardFailed) as refused:
        decide(case, "complete", secretariat, comment="Taget til efterretning.", data=meeting)
    assert "angiver ingen indikatorer" in refused.value.message
    indicator = _value_the_plans_indicator(session, case, value=None)
    with pytest.raises(GuardFailed) as refused:
        decide(case, "complete", secretariat, comment="Taget til efterretning.", data=meeting)
    assert "mangler for GENIND-30" in refused.value.message

    from decimal import Decimal

    from models import IndicatorValue, Party, PartyKind

    region = session.scalar(select(Party).where(Party.kind == PartyKind.REGION).limit(1))
    session.add(
        IndicatorValue(
            indicator_id=indicator.id, year=2021, party_id=region.id, value=Decimal("7.9")
        )
    )
    session.commit()
    decide(case, "complete", secretariat, comment="Taget til efterretning.", data=meeting)

    assert case.state == "completed"
    recorded = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == "indicator_values_recorded"
        )
    ).one()
    assert recorded.data == {
        "plan_year": 2021,
        "indicator_values": [
            {"code": "GENIND-30", "name": "Genindlæggelser", "unit": "%", "value": "7.9"}
        ],
    }


@pytest.mark.parametrize(
    ("action", "rule", "state"),
    [
        ("adopt", "after_budget_adoption", "awaiting_adoption"),
        ("conclude_dialogue", "kkr_dialogue_recorded", "kkr_dialogue"),
        ("complete", "indicator_values_recorded", "follow_up"),
    ],
)
def test_without_the_rule_in_the_definition_the_refusal_disappears(driver, action, rule, state):
    definition = driver.definition
    assert rule in definition.transition(action).guards
    loosened = parse_definition(
        definition.source.replace(f'guards = ["{rule}"]', "guards = []"),
        "states/implementation_plan.toml",
    )
    assert loosened.transition(action).guards == ()
    case = driver.place(state)
    context = GuardContext(case, None, object_session(case), clock.now())
    assert [f.rule for name in definition.transition(action).guards
            if (f := GUARDS[name](context)) is not None] == [rule]  # fmt: skip
    assert not [name for name in loosened.transition(action).guards if GUARDS[name](context)]


def test_sku_sends_the_plan_back_for_more_dialogue(driver, make_user):
    case = driver.place("awaiting_adoption")
    decide(
        case,
        "return_to_dialogue",
        make_user("chair@SKU"),
        comment="Mere om rehabilitering.",
        data={"meeting_id": driver.meeting("SKU").id},
    )
    assert (case.state, case.current_body.code) == ("kkr_dialogue", "TSS")
