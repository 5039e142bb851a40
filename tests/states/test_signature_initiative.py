"""Every transition of the signature initiative (seed 001), allowed and refused."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sqlalchemy import select

from models import (
    GENESIS_HASH,
    Deadline,
    ImplementationState,
    MeetingStatus,
    Notification,
)
from workflow import engine
from workflow.errors import GuardFailed, InvalidTrigger, NotAllowed

PROCESS = "signature_initiative"


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


def test_draft_through_revision_postponement_and_follow_up_to_completed(session, driver, make_user):
    case = driver.place("draft")
    su_chair = make_user("chair@SU-NORD-SOM")
    tss_chair, tss_secretariat = make_user("chair@TSS"), make_user("secretariat@TSS")
    sku_chair, sku_secretariat = make_user("chair@SKU"), make_user("secretariat@SKU")
    kkr, kku = make_user("observer@KKR"), make_user("observer@KKU")

    engine.perform(case, "submit", su_chair)
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    engine.perform(case, "tss_return", tss_chair, comment="Beskriv økonomien for kommunerne.")
    assert (case.state, case.current_body.code) == ("draft", "SU-NORD-SOM")
    engine.edit_case(case, su_chair, {"triple_aim_economy": "Udgiftsneutral efter år 2."})
    engine.perform(case, "submit", su_chair)
    tss_meeting = driver.meeting("TSS")
    engine.perform(case, "tss_recommend", tss_secretariat, data={"meeting_id": tss_meeting.id})
    assert (case.state, case.current_body.code) == ("at_sku", "SKU")
    engine.perform(case, "sku_postpone", sku_chair, comment="Afventer budgetaftalen.")
    assert case.state == "at_sku"
    sku_meeting = driver.meeting("SKU")
    engine.perform(case, "sku_approve", sku_secretariat, data={"meeting_id": sku_meeting.id})
    assert (case.state, case.current_body.code) == ("implementation", "SU-NORD-SOM")
    driver.add_units(case, [ImplementationState.IMPLEMENTED] * 3)
    engine.perform(case, "report_implemented", su_chair)
    assert (case.state, case.current_body.code) == ("follow_up", "TSS")
    engine.perform(case, "complete", tss_chair, comment="Færre genindlæggelser i alle planområder.")
    assert (case.state, case.current_body.code) == ("completed", "SU-NORD-SOM")

    events = driver.events(case)
    assert [e.trigger for e in events] == [
        "create", "submit", "tss_return", "edit", "submit", "tss_recommend", "sku_postpone",
        "sku_approve", "implementation_units", "report_implemented", "complete",
    ]  # fmt: skip
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash
        assert event.hash == event.compute_hash()
    for observer in (kkr, kku):
        informed = session.scalars(
            select(Notification).where(Notification.recipient_id == observer.id)
        ).all()
        assert [n.kind for n in informed] == ["information"]
    open_deadlines = session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id, Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)
        )
    ).all()
    assert open_deadlines == []
    assert engine.allowed_triggers(case, tss_chair) == []


def test_sku_returns_to_tss_which_rejects(driver, make_user):
    case = driver.place("at_sku")
    engine.perform(case, "sku_return", make_user("chair@SKU"), comment="Uklar målgruppe.")
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    engine.perform(case, "tss_reject", make_user("chair@TSS"), comment="Dækkes af anden indsats.")
    assert (case.state, case.current_body.code) == ("rejected", "SU-NORD-SOM")
    with pytest.raises(InvalidTrigger) as refused:
        engine.perform(case, "submit", make_user("chair@SU-NORD-SOM"))
    assert refused.value.valid == []
