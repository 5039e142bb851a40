"""Every transition of the annual implementation plan (seed 004), allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import (
    Deadline,
    MeetingStatus,
    Notification,
)
from workflow import clock, engine
from workflow.errors import GuardFailed, InvalidTrigger, NotAllowed

PROCESS = "implementation_plan"


def test_allowed_role_fires_the_transition(driver, firing):
    trigger, source, role = firing
    transition = driver.transition(trigger)
    case = driver.place(source)
    driver.satisfy(case, transition)
    actor = driver.actor(case, role)
    comment, data = driver.fields(transition)
    data.update(driver.decision_data(case, transition, role))

    event = engine.perform(case, trigger, actor, comment=comment, data=data)

    assert case.state == transition.dest
    assert case.current_body_id == driver.state_body_id(case, transition.dest)
    assert (event.trigger, event.from_state, event.to_state) == (trigger, source, transition.dest)
    assert event.actor_id == actor.id
    driver.check_recorded(case, event, transition, data)


def test_actor_without_the_role_is_refused_and_told_who_may(driver, trigger):
    transition = driver.transition(trigger)
    source = transition.sources[0]
    case = driver.place(source)
    driver.satisfy(case, transition)
    comment, data = driver.fields(transition)
    before = driver.event_count(case)

    with pytest.raises(NotAllowed) as refused:
        engine.perform(case, trigger, driver.near_miss(case, transition), comment, data)

    assert transition.label in refused.value.message
    for words in driver.refusal_words(case, transition):
        assert words in refused.value.message
    assert refused.value.allowed == [str(ref) for ref in transition.allowed]
    assert (case.state, driver.event_count(case)) == (source, before)


def test_transition_is_refused_outside_its_source_states(driver, trigger):
    transition = driver.transition(trigger)
    case = driver.place(transition.sources[0])
    actor = driver.chair(case, transition)
    others = [s for s in driver.definition.states if s not in transition.sources]
    assert others, "every process has final states"
    for state in others:
        driver.move(case, state)
        valid = [
            t.trigger for t in driver.definition.transitions_from(state) if not t.automatic_only
        ]
        with pytest.raises(InvalidTrigger) as refused:
            engine.perform(case, trigger, actor)
        assert refused.value.valid == valid
        assert driver.definition.states[state].label in refused.value.message
        for name in valid:
            assert name in refused.value.message
        if not valid:
            assert "sluttilstand" in refused.value.message
        assert case.state == state


def test_missing_required_field_is_named(driver, required_field):
    trigger, name = required_field
    transition = driver.transition(trigger)
    spec = next(f for f in transition.fields if f.name == name)
    case = driver.place(transition.sources[0])
    driver.satisfy(case, transition)
    comment, data = driver.fields(transition, omit=name)

    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, trigger, driver.chair(case, transition), comment, data)

    assert [f.rule for f in refused.value.failures] == [f"field:{name}"]
    assert f"Feltet '{spec.label}' skal udfyldes" in refused.value.message
    assert case.state == transition.sources[0]


def test_each_guard_of_the_transition_is_enforced(driver, guarded):
    trigger, guard = guarded
    transition = driver.transition(trigger)
    source = transition.sources[0]
    case = driver.place(source)
    driver.satisfy(case, transition)
    driver.violate(case, guard)
    comment, data = driver.fields(transition)
    before = driver.event_count(case)

    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, trigger, driver.chair(case, transition), comment, data)

    assert guard in [f.rule for f in refused.value.failures]
    assert (case.state, driver.event_count(case)) == (source, before)


def test_decision_is_taken_at_a_meeting_of_the_deciding_body(driver, decision_trigger):
    transition = driver.transition(decision_trigger)
    source = transition.sources[0]
    case = driver.place(source)
    driver.satisfy(case, transition)
    comment, data = driver.fields(transition)
    recorder = driver.recorder(transition)
    deciding = driver.body_code(case, recorder.body)
    actor = driver.actor(case, recorder)

    if recorder.role not in ("chair", "vice_chair"):
        with pytest.raises(GuardFailed) as refused:
            engine.perform(case, decision_trigger, actor, comment, data)
        assert [f.rule for f in refused.value.failures] == ["decision_at_meeting"]
        assert "angiv mødet" in refused.value.message
    elsewhere = driver.meeting("PPU")
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, decision_trigger, actor, comment, {**data, "meeting_id": elsewhere.id})
    assert f"ikke et møde i {deciding}" in refused.value.message
    cancelled = driver.meeting(deciding, status=MeetingStatus.CANCELLED)
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, decision_trigger, actor, comment, {**data, "meeting_id": cancelled.id})
    assert "aflyst" in refused.value.message
    assert case.state == source


# --- The yearly cycle (seed 004 §1.2) ------------------------------------------------------


def _open_deadline(session, case):
    [deadline] = session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)
        )
    ).all()
    return deadline


def test_plan_for_2021_from_preparation_to_completed_follow_up(session, driver, make_user):
    case = driver.place("preparation")
    tss_chair = make_user("chair@TSS")
    sku_chair, sku_secretariat = make_user("chair@SKU"), make_user("secretariat@SKU")
    kkr = make_user("observer@KKR")

    engine.perform(case, "submit_for_discussion", tss_chair)
    assert (case.state, case.current_body.code) == ("initial_discussion", "SKU")
    assert _open_deadline(session, case).due_at == datetime(2020, 6, 30, 21, 59, tzinfo=UTC)
    engine.perform(case, "discuss", sku_chair)
    assert (case.state, case.current_body.code) == ("kkr_dialogue", "TSS")
    assert (
        len(session.scalars(select(Notification).where(Notification.recipient_id == kkr.id)).all())
        == 1
    )
    engine.perform(case, "conclude_dialogue", tss_chair)
    assert (case.state, case.current_body.code) == ("awaiting_adoption", "SKU")
    # 31 October 2020 is after the change to winter time: 23:59 CET is 22:59 UTC.
    assert _open_deadline(session, case).due_at == datetime(2020, 10, 31, 22, 59, tzinfo=UTC)

    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "adopt", sku_chair)
    assert "tidligst 1. oktober 2020" in refused.value.message
    clock.set_time(datetime(2020, 10, 27, 14, tzinfo=UTC))
    meeting = driver.meeting("SKU")
    engine.perform(case, "adopt", sku_secretariat, data={"meeting_id": meeting.id})
    assert (case.state, case.current_body.code) == ("in_effect", "TSS")
    assert _open_deadline(session, case).due_at == datetime(2021, 12, 31, 22, 59, tzinfo=UTC)
    engine.perform(case, "start_follow_up", tss_chair)
    assert _open_deadline(session, case).due_at == datetime(2022, 6, 30, 21, 59, tzinfo=UTC)
    engine.perform(case, "complete", sku_chair, comment="Indikatorerne er forbedret.")
    assert (case.state, case.current_body.code) == ("completed", "TSS")


@pytest.mark.parametrize(
    ("moment", "allowed"),
    [
        (datetime(2020, 9, 30, 21, 30, tzinfo=UTC), False),  # 23:30 on 30 September in Denmark
        (datetime(2020, 9, 30, 22, 30, tzinfo=UTC), True),  # 00:30 on 1 October in Denmark
    ],
)
def test_adoption_opens_on_1_october_danish_time(driver, make_user, moment, allowed):
    case = driver.place("awaiting_adoption")
    clock.set_time(moment)
    if allowed:
        engine.perform(case, "adopt", make_user("chair@SKU"))
        assert case.state == "in_effect"
    else:
        with pytest.raises(GuardFailed):
            engine.perform(case, "adopt", make_user("chair@SKU"))


def test_sku_sends_the_plan_back_for_more_dialogue(driver, make_user):
    case = driver.place("awaiting_adoption")
    engine.perform(
        case, "return_to_dialogue", make_user("chair@SKU"), comment="Mere om rehabilitering."
    )
    assert (case.state, case.current_body.code) == ("kkr_dialogue", "TSS")
