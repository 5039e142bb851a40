"""Every transition of a forum matter (seed 000), allowed and refused, and its escalation."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import (
    MeetingStatus,
    Notification,
)
from workflow import engine
from workflow.errors import GuardFailed, InvalidTrigger, NotAllowed

PROCESS = "forum_matter"


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


# --- Escalation to TSS (kommissorium for samarbejdsfora) ----------------------------------


def _notifications(session, user):
    return session.scalars(select(Notification).where(Notification.recipient_id == user.id)).all()


@pytest.mark.parametrize(
    "flag", ["principled", "political", "interface_change", "cost_driving", "large_task"]
)
def test_flagged_matter_is_routed_to_tss_with_the_reason_on_the_timeline(
    session, driver, make_user, flag
):
    case = driver.place("draft", **{flag: True})
    raiser = make_user("secretariat@FORUM-DATA")  # told of the forum's cases, but not this one
    forum_chair = make_user("chair@FORUM-DATA")
    tss_secretariat = make_user("secretariat@TSS")

    event = engine.perform(case, "raise", raiser)

    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    assert event.trigger == "raise"
    route = driver.events(case)[-1]
    assert (route.trigger, route.from_state, route.to_state) == ("escalate", "in_forum", "at_tss")
    assert route.actor_id is None
    assert route.data["automatic"] is True
    assert route.data["caused_by"] == raiser.id
    reason = "større opgave" if flag == "large_task" else "drøftes i TSS før beslutning"
    assert reason in route.comment
    [arrived] = _notifications(session, tss_secretariat)
    assert arrived.kind == "case_arrived"
    assert route.comment in arrived.body
    assert [n.kind for n in _notifications(session, forum_chair)] == ["status_changed"]
    assert _notifications(session, raiser) == []


def test_recorded_extra_expense_for_a_party_routes_the_matter_to_tss(driver, make_user):
    case = driver.place("draft")
    driver.violate(case, "financing_follows")  # records a municipality's extra expense
    engine.perform(case, "raise", make_user("member@FORUM-DATA"))
    assert case.state == "at_tss"


def test_matter_flagged_after_it_reached_the_forum_is_routed_on_the_edit(driver, make_user):
    case = driver.place("in_forum")
    engine.edit_case(case, make_user("secretariat@FORUM-DATA"), {"interface_change": True})
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    assert driver.events(case)[-1].data["automatic"] is True


def test_tss_frames_the_decision_and_the_forum_decides_it(driver, make_user):
    case = driver.place("draft", principled=True)
    forum_chair = make_user("chair@FORUM-DATA")
    engine.perform(case, "raise", forum_chair)
    with pytest.raises(InvalidTrigger):
        engine.perform(case, "decide", forum_chair, comment="Vi beslutter selv.")
    engine.perform(
        case,
        "tss_return_to_forum",
        make_user("chair@TSS"),
        comment="Forummet beslutter inden for 0 kr.",
    )
    assert (case.state, case.current_body.code) == ("in_forum", "FORUM-DATA")  # not re-routed
    engine.perform(case, "decide", forum_chair, comment="Fælles skabelon for udskrivning.")
    engine.perform(case, "start", forum_chair)
    engine.perform(case, "close", forum_chair, comment="Skabelonen er taget i brug.")
    assert case.state == "closed"
    assert [e.trigger for e in driver.events(case)] == [
        "create", "raise", "escalate", "tss_return_to_forum", "decide", "start", "close",
    ]  # fmt: skip


def test_large_task_is_started_only_after_tss_has_seen_it(driver, make_user):
    case = driver.place("draft", large_task=True)
    forum_chair = make_user("chair@FORUM-DATA")
    engine.perform(case, "raise", forum_chair)
    assert case.state == "at_tss"
    engine.perform(case, "tss_decide", make_user("chair@TSS"), comment="Igangsæt i 2021.")
    assert (case.state, case.current_body.code) == ("decided", "FORUM-DATA")
    engine.perform(case, "start", forum_chair)
    assert case.state == "in_progress"


def test_principled_matter_placed_in_the_forum_cannot_be_decided_there(driver, make_user):
    case = driver.place("in_forum", political=True, principled=True)
    with pytest.raises(GuardFailed) as refused:
        engine.perform(case, "decide", make_user("chair@FORUM-DATA"), comment="Ja.")
    assert "Sagen er principiel og er af politisk karakter" in refused.value.message
    assert "TSS" in refused.value.message


def test_plain_matter_is_decided_by_the_forum_chairs_and_closed(driver, make_user):
    case = driver.place("draft")
    secretariat = make_user("secretariat@FORUM-DATA")
    engine.perform(case, "raise", secretariat)
    assert case.state == "in_forum"
    event = engine.perform(case, "decide", make_user("vice_chair@FORUM-DATA"), comment="Ja.")
    assert event.data["on_behalf_of_body"] is True
    assert event.data["decision_body"] == "FORUM-DATA"
    engine.perform(case, "close", secretariat, comment="Gennemført.")
    assert case.state == "closed"
