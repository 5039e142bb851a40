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
from support.formandskab import decide

from models import (
    Notification,
)
from workflow.engine import core as engine
from workflow.engine.errors import GuardFailed, InvalidTrigger
from workflow.engine.formandskab import PROPOSED

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

    event = decide(case, "raise", raiser)

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
    decide(case, "raise", make_user("member@FORUM-DATA"))
    assert case.state == "at_tss"


def test_matter_flagged_after_it_reached_the_forum_is_routed_on_the_edit(driver, make_user):
    case = driver.place("in_forum")
    engine.edit_case(case, make_user("secretariat@FORUM-DATA"), {"interface_change": True})
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    assert driver.events(case)[-1].data["automatic"] is True


def test_tss_frames_the_decision_and_the_forum_decides_it(driver, make_user):
    case = driver.place("draft", principled=True)
    forum_chair = make_user("chair@FORUM-DATA")
    decide(case, "raise", forum_chair)
    with pytest.raises(InvalidTrigger):
        decide(case, "decide", forum_chair, comment="Vi beslutter selv.")
    decide(
        case,
        "tss_return_to_forum",
        make_user("chair@TSS"),
        comment="Forummet beslutter inden for 0 kr.",
    )
    assert (case.state, case.current_body.code) == ("in_forum", "FORUM-DATA")  # not re-routed
    decide(case, "decide", forum_chair, comment="Fælles skabelon for udskrivning.")
    decide(case, "start", forum_chair)
    decide(case, "close", forum_chair, comment="Skabelonen er taget i brug.")
    assert case.state == "closed"
    assert [e.trigger for e in driver.events(case) if e.trigger != PROPOSED] == [
        "create", "raise", "escalate", "tss_return_to_forum", "decide", "start", "close",
    ]  # fmt: skip


def test_large_task_is_started_only_after_tss_has_seen_it(driver, make_user):
    case = driver.place("draft", large_task=True)
    forum_chair = make_user("chair@FORUM-DATA")
    decide(case, "raise", forum_chair)
    assert case.state == "at_tss"
    decide(case, "tss_decide", make_user("chair@TSS"), comment="Igangsæt i 2021.")
    assert (case.state, case.current_body.code) == ("decided", "FORUM-DATA")
    decide(case, "start", forum_chair)
    assert case.state == "in_progress"


def test_principled_matter_placed_in_the_forum_cannot_be_decided_there(driver, make_user):
    case = driver.place("in_forum", political=True, principled=True)
    with pytest.raises(GuardFailed) as refused:
        decide(case, "decide", make_user("chair@FORUM-DATA"), comment="Ja.")
    assert "Sagen er principiel og er af politisk karakter" in refused.value.message
    assert "TSS" in refused.value.message


def test_plain_matter_is_decided_by_the_forum_chairs_and_closed(driver, make_user):
    case = driver.place("draft")
    secretariat = make_user("secretariat@FORUM-DATA")
    decide(case, "raise", secretariat)
    assert case.state == "in_forum"
    event = decide(case, "decide", make_user("vice_chair@FORUM-DATA"), comment="Ja.")
    assert event.data["on_behalf_of_body"] is True
    assert event.data["decision_body"] == "FORUM-DATA"
    decide(case, "close", secretariat, comment="Gennemført.")
    assert case.state == "closed"


# --- Re-escalation (seed 000 l.51-53): what TSS did not treat goes back to TSS --------------


def _returned_by_tss(driver, make_user, **flags):
    case = driver.place("draft", principled=True, **flags)
    decide(case, "raise", make_user("member@FORUM-DATA"))
    assert case.state == "at_tss"
    tss = driver.meeting("TSS")
    decide(
        case,
        "tss_return_to_forum",
        make_user("secretariat@TSS"),
        comment="Forummet beslutter inden for 0 kr.",
        data={"meeting_id": tss.id},
    )
    assert case.state == "in_forum"
    return case


def test_a_flag_added_after_tss_returned_the_matter_sends_it_back(driver, make_user):
    case = _returned_by_tss(driver, make_user)
    engine.edit_case(case, make_user("secretariat@FORUM-DATA"), {"cost_driving": True})
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    assert driver.events(case)[-1].data["automatic"] is True


def test_a_larger_extra_expense_after_tss_returned_the_matter_sends_it_back(
    driver, make_user, session
):
    case = _returned_by_tss(driver, make_user)
    driver.violate(case, "financing_follows")  # a municipality's extra expense, recorded now
    with pytest.raises(GuardFailed) as refused:
        decide(case, "decide", make_user("chair@FORUM-DATA"), comment="Vi beslutter selv.")
    assert "medfører merudgifter" in refused.value.message
    assert "within_mandate" in [f.rule for f in refused.value.failures]


def test_what_tss_treated_does_not_send_the_matter_back(driver, make_user):
    case = _returned_by_tss(driver, make_user)
    engine.edit_case(case, make_user("secretariat@FORUM-DATA"), {"summary": "Præciseret."})
    assert case.state == "in_forum"
    decide(case, "decide", make_user("chair@FORUM-DATA"), comment="Inden for TSS' ramme.")
    assert case.state == "decided"


def test_without_the_recorded_view_of_tss_the_re_escalation_disappears(driver, make_user):
    # The rule lives in the definition (on_enter = ["record_what_tss_saw"]): a case whose
    # return was not recorded is not sent back, as before the rule.
    case = _returned_by_tss(driver, make_user)
    case.extra = {k: v for k, v in case.extra.items() if k != "tss_saw"}
    driver.session.commit()
    engine.edit_case(case, make_user("secretariat@FORUM-DATA"), {"cost_driving": True})
    assert case.state == "in_forum"


def test_a_matter_raised_to_tss_addresses_the_three_aims(driver, make_user):
    """Seed 002 l.49-51: the matters brought to the steering group have a decision basis in
    Triple Aim — asked on the escalation and before TSS decides a routed matter."""
    case = driver.place("in_forum", triple_aim_experience="-")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "escalate", make_user("chair@FORUM-DATA"), comment="Principielt.")
    assert [f.rule for f in refused.value.failures] == ["triple_aim_described"]
    assert "borgerens oplevelse" in refused.value.message


def test_without_triple_aim_on_the_escalation_in_the_definition_the_refusal_disappears(driver):
    from workflow.engine.definitions import parse_definition

    source = driver.definition.source
    assert driver.definition.transition("escalate").guards == ("triple_aim_described",)
    without = parse_definition(
        source.replace('guards = ["triple_aim_described"]\n', ""), "states/forum_matter.toml"
    )
    assert without.transition("escalate").guards == ()
    assert without.transition("tss_decide").guards == ()
