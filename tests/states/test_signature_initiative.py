"""Every transition of the signature initiative (seed 001), allowed and refused."""

from __future__ import annotations

from itertools import pairwise

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
    GENESIS_HASH,
    Deadline,
    ImplementationState,
    Notification,
)
from workflow.engine import core as engine
from workflow.engine.chain import case_event_hash
from workflow.engine.errors import InvalidTrigger
from workflow.engine.formandskab import PROPOSED

PROCESS = "signature_initiative"


# --- The whole way through ----------------------------------------------------------------


def test_draft_through_revision_postponement_and_follow_up_to_completed(session, driver, make_user):
    case = driver.place("draft")
    su_chair = make_user("chair@SU-NORD-SOM")
    tss_chair, tss_secretariat = make_user("chair@TSS"), make_user("secretariat@TSS")
    sku_chair, sku_secretariat = make_user("chair@SKU"), make_user("secretariat@SKU")
    kkr, kku = make_user("observer@KKR"), make_user("observer@KKU")

    decide(case, "submit", su_chair)
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    decide(case, "tss_return", tss_chair, comment="Beskriv økonomien for kommunerne.")
    assert (case.state, case.current_body.code) == ("draft", "SU-NORD-SOM")
    engine.edit_case(case, su_chair, {"triple_aim_economy": "Udgiftsneutral efter år 2."})
    decide(case, "submit", su_chair)
    tss_meeting = driver.meeting("TSS")
    decide(case, "tss_recommend", tss_secretariat, data={"meeting_id": tss_meeting.id})
    assert (case.state, case.current_body.code) == ("at_sku", "SKU")
    postponing = driver.meeting("SKU", hours_ago=24)
    decide(
        case,
        "sku_postpone",
        sku_chair,
        comment="Afventer budgetaftalen.",
        data={"meeting_id": postponing.id},
    )
    assert case.state == "at_sku"
    sku_meeting = driver.meeting("SKU")
    decide(case, "sku_approve", sku_secretariat, data={"meeting_id": sku_meeting.id})
    assert (case.state, case.current_body.code) == ("implementation", "SU-NORD-SOM")
    driver.add_units(case, [ImplementationState.IMPLEMENTED] * 3)
    decide(case, "report_implemented", su_chair)
    assert (case.state, case.current_body.code) == ("follow_up", "TSS")
    decide(case, "complete", tss_chair, comment="Færre genindlæggelser i alle planområder.")
    assert (case.state, case.current_body.code) == ("completed", "SU-NORD-SOM")

    events = driver.events(case)
    # Each formandskab decision was proposed by one co-chair and taken by the other.
    assert [e.trigger for e in events if e.trigger != PROPOSED] == [
        "create", "submit", "tss_return", "edit", "submit", "tss_recommend", "sku_postpone",
        "sku_approve", "implementation_units", "report_implemented", "complete",
    ]  # fmt: skip
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash
        assert event.hash == case_event_hash(event)
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
    decide(
        case,
        "sku_return",
        make_user("chair@SKU"),
        comment="Uklar målgruppe.",
        data={"meeting_id": driver.meeting("SKU").id},
    )
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    decide(case, "tss_reject", make_user("chair@TSS"), comment="Dækkes af anden indsats.")
    assert (case.state, case.current_body.code) == ("rejected", "SU-NORD-SOM")
    with pytest.raises(InvalidTrigger) as refused:
        decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    assert refused.value.valid == []
