"""Every transition of a development task (type B, seed 002), allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import (
    ImplementationState,
    MeetingStatus,
    Notification,
)
from workflow import clock, engine
from workflow.errors import GuardFailed, InvalidTrigger, NotAllowed

PROCESS = "development_task"


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


# --- The whole way through ----------------------------------------------------------------


def test_cost_driving_task_must_be_approved_by_sku_with_financing(session, driver, make_user):
    case = driver.place("assignment_frame", cost_driving=True)
    tss_chair = make_user("chair@TSS")
    su_chair = make_user("chair@SU-SYD-SOM")
    kkr, kku = make_user("observer@KKR"), make_user("observer@KKU")

    engine.perform(case, "approve_frame", tss_chair)
    assert (case.state, case.current_body.code) == ("development", "SU-SYD-SOM")
    engine.perform(
        case, "start_consultation", su_chair, data={"consultation_deadline": "2020-09-20"}
    )
    clock.set_time(datetime(2020, 9, 21, 8, tzinfo=UTC))
    engine.perform(case, "end_consultation", su_chair)
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")

    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "approve_spreading", tss_chair)
    assert {f.rule for f in refused.value.failures} == {"financing_follows", "within_mandate"}
    assert "mangler en businesscase og et finansieringsforslag" in refused.value.message
    engine.edit_case(
        case, su_chair,
        {"business_case": "Gevinst efter 2 år.", "financing_proposal": "Deles 50/50."},
    )  # fmt: skip
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "approve_spreading", tss_chair)
    assert [f.rule for f in refused.value.failures] == ["within_mandate"]

    engine.perform(case, "refer_to_sku", tss_chair)
    assert (case.state, case.current_body.code) == ("at_sku", "SKU")
    engine.perform(case, "sku_approve", make_user("chair@SKU"))
    assert (case.state, case.current_body.code) == ("spreading", "SU-SYD-SOM")
    for observer in (kkr, kku):
        informed = session.scalars(
            select(Notification).where(Notification.recipient_id == observer.id)
        ).all()
        assert [n.kind for n in informed] == ["information"]
    driver.add_units(case, [ImplementationState.IMPLEMENTED, ImplementationState.NOT_RELEVANT])
    engine.perform(case, "report_spread", su_chair)
    assert case.state == "completed"


def test_tss_approves_spreading_within_its_mandate_and_informs_kkr(session, driver, make_user):
    case = driver.place("at_tss")
    kkr, kku = make_user("observer@KKR"), make_user("observer@KKU")
    engine.perform(case, "approve_spreading", make_user("chair@TSS"))
    assert (case.state, case.current_body.code) == ("spreading", "SU-SYD-SOM")
    informed = {
        n.recipient_id
        for n in session.scalars(select(Notification).where(Notification.case_id == case.id))
    }
    assert kkr.id in informed
    assert kku.id not in informed


def test_tss_returns_the_task_for_further_development(driver, make_user):
    case = driver.place("at_tss")
    engine.perform(
        case,
        "tss_return",
        make_user("secretariat@TSS"),
        comment="Afprøv i to klynger.",
        data={"meeting_id": driver.meeting("TSS").id},
    )
    assert (case.state, case.current_body.code) == ("development", "SU-SYD-SOM")
