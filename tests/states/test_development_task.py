"""Every transition of a development task (type B, seed 002), allowed and refused."""

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
    ImplementationState,
    Notification,
)
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.errors import GuardFailed

PROCESS = "development_task"


# --- The whole way through ----------------------------------------------------------------


def test_cost_driving_task_must_be_approved_by_sku_with_financing(session, driver, make_user):
    case = driver.place("assignment_frame", cost_driving=True, business_case="")
    tss_chair = make_user("chair@TSS")
    su_chair = make_user("chair@SU-SYD-SOM")
    kkr, kku = make_user("observer@KKR"), make_user("observer@KKU")

    decide(case, "approve_frame", tss_chair)
    assert (case.state, case.current_body.code) == ("development", "SU-SYD-SOM")
    decide(case, "start_consultation", su_chair, data={"consultation_deadline": "2020-09-20"})
    clock.set_time(datetime(2020, 9, 21, 8, tzinfo=UTC))
    decide(case, "end_consultation", su_chair)
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")

    with pytest.raises(GuardFailed) as refused:
        decide(case, "approve_spreading", tss_chair)
    assert {f.rule for f in refused.value.failures} == {"financing_follows"}
    assert "mangler en businesscase og et finansieringsforslag" in refused.value.message
    engine.edit_case(
        case, su_chair,
        {"business_case": "Gevinst efter 2 år.", "financing_proposal": "Deles 50/50."},
    )  # fmt: skip

    decide(case, "refer_to_sku", tss_chair)
    assert (case.state, case.current_body.code) == ("at_sku", "SKU")
    decide(
        case, "sku_approve", make_user("chair@SKU"), data={"meeting_id": driver.meeting("SKU").id}
    )
    assert (case.state, case.current_body.code) == ("spreading", "SU-SYD-SOM")
    for observer in (kkr, kku):
        informed = session.scalars(
            select(Notification).where(Notification.recipient_id == observer.id)
        ).all()
        assert [n.kind for n in informed] == ["information"]
    driver.add_units(case, [ImplementationState.IMPLEMENTED, ImplementationState.NOT_RELEVANT])
    decide(case, "report_spread", su_chair)
    assert case.state == "completed"


def test_tss_approves_spreading_within_its_mandate_and_informs_kkr(session, driver, make_user):
    case = driver.place("at_tss")
    kkr, kku = make_user("observer@KKR"), make_user("observer@KKU")
    decide(case, "approve_spreading", make_user("chair@TSS"))
    assert (case.state, case.current_body.code) == ("spreading", "SU-SYD-SOM")
    informed = {
        n.recipient_id
        for n in session.scalars(select(Notification).where(Notification.case_id == case.id))
    }
    assert kkr.id in informed
    assert kku.id not in informed


def test_tss_returns_the_task_for_further_development(driver, make_user):
    case = driver.place("at_tss")
    decide(
        case,
        "tss_return",
        make_user("secretariat@TSS"),
        comment="Afprøv i to klynger.",
        data={"meeting_id": driver.meeting("TSS").id},
    )
    assert (case.state, case.current_body.code) == ("development", "SU-SYD-SOM")


# --- Type B: TSS decides a cost-driving task; a cluster's own task (seed 002 l.85-91) ----------


def test_tss_approves_spreading_of_a_cost_driving_task_itself(driver, make_user):
    """TSS deciding is no matter "below TSS": no "send den til drøftelse i TSS først"."""
    case = driver.place(
        "at_tss", cost_driving=True, principled=True, financing_proposal="Deles 50/50."
    )
    decide(case, "approve_spreading", make_user("chair@TSS"))
    assert (case.state, case.current_body.code) == ("spreading", "SU-SYD-SOM")


def test_a_clusters_own_task_runs_in_the_su_and_is_reported_to_the_joint_secretariat(
    driver, make_user
):
    case = driver.place("assignment_frame")
    su_chair = make_user("chair@SU-SYD-SOM")
    decide(case, "start_own_initiative", su_chair)
    assert (case.state, case.current_body.code) == ("development", "SU-SYD-SOM")
    decide(case, "report_to_secretariat", su_chair, comment="Færre genindlæggelser i Syd.")
    assert (case.state, case.current_body.code) == ("reported", "TSS")
    decide(case, "bring_to_tss", make_user("secretariat@TSS"))
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")


def test_the_joint_secretariat_may_leave_a_clusters_result_local(driver, make_user):
    case = driver.place("assignment_frame")
    decide(case, "start_own_initiative", make_user("secretariat@SU-SYD-SOM"))
    decide(case, "report_to_secretariat", make_user("chair@SU-SYD-SOM"), comment="Resultater.")
    decide(case, "keep_local", make_user("secretariat@TSS"), comment="Lokalt forhold.")
    assert case.state == "kept_local"


def test_a_task_tss_framed_is_not_reported_to_the_secretariat(driver, make_user):
    case = driver.place("assignment_frame")
    decide(case, "approve_frame", make_user("chair@TSS"))
    with pytest.raises(GuardFailed) as refused:
        decide(case, "report_to_secretariat", make_user("chair@SU-SYD-SOM"), comment="R.")
    assert [f.rule for f in refused.value.failures] == ["own_initiative"]
    assert "indrapporteres til fællessekretariatet" in refused.value.message


def test_tss_cannot_start_a_task_on_a_clusters_own_initiative(make_case, make_user):
    case = make_case(PROCESS, origin="TSS", state="assignment_frame")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "start_own_initiative", make_user("chair@TSS"))
    assert [f.rule for f in refused.value.failures] == ["started_by_cluster"]


def test_without_the_clusters_path_in_the_definition_the_task_waits_for_a_frame(driver):
    """Remove the own-initiative transition from a copy of the definition: the SU has no way
    to start its own task."""
    from workflow.engine.definitions import parse_definition

    source = driver.definition.source
    start = source.index('[[transitions]]\ntrigger = "start_own_initiative"')
    end = source.index("[[transitions]]", start + 1)
    without = parse_definition(source[:start] + source[end:], "states/development_task.toml")
    assert driver.definition.transition("start_own_initiative") is not None
    assert without.transition("start_own_initiative") is None
    assert "start_own_initiative" not in [
        t.trigger for t in without.transitions_from("assignment_frame")
    ]
