"""Every transition of a joint cooperation agreement (type A, seed 002), allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from models import (
    Deadline,
    ImplementationState,
    MeetingStatus,
    Notification,
)
from workflow import clock, engine
from workflow.errors import GuardFailed, InvalidTrigger, NotAllowed

PROCESS = "joint_agreement"


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


def test_terms_drafting_consultation_approvals_and_implementation(session, driver, make_user):
    case = driver.place("terms_of_reference")
    tss_chair, tss_secretariat = make_user("chair@TSS"), make_user("secretariat@TSS")
    su_secretariat = make_user("secretariat@SU-MIDT-SOM")
    kkr = make_user("observer@KKR")

    engine.perform(case, "approve_terms", tss_chair)
    assert (case.state, case.current_body.code) == ("drafting", "SU-MIDT-SOM")
    engine.perform(
        case, "start_consultation", su_secretariat, data={"consultation_deadline": "2020-10-02"}
    )
    consultation = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "consultation")
    )
    assert consultation.kind == "consultation"
    assert consultation.due_at == datetime(2020, 10, 2, 21, 59, tzinfo=UTC)  # 23:59 summer time

    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "end_consultation", su_secretariat)
    assert "Høringsfristen 2. oktober 2020 er ikke udløbet" in refused.value.message
    engine.perform(case, "end_consultation", su_secretariat, data={"all_answered": True})
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    assert driver.events(case)[-1].data["all_answered"] is True

    meeting = driver.meeting("TSS")
    engine.perform(case, "tss_approve", tss_secretariat, data={"meeting_id": meeting.id})
    assert (case.state, case.current_body.code) == ("at_sku", "SKU")
    assert case.tss_cleared_at is not None
    engine.perform(case, "sku_approve", make_user("chair@SKU"))
    assert (case.state, case.current_body.code) == ("implementation", "TSS")
    assert [n.kind for n in session.scalars(
        select(Notification).where(Notification.recipient_id == kkr.id)
    )] == ["information"]  # fmt: skip

    driver.add_units(case, [ImplementationState.IMPLEMENTED, ImplementationState.NOT_STARTED])
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "report_implemented", tss_secretariat)
    assert "18 enheder har endnu ikke implementeret sagen" in refused.value.message  # of 36
    driver.finish_units(case)
    engine.perform(case, "report_implemented", tss_secretariat)
    assert case.state == "completed"


def test_consultation_closes_by_itself_once_its_deadline_has_passed(driver, make_user):
    case = driver.place("drafting")
    secretariat = make_user("secretariat@SU-MIDT-SOM")
    engine.perform(
        case, "start_consultation", secretariat, data={"consultation_deadline": "2020-09-15"}
    )
    clock.set_time(datetime(2020, 9, 15, 21, 30, tzinfo=UTC))  # 23:30 on the last day
    with pytest.raises(GuardFailed):
        engine.perform(case, "end_consultation", secretariat)
    clock.set_time(datetime(2020, 9, 15, 22, 30, tzinfo=UTC))  # 00:30 the day after
    engine.perform(case, "end_consultation", secretariat)
    assert case.state == "at_tss"


def test_tss_chair_cancels_a_drafting_agreement_at_a_tss_meeting(driver, make_user):
    case = driver.place("drafting")
    meeting = driver.meeting("TSS")
    event = engine.perform(
        case, "cancel", make_user("chair@TSS"), comment="Opgaven løses nationalt.",
        data={"meeting_id": meeting.id},
    )  # fmt: skip
    assert case.state == "cancelled"
    assert event.meeting_id == meeting.id
    assert event.data["decision_body"] == "TSS"
    assert "on_behalf_of_body" not in event.data
