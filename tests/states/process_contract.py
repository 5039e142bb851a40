"""The contract every process definition meets, imported by each tests/states/test_<process>.py.

Each test is parametrized by conftest.py over the importing module's PROCESS, so a new
transition, role, field or guard in states/ is covered without editing a test.
"""

from __future__ import annotations

import pytest
from support.formandskab import decide

from models import MeetingStatus
from workflow.engine.errors import GuardFailed, InvalidTrigger, NotAllowed


def test_allowed_role_fires_the_transition(driver, firing):
    trigger, source, role = firing
    transition = driver.transition(trigger)
    case = driver.place(source)
    driver.satisfy(case, transition)
    actor = driver.actor(case, role)
    comment, data = driver.fields(transition)
    data.update(driver.decision_data(case, transition, role))

    event = decide(case, trigger, actor, comment=comment, data=data)

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
        decide(case, trigger, driver.near_miss(case, transition), comment, data)

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
            decide(case, trigger, actor)
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
    data.update(driver.chair_data(case, transition))

    with pytest.raises(GuardFailed) as refused:
        decide(case, trigger, driver.chair(case, transition), comment, data)

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
    data.update(driver.chair_data(case, transition))
    before = driver.event_count(case)

    with pytest.raises(GuardFailed) as refused:
        decide(case, trigger, driver.chair(case, transition), comment, data)

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
            decide(case, decision_trigger, actor, comment, data)
        assert [f.rule for f in refused.value.failures] == ["decision_at_meeting"]
        assert "angiv mødet" in refused.value.message
    elsewhere = driver.meeting("KKU")  # a body that decides nothing in any process
    with pytest.raises(GuardFailed) as refused:
        decide(case, decision_trigger, actor, comment, {**data, "meeting_id": elsewhere.id})
    assert f"ikke et møde i {deciding}" in refused.value.message
    cancelled = driver.meeting(deciding, status=MeetingStatus.CANCELLED)
    with pytest.raises(GuardFailed) as refused:
        decide(case, decision_trigger, actor, comment, {**data, "meeting_id": cancelled.id})
    assert "aflyst" in refused.value.message
    assert case.state == source
