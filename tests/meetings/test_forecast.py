"""The earliest decision forecast, checked against a meeting calendar with hand-computed dates.

Material deadlines (seeded): TSS 8 working days, SKU 10 working days before the meeting.
Every meeting starts at 10:00 Danish time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from models import Meeting, MeetingStatus
from workflow.engine import clock
from workflow.engine.calendar import local_date
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.processes import registry
from workflow.meetings.forecast import NoDecisionReason, Outcome, decision_path, forecast


def at_ten(day: date) -> datetime:
    """10:00 Danish time on `day`, as UTC."""
    return datetime(day.year, day.month, day.day, 10, 0, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def meeting(session, body):
    def add(code: str, day: date, *, cancelled: bool = False) -> Meeting:
        status = MeetingStatus.CANCELLED if cancelled else MeetingStatus.PLANNED
        found = Meeting(body_id=body(code).id, title=f"{code}-møde", starts_at=at_ten(day))
        found.status = status
        session.add(found)
        session.flush()
        return found

    return add


@pytest.fixture
def autumn_2020(meeting):
    """TSS on 1 October and 13 November; SKU on 7 October and 9 December 2020."""
    return {
        "tss_oct": meeting("TSS", date(2020, 10, 1)),
        "tss_nov": meeting("TSS", date(2020, 11, 13)),
        "sku_oct": meeting("SKU", date(2020, 10, 7)),
        "sku_dec": meeting("SKU", date(2020, 12, 9)),
    }


def _days(result):
    return [
        (s.transition.trigger, local_date(s.happens_at) if s.happens_at else None)
        for s in result.steps
    ]


def test_a_draft_is_recommended_before_the_tss_deadline_and_decided_at_the_first_sku_it_reaches(
    session, make_case, autumn_2020
):
    case = make_case(state="draft")
    result = forecast(session, case, clock.now())

    assert result.outcome == Outcome.PLANNED
    assert _days(result) == [
        ("submit", date(2020, 9, 1)),
        ("tss_recommend", date(2020, 10, 1)),
        ("sku_approve", date(2020, 12, 9)),
    ]
    submit, tss, sku = result.steps
    # 8 working days before Thursday 1 October: Monday 21 September.
    assert submit.due_by is not None and local_date(submit.due_by) == date(2020, 9, 21)
    assert submit.due_for is tss and not submit.at_meeting
    assert submit.body.code == "SU-NORD-SOM"
    assert tss.meeting is autumn_2020["tss_oct"]
    assert tss.material_deadline == datetime(2020, 9, 21, 23, 59, tzinfo=LOCAL_TZ)
    # SKU 7 October has its deadline on 23 September, before TSS has recommended (1 October);
    # SKU 9 December's is 10 working days before: Wednesday 25 November.
    assert sku.meeting is autumn_2020["sku_dec"]
    assert sku.material_deadline == datetime(2020, 11, 25, 23, 59, tzinfo=LOCAL_TZ)
    assert result.first_meeting_of("TSS") is tss
    assert result.decision is sku
    assert result.blockers == []


def test_a_cancelled_meeting_is_skipped(session, make_case, autumn_2020):
    autumn_2020["tss_oct"].status = MeetingStatus.CANCELLED
    session.flush()
    case = make_case(state="draft")
    submit, tss, sku = forecast(session, case, clock.now()).steps
    # Friday 13 November minus 8 working days: Tuesday 3 November.
    assert tss.meeting is autumn_2020["tss_nov"]
    assert local_date(submit.due_by) == date(2020, 11, 3)
    assert sku.meeting is autumn_2020["sku_dec"]


def test_working_day_deadlines_skip_danish_holidays(session, make_case, meeting):
    tss = meeting("TSS", date(2021, 1, 7))
    sku = meeting("SKU", date(2021, 4, 6))
    case = make_case(state="draft")
    submit, tss_step, sku_step = forecast(session, case, clock.now()).steps
    # Thursday 7 January 2021, 8 working days back over New Year's Day and Christmas
    # (25 and 26 December): 6, 5, 4 Jan, 31, 30, 29, 28, 24 Dec -> Thursday 24 December.
    assert tss_step.meeting is tss
    assert local_date(tss_step.material_deadline) == date(2020, 12, 24)
    assert local_date(submit.due_by) == date(2020, 12, 24)
    # Tuesday 6 April 2021 (after Easter Monday 5 April), 10 working days back skipping
    # Easter Monday, Good Friday and Maundy Thursday: 31, 30, 29, 26, 25, 24, 23, 22, 19,
    # 18 March -> Thursday 18 March.
    assert sku_step.meeting is sku
    assert local_date(sku_step.material_deadline) == date(2021, 3, 18)


def test_a_case_already_at_sku_is_decided_at_its_next_meeting(session, make_case, autumn_2020):
    case = make_case(state="at_sku")
    result = forecast(session, case, clock.now())
    assert _days(result) == [("sku_approve", date(2020, 10, 7))]
    assert result.first_meeting_of("TSS") is None
    assert result.decision is not None and result.decision.missed is None


def test_a_case_that_reached_sku_after_the_material_deadline_goes_to_the_next_meeting(
    session, make_case, autumn_2020
):
    clock.set_time(datetime(2020, 9, 25, 8, 0, tzinfo=UTC))  # after 23 September
    case = make_case(state="at_sku")
    (step,) = forecast(session, case, clock.now()).steps
    assert step.meeting is autumn_2020["sku_dec"]
    assert step.missed is autumn_2020["sku_oct"]


def test_no_planned_meeting_is_said_and_names_the_body(session, make_case, meeting):
    tss = meeting("TSS", date(2020, 10, 1))
    meeting("SKU", date(2020, 9, 30))  # before TSS can recommend
    case = make_case(state="draft")
    result = forecast(session, case, clock.now())
    assert result.outcome == Outcome.NO_MEETING
    assert result.waiting_body is not None and result.waiting_body.code == "SKU"
    assert result.waiting_after == tss.starts_at
    assert result.decision is None
    assert [s.meeting for s in result.steps] == [None, tss, None]


def test_no_meetings_at_all(session, make_case):
    result = forecast(session, make_case(state="at_tss"), clock.now())
    assert result.outcome == Outcome.NO_MEETING
    assert result.waiting_body.code == "TSS"


def test_failing_rules_are_reported_once_at_the_first_step_that_needs_them(
    session, make_case, autumn_2020
):
    case = make_case(state="draft", cost_driving=True, role_distribution="", business_case="")
    result = forecast(session, case, clock.now())
    rules = [(step.transition.trigger, failure.rule) for step, failure in result.blockers]
    # role_distribution_stated guards both submit and tss_recommend; financing_follows both
    # tss_recommend and sku_approve: each is named where it first blocks.
    assert rules == [
        ("submit", "role_distribution_stated"),
        ("tss_recommend", "business_case_stated"),
        ("tss_recommend", "financing_follows"),
    ]
    financing = result.blockers[2][1]
    assert "businesscase" in financing.message and "finansieringsforslag" in financing.message
    # The dates are the earliest possible once the rules are met.
    assert result.outcome == Outcome.PLANNED


def test_closed_and_decided_cases_have_no_forecast(session, make_case, autumn_2020):
    rejected = forecast(session, make_case(state="rejected"), clock.now())
    assert (rejected.outcome, rejected.reason) == (Outcome.NO_DECISION, NoDecisionReason.FINAL)
    approved = forecast(session, make_case(state="implementation"), clock.now())
    assert approved.outcome == Outcome.NO_DECISION
    assert approved.reason == NoDecisionReason.NOT_ON_PATH


def test_a_date_rule_moves_the_decision_to_the_first_meeting_where_it_holds(
    session, make_case, meeting
):
    meeting("SKU", date(2021, 6, 15))
    october = meeting("SKU", date(2021, 10, 28))
    case = make_case("implementation_plan", origin="TSS", state="awaiting_adoption", plan_year=2022)
    case.extra = {
        "municipal_budgets_adopted_on": "2021-10-13",
        "regional_budget_adopted_on": "2021-09-28",
    }
    (adopt,) = forecast(session, case, clock.now()).steps
    # The 2022 plan is adopted at a meeting after the budgets the secretariat recorded.
    assert adopt.transition.trigger == "adopt"
    assert adopt.meeting is october
    assert adopt.blockers == ()


@pytest.mark.parametrize(
    ("process", "state", "triggers"),
    [
        ("signature_initiative", "draft", ["submit", "tss_recommend", "sku_approve"]),
        ("signature_initiative", "at_sku", ["sku_approve"]),
        (
            "development_task",
            "assignment_frame",
            [
                "approve_frame",
                "start_consultation",
                "end_consultation",
                "refer_to_sku",
                "sku_approve",
            ],
        ),
        ("joint_agreement", "consultation", ["end_consultation", "tss_approve", "sku_approve"]),
        (
            "implementation_plan",
            "preparation",
            ["submit_for_discussion", "discuss", "conclude_dialogue", "adopt"],
        ),
        ("forum_matter", "in_forum", None),
        ("signature_initiative", "follow_up", None),
    ],
)
def test_the_path_leads_to_the_sku_approval(session, process, state, triggers):
    definition = registry.latest(session, process)
    path = decision_path(definition, state)
    assert (None if path is None else [t.trigger for t in path]) == triggers
