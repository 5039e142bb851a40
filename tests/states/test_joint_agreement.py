"""Every transition of a joint cooperation agreement (type A, seed 002), allowed and refused."""

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
from sqlalchemy.orm import object_session
from support.formandskab import decide, proposed_by_co_chair

from models import (
    Deadline,
    ImplementationState,
    Notification,
)
from workflow.engine import clock
from workflow.engine.definitions import TransitionSpec, parse_definition
from workflow.engine.errors import GuardFailed, NotAllowed
from workflow.engine.guards import GUARDS, Failure, GuardContext

PROCESS = "joint_agreement"


# --- The whole way through ----------------------------------------------------------------


def test_terms_drafting_consultation_approvals_and_implementation(session, driver, make_user):
    case = driver.place("terms_of_reference")
    tss_chair, tss_secretariat = make_user("chair@TSS"), make_user("secretariat@TSS")
    su_secretariat = make_user("secretariat@SU-MIDT-SOM")
    kkr = make_user("observer@KKR")

    decide(case, "approve_terms", tss_chair, data={"drafting_body": "SU-MIDT-SOM"})
    assert (case.state, case.current_body.code) == ("drafting", "SU-MIDT-SOM")
    decide(case, "start_consultation", su_secretariat, data={"consultation_deadline": "2020-10-02"})
    consultation = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "consultation")
    )
    assert consultation.kind == "consultation"
    assert consultation.due_at == datetime(2020, 10, 2, 21, 59, tzinfo=UTC)  # 23:59 summer time

    with pytest.raises(GuardFailed) as refused:
        decide(case, "end_consultation", su_secretariat)
    assert "Høringsfristen 2. oktober 2020 er ikke udløbet" in refused.value.message
    decide(case, "end_consultation", su_secretariat, data={"all_answered": True})
    assert (case.state, case.current_body.code) == ("at_tss", "TSS")
    assert driver.events(case)[-1].data["all_answered"] is True

    meeting = driver.meeting("TSS")
    decide(case, "tss_approve", tss_secretariat, data={"meeting_id": meeting.id})
    assert (case.state, case.current_body.code) == ("at_sku", "SKU")
    assert case.tss_cleared_at is not None
    decide(
        case, "sku_approve", make_user("chair@SKU"), data={"meeting_id": driver.meeting("SKU").id}
    )
    assert (case.state, case.current_body.code) == ("implementation", "TSS")
    assert [n.kind for n in session.scalars(
        select(Notification).where(Notification.recipient_id == kkr.id)
    )] == ["information"]  # fmt: skip

    driver.add_units(case, [ImplementationState.IMPLEMENTED, ImplementationState.NOT_STARTED])
    with pytest.raises(GuardFailed) as refused:
        decide(case, "report_implemented", tss_secretariat)
    assert "18 enheder har endnu ikke implementeret sagen" in refused.value.message  # of 36
    driver.finish_units(case)
    decide(case, "report_implemented", tss_secretariat)
    assert case.state == "completed"


def test_consultation_closes_by_itself_once_its_deadline_has_passed(driver, make_user):
    case = driver.place("drafting")
    secretariat = make_user("secretariat@SU-MIDT-SOM")
    decide(case, "start_consultation", secretariat, data={"consultation_deadline": "2020-09-15"})
    clock.set_time(datetime(2020, 9, 15, 21, 30, tzinfo=UTC))  # 23:30 on the last day
    with pytest.raises(GuardFailed):
        decide(case, "end_consultation", secretariat)
    clock.set_time(datetime(2020, 9, 15, 22, 30, tzinfo=UTC))  # 00:30 the day after
    decide(case, "end_consultation", secretariat)
    assert case.state == "at_tss"


def test_tss_chair_cancels_a_drafting_agreement_at_a_tss_meeting(driver, make_user):
    case = driver.place("drafting")
    meeting = driver.meeting("TSS")
    event = decide(
        case, "cancel", make_user("chair@TSS"), comment="Opgaven løses nationalt.",
        data={"meeting_id": meeting.id},
    )  # fmt: skip
    assert case.state == "cancelled"
    assert event.meeting_id == meeting.id
    assert event.data["decision_body"] == "TSS"
    assert "on_behalf_of_body" not in event.data


# --- Practice-plan matters go from TSS to PPU (seed 001 l.33-35) ---------------------------


