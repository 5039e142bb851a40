"""Every transition of a forum matter (seed 000), allowed and refused, and its escalation."""

from __future__ import annotations

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

from models import (
    Notification,
)
from workflow.engine import core as engine
from workflow.engine.errors import GuardFailed, InvalidTrigger

PROCESS = "forum_matter"


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
    # The raising body's members hear of each move (issue 11): raised, then routed to TSS.
    told = _notifications(session, forum_chair)
    assert [n.kind for n in told] == ["status_changed", "status_changed"]
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
