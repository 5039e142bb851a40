"""Every transition of the annual implementation plan (seed 004), allowed and refused."""

from __future__ import annotations

from datetime import UTC, datetime

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
    Deadline,
    Notification,
)
from workflow.engine import clock
from workflow.engine.errors import GuardFailed

PROCESS = "implementation_plan"


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

    decide(case, "submit_for_discussion", tss_chair)
    assert (case.state, case.current_body.code) == ("initial_discussion", "SKU")
    assert _open_deadline(session, case).due_at == datetime(2020, 6, 30, 21, 59, tzinfo=UTC)
    decide(case, "discuss", sku_chair, data={"meeting_id": driver.meeting("SKU").id})
    assert (case.state, case.current_body.code) == ("kkr_dialogue", "TSS")
    assert (
        len(session.scalars(select(Notification).where(Notification.recipient_id == kkr.id)).all())
        == 1
    )
    decide(case, "conclude_dialogue", tss_chair)
    assert (case.state, case.current_body.code) == ("awaiting_adoption", "SKU")
    # 31 October 2020 is after the change to winter time: 23:59 CET is 22:59 UTC.
    assert _open_deadline(session, case).due_at == datetime(2020, 10, 31, 22, 59, tzinfo=UTC)

    with pytest.raises(GuardFailed) as refused:
        decide(case, "adopt", sku_chair, data={"meeting_id": driver.meeting("SKU").id})
    assert "tidligst 1. oktober 2020" in refused.value.message
    clock.set_time(datetime(2020, 10, 27, 14, tzinfo=UTC))
    meeting = driver.meeting("SKU")
    decide(case, "adopt", sku_secretariat, data={"meeting_id": meeting.id})
    assert (case.state, case.current_body.code) == ("in_effect", "TSS")
    assert _open_deadline(session, case).due_at == datetime(2021, 12, 31, 22, 59, tzinfo=UTC)
    decide(case, "start_follow_up", tss_chair)
    assert _open_deadline(session, case).due_at == datetime(2022, 6, 30, 21, 59, tzinfo=UTC)
    decide(
        case,
        "complete",
        sku_chair,
        comment="Indikatorerne er forbedret.",
        data={"meeting_id": driver.meeting("SKU").id},
    )
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
        meeting = {"meeting_id": driver.meeting("SKU", hours_ago=0).id}
        decide(case, "adopt", make_user("chair@SKU"), data=meeting)
        assert case.state == "in_effect"
    else:
        meeting = {"meeting_id": driver.meeting("SKU", hours_ago=0).id}
        with pytest.raises(GuardFailed):
            decide(case, "adopt", make_user("chair@SKU"), data=meeting)


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