def test_tss_recommends_a_practice_plan_matter_to_ppu(session, driver, make_user):
    case = driver.place("consultation")
    su_secretariat = make_user("secretariat@SU-MIDT-SOM")
    clock.set_time(datetime(2020, 11, 1, 9, tzinfo=UTC))
    driver.satisfy(case, driver.transition("end_consultation"))
    decide(case, "end_consultation", su_secretariat, data={"practice_plan": True})
    assert case.extra["practice_plan"] is True

    tss = make_user("secretariat@TSS")
    decide(case, "tss_recommend_to_ppu", tss, data={"meeting_id": driver.meeting("TSS").id})
    assert (case.state, case.current_body.code) == ("at_ppu", "PPU")
    ppu = make_user("chair@PPU")
    decide(case, "ppu_approve", ppu, data={"meeting_id": driver.meeting("PPU").id})
    assert (case.state, case.current_body.code) == ("implementation", "TSS")


def test_a_matter_not_flagged_as_practice_plan_is_not_recommended_to_ppu(driver, make_user):
    case = driver.place("at_tss")
    tss = make_user("chair@TSS")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "tss_recommend_to_ppu", tss, data={"meeting_id": driver.meeting("TSS").id})
    assert [f.rule for f in refused.value.failures] == ["practice_plan_matter"]
    assert "Kun praksisplansager" in refused.value.message
    assert case.state == "at_tss"


def check_guards(case, transition: TransitionSpec) -> list[Failure]:
    """The failures of the transition's guards, as its definition names them."""
    context = GuardContext(case, None, object_session(case), clock.now())
    return [f for name in transition.guards if (f := GUARDS[name](context)) is not None]


def test_without_the_rule_in_the_definition_the_refusal_disappears(driver):
    definition = driver.definition
    assert "practice_plan_matter" in definition.transition("tss_recommend_to_ppu").guards
    loosened = parse_definition(
        definition.source.replace('"practice_plan_matter", ', ""), "states/joint_agreement.toml"
    )
    assert "practice_plan_matter" not in loosened.transition("tss_recommend_to_ppu").guards
    case = driver.place("at_tss")
    failures = check_guards(case, loosened.transition("tss_recommend_to_ppu"))
    assert [f.rule for f in failures] == []
    assert [f.rule for f in check_guards(case, definition.transition("tss_recommend_to_ppu"))] == [
        "practice_plan_matter"
    ]


# --- Type A: who drafts is decided with the terms of reference (seed 002 l.75-77) -----------


@pytest.fixture
def working_group(body):
    """The temporary working group of the organisation data (seed 002 l.55-58)."""
    return body("AG-IV")


def test_the_approver_chooses_a_temporary_working_group_which_then_drafts(
    session, driver, make_user, working_group
):
    from models import Deadline

    case = driver.place("terms_of_reference")
    decide(case, "approve_terms", make_user("chair@TSS"), data={"drafting_body": "AG-IV"})
    assert (case.state, case.current_body.code) == ("drafting", "AG-IV")
    deadline = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "drafting")
    )
    assert deadline.body_id == working_group.id  # its reminders go to the working group
    # The working group drafts: its secretariat sends the draft for consultation.
    decide(
        case, "start_consultation", make_user("secretariat@AG-IV"),
        data={"consultation_deadline": "2020-10-02"},
    )  # fmt: skip
    assert (case.state, case.current_body.code) == ("consultation", "AG-IV")
    with pytest.raises(NotAllowed):
        decide(case, "end_consultation", make_user("secretariat@SU-MIDT-SOM"))


def test_the_choice_of_drafting_body_is_validated(driver, make_user):
    case = driver.place("terms_of_reference")
    chair = make_user("chair@TSS")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "approve_terms", chair, data={"drafting_body": "SKU"})
    assert "skal være et aktivt organ af den rette slags" in refused.value.message
    assert "SU-MIDT-SOM" in refused.value.message and "SKU," not in refused.value.message
    assert case.state == "terms_of_reference"


def test_the_approval_form_offers_the_clusters_and_working_groups(
    client, logged_in, driver, working_group
):
    case = driver.place("terms_of_reference")
    logged_in("chair@TSS")
    html = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert '<option value="AG-IV">AG-IV – Midlertidig arbejdsgruppe om IV-behandling' in html
    assert '<option value="SU-NORD-SOM">' in html
    assert '<option value="SKU">' not in html


NEW_GROUP = {
    "new_working_group": "Midlertidig arbejdsgruppe om respirationsaftalen",
    "new_working_group_until": "2021-06-30",
}


def test_the_approver_sets_up_a_new_working_group_which_then_drafts(session, driver, make_user):
    """Type A (seed 002 l.75-77): the working group need not exist; the approval sets it up
    under TSS, audited, with the one who recorded it as its secretariat (seed 002 l.47-49)."""
    from models import AdminAuditEntry, Body, Deadline, Membership, Role

    case = driver.place("terms_of_reference")
    secretariat = make_user("secretariat@TSS")
    meeting = {"meeting_id": driver.meeting("TSS").id}
    decide(case, "approve_terms", secretariat, data={**NEW_GROUP, **meeting})

    group = session.scalar(select(Body).where(Body.name == NEW_GROUP["new_working_group"]))
    assert (group.code, str(group.kind), group.parent.code) == ("TSS-AG1", "working_group", "TSS")
    assert (group.valid_from.isoformat(), group.valid_to.isoformat()) == (
        "2020-09-01",
        "2021-06-30",
    )
    assert (case.state, case.current_body.code, case.extra["drafting_body"]) == (
        "drafting", "TSS-AG1", "TSS-AG1",
    )  # fmt: skip
    deadline = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.state == "drafting")
    )
    assert deadline.body_id == group.id  # its reminders go to the new working group
    member = session.scalar(select(Membership).where(Membership.body_id == group.id))
    assert (member.user_id, member.role) == (secretariat.id, Role.SECRETARIAT)
    audit = session.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "working_group_created")
    )
    assert audit.actor_id == secretariat.id and audit.data["code"] == "TSS-AG1"
    # The group drafts: its secretariat sends the draft for consultation.
    decide(case, "start_consultation", secretariat, data={"consultation_deadline": "2020-10-02"})
    assert (case.state, case.current_body.code) == ("consultation", "TSS-AG1")


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ({**NEW_GROUP, "drafting_body": "SU-SYD-SOM"}, "ikke begge dele"),
        ({"new_working_group": "Arbejdsgruppe om respiration"}, "angiv dens slutdato"),
        ({**NEW_GROUP, "new_working_group_until": "2020-08-31"}, "efter i dag"),
        ({**NEW_GROUP, "new_working_group_until": "2024-01-01"}, "inden for to år"),
        ({"new_working_group_until": "2021-06-30"}, "Giv den nye arbejdsgruppe et navn"),
    ],
)
def test_a_new_working_group_needs_a_name_a_near_end_and_no_other_choice(
    session, driver, make_user, data, words
):
    from models import Body

    case = driver.place("terms_of_reference")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "approve_terms", make_user("chair@TSS"), data=data)
    assert [f.rule for f in refused.value.failures] == ["new_working_group_valid"]
    assert words in refused.value.message
    assert case.state == "terms_of_reference"
    assert session.scalar(select(Body).where(Body.code.like("TSS-AG%"))) is None


def test_the_approval_form_sets_up_a_working_group_without_javascript(
    client, logged_in, driver, session, text_of
):
    from models import Body

    case = driver.place("terms_of_reference")
    chair = logged_in("chair@TSS")
    page = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert 'name="new_working_group"' in page and 'name="new_working_group_until"' in page
    # The other co-chair proposed it: this chair's form is the consent that takes it.
    proposed_by_co_chair(case, "approve_terms", chair, data=NEW_GROUP)
    response = client.post(
        f"/sager/{case.id}/handlinger/approve_terms",
        data={"expected_version": str(case.version), **NEW_GROUP},
    )
    assert response.status_code == 303, text_of(response)
    session.refresh(case)
    group = session.scalar(select(Body).where(Body.code == "TSS-AG1"))
    assert group is not None and case.current_body_id == group.id
    assert "TSS-AG1" in text_of(client.get(f"/sager/{case.id}"))


def test_without_the_new_group_in_the_definition_no_group_is_set_up(session, driver, make_user):
    """Take the set-up out of a copy of the definition: the name is refused as unknown, and no
    working group appears."""
    from workflow.engine.definitions import parse_definition

    source = driver.definition.source
    without = parse_definition(
        "\n".join(line for line in source.splitlines() if "new_working_group" not in line),
        "states/joint_agreement.toml",
    )
    assert [f.name for f in without.transition("approve_terms").fields] == ["drafting_body"]
    assert without.transition("approve_terms").guards == ()
    assert [f.name for f in driver.definition.transition("approve_terms").fields] == [
        "drafting_body", "new_working_group", "new_working_group_until",
    ]  # fmt: skip


def test_without_the_choice_in_the_definition_drafting_stays_in_the_originating_body(
    session, driver, make_user, working_group
):
    """Remove the field from a copy of the definition: the choice disappears and the case
    drafts where it was raised."""
    from dataclasses import replace

    from workflow.engine.definitions import parse_definition

    source = driver.definition.source
    without = parse_definition(
        "\n".join(
            line for line in source.splitlines()
            if "drafting_body" not in line and "new_working_group" not in line
        ),
        "states/joint_agreement.toml",
    )  # fmt: skip
    approve = without.transition("approve_terms")
    assert approve is not None and approve.fields == ()
    assert without.states["drafting"].body_field == ""
    assert replace(driver.definition.states["drafting"], body_field="").body == "originating"
