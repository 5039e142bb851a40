"""Deadlines: material deadlines in Danish working days, days after entry, consultation and
plan-year dates, met on leaving a state, re-planned on postponement, due 23:59 Danish time."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import Body, Deadline, DeadlineKind, Meeting, MeetingStatus
from workflow.engine import calendar, clock, deadlines
from workflow.engine import core as engine
from workflow.engine.clock import LOCAL_TZ


def _deadlines(session, case):
    return session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)
    ).all()


def _open(session, case):
    return [d for d in _deadlines(session, case) if d.is_open]


def _local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ)


# --- Calendar -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "utc"),
    [
        (date(2020, 7, 1), datetime(2020, 7, 1, 21, 59, tzinfo=UTC)),  # summer time
        (date(2020, 12, 1), datetime(2020, 12, 1, 22, 59, tzinfo=UTC)),  # winter time
        (date(2021, 3, 28), datetime(2021, 3, 28, 21, 59, tzinfo=UTC)),  # the day clocks go on
        (date(2021, 10, 31), datetime(2021, 10, 31, 22, 59, tzinfo=UTC)),  # and back
    ],
)
def test_due_time_is_23_59_in_copenhagen(day, utc):
    assert calendar.end_of_day(day) == utc
    assert calendar.end_of_day(day).astimezone(LOCAL_TZ).strftime("%H:%M") == "23:59"


def test_working_days_skip_weekends_and_danish_holidays():
    assert not calendar.is_working_day(date(2021, 4, 1))  # skærtorsdag
    assert not calendar.is_working_day(date(2021, 4, 5))  # 2. påskedag
    assert not calendar.is_working_day(date(2021, 4, 3))  # a Saturday
    assert calendar.is_working_day(date(2021, 4, 6))
    # Monday 12 April 2021, 8 working days back, past Easter: 26 March.
    assert calendar.subtract_days(date(2021, 4, 12), 8, working_days=True) == date(2021, 3, 26)
    assert calendar.subtract_days(date(2021, 4, 12), 8, working_days=False) == date(2021, 4, 4)


# --- Material deadlines -----------------------------------------------------------------


def test_material_deadline_for_a_tss_meeting_after_easter(
    session, make_case, make_user, make_meeting
):
    clock.set_time(_local(2021, 3, 1, 10, 0))
    meeting = make_meeting("TSS", _local(2021, 4, 12, 9, 0), MeetingStatus.PLANNED)  # a Monday
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    [deadline] = _open(session, case)
    assert deadline.kind == DeadlineKind.MATERIAL
    assert deadline.meeting_id == meeting.id
    assert deadline.state == "at_tss"
    assert deadline.body_id == meeting.body_id
    # TSS: 8 working days (skærtorsdag, langfredag, 2. påskedag skipped); still winter time.
    assert deadline.due_at == datetime(2021, 3, 26, 22, 59, tzinfo=UTC)
    assert deadline.reminder_days == [7, 2]


def test_material_deadline_in_calendar_days_when_the_body_says_so(session, body, make_meeting):
    su = body("SU-NORD-SOM")
    su.material_deadline_days, su.material_deadline_working_days = 7, False
    meeting = make_meeting("SU-NORD-SOM", _local(2021, 4, 12, 9, 0), MeetingStatus.PLANNED)
    assert deadlines.material_deadline(meeting, su) == datetime(2021, 4, 5, 21, 59, tzinfo=UTC)


def test_material_deadline_uses_the_next_meeting_that_is_not_cancelled(
    session, make_case, make_user, make_meeting
):
    make_meeting("TSS", _local(2020, 8, 20, 9, 0))  # already held
    make_meeting("TSS", _local(2020, 10, 1, 9, 0), MeetingStatus.CANCELLED)
    make_meeting("SKU", _local(2020, 10, 5, 9, 0), MeetingStatus.PLANNED)  # another body
    later = make_meeting("TSS", _local(2020, 11, 13, 9, 0), MeetingStatus.PLANNED)
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    [deadline] = _open(session, case)
    assert deadline.meeting_id == later.id
    assert deadline.due_at == datetime(2020, 11, 3, 22, 59, tzinfo=UTC)  # Fri 13 → Tue 3


def test_no_meeting_planned_gives_no_material_deadline_yet(session, make_case, make_user):
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    assert _deadlines(session, case) == []


# --- Other kinds ----------------------------------------------------------------------


def test_days_after_entry_counts_danish_calendar_days_across_daylight_saving(
    session, make_case, make_user
):
    # 23:30 on 1 February (winter time) + 60 days is 2 April, not 3 April.
    clock.set_time(_local(2021, 2, 1, 23, 30))
    case = make_case("forum_matter", origin="FORUM-DATA")
    decide(case, "raise", make_user("member@FORUM-DATA"))
    [deadline] = _open(session, case)
    assert (deadline.kind, deadline.state) == (DeadlineKind.STATE, "in_forum")
    assert deadline.due_at == datetime(2021, 4, 2, 21, 59, tzinfo=UTC)
    assert deadline.reminder_days == [7, 2]


def test_consultation_deadline_comes_from_the_submitted_field(session, make_case, make_user):
    case = make_case("development_task", origin="SU-SYD-SOM", state="development")
    decide(
        case, "start_consultation", make_user("chair@SU-SYD-SOM"),
        data={"consultation_deadline": date(2020, 11, 20)},
    )  # fmt: skip
    [deadline] = _open(session, case)
    assert deadline.kind == DeadlineKind.CONSULTATION
    assert deadline.due_at == datetime(2020, 11, 20, 22, 59, tzinfo=UTC)


def test_month_day_deadline_follows_the_plan_year(session, make_case, make_user):
    case = make_case("implementation_plan", origin="TSS", plan_year=2022)
    [deadline] = _open(session, case)
    assert deadline.due_at == datetime(2021, 5, 31, 21, 59, tzinfo=UTC)  # 05-31, year before
    undated = make_case("implementation_plan", origin="TSS")
    assert _deadlines(session, undated) == []


# --- Leaving, postponing ----------------------------------------------------------------


def test_leaving_a_state_meets_its_deadline(session, make_case, make_user):
    case = make_case("forum_matter", origin="FORUM-DATA")
    chair = make_user("chair@FORUM-DATA")
    decide(case, "raise", chair)
    clock.advance(timedelta(days=3))
    decide(case, "decide", chair, comment="Godkendt.")
    left, current = _deadlines(session, case)
    assert (left.state, left.met_at, left.cancelled_at) == ("in_forum", clock.now(), None)
    assert (current.state, current.is_open) == ("decided", True)
    assert current.due_at == datetime(2020, 10, 4, 21, 59, tzinfo=UTC)


def _chairs_may_decide(session, code):
    """Give the body terms that let its chairs decide between meetings (SKU's do not)."""
    session.scalar(select(Body).where(Body.code == code)).formandskab_decides = True
    session.commit()


def test_postponing_cancels_the_deadline_and_plans_for_the_meeting_after(
    session, make_case, make_user, make_meeting
):
    october = make_meeting("SKU", _local(2020, 10, 15, 14, 0), MeetingStatus.PLANNED)
    december = make_meeting("SKU", _local(2020, 12, 10, 14, 0), MeetingStatus.PLANNED)
    case = make_case(state="at_tss")
    decide(case, "tss_recommend", make_user("chair@TSS"))
    [planned] = _open(session, case)
    assert planned.meeting_id == october.id

    clock.set_time(_local(2020, 9, 20, 10, 0))  # the chairs postpone before the meeting
    _chairs_may_decide(session, "SKU")
    decide(case, "sku_postpone", make_user("chair@SKU"), comment="Afventer budget.")
    first, replanned = _deadlines(session, case)
    assert (first.cancelled_at, first.met_at) == (clock.now(), None)
    assert replanned.meeting_id == december.id
    assert replanned.due_at == datetime(2020, 11, 26, 22, 59, tzinfo=UTC)
    assert case.state == "at_sku"


def test_postponing_at_the_meeting_moves_to_the_next_one(
    session, make_case, make_user, make_meeting
):
    october = make_meeting("SKU", _local(2020, 10, 15, 14, 0), MeetingStatus.PLANNED)
    december = make_meeting("SKU", _local(2020, 12, 10, 14, 0), MeetingStatus.PLANNED)
    case = make_case(state="at_tss")
    decide(case, "tss_recommend", make_user("chair@TSS"))
    clock.set_time(_local(2020, 10, 15, 16, 0))
    decide(
        case, "sku_postpone", make_user("secretariat@SKU"), comment="Udsat.",
        data={"meeting_id": october.id},
    )  # fmt: skip
    [replanned] = _open(session, case)
    assert replanned.meeting_id == december.id


def test_migration_keeps_the_planned_meeting(session, make_case, make_user, make_meeting):
    october = make_meeting("SKU", _local(2020, 10, 15, 14, 0), MeetingStatus.PLANNED)
    case = make_case(state="at_tss")
    decide(case, "tss_recommend", make_user("chair@TSS"))
    engine.migrate_case_version(
        case, case.process_version, {"at_sku": "at_sku"}, make_user(is_admin=True)
    )
    cancelled, replanned = _deadlines(session, case)
    assert cancelled.cancelled_at is not None
    assert replanned.meeting_id == october.id


def test_a_case_arriving_after_a_material_deadline_aims_at_the_next_meeting(
    session, body, make_case, make_user
):
    tss = body("TSS")  # 8 working days' material deadline
    soon = datetime(2020, 9, 7, 9, 0, tzinfo=UTC)  # deadline 26 August: already passed
    later = datetime(2020, 10, 5, 9, 0, tzinfo=UTC)
    session.add_all(
        [Meeting(body_id=tss.id, starts_at=soon), Meeting(body_id=tss.id, starts_at=later)]
    )
    session.commit()
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    deadline = session.scalar(
        select(Deadline).where(Deadline.case_id == case.id, Deadline.met_at.is_(None))
    )
    assert session.get(Meeting, deadline.meeting_id).starts_at == later
    assert deadline.due_at > clock.now()


# --- The case's next deadline, kept on the case -----------------------------------------


def test_the_case_carries_its_earliest_open_deadline_through_every_change(
    session, make_case, make_user, make_meeting
):
    """cases.next_due_at follows the open deadlines as they are set, met, cancelled and
    re-planned, so lists can sort and filter by it."""
    october = make_meeting("SKU", _local(2020, 10, 15, 14, 0), MeetingStatus.PLANNED)
    make_meeting("SKU", _local(2020, 12, 10, 14, 0), MeetingStatus.PLANNED)
    case = make_case(state="at_tss")
    assert case.next_due_at is None
    decide(case, "tss_recommend", make_user("chair@TSS"))
    [planned] = _open(session, case)
    assert planned.meeting_id == october.id
    assert case.next_due_at == planned.due_at
    clock.set_time(_local(2020, 9, 20, 10, 0))
    _chairs_may_decide(session, "SKU")
    decide(case, "sku_postpone", make_user("chair@SKU"), comment="Afventer budget.")
    [replanned] = _open(session, case)
    assert case.next_due_at == replanned.due_at != planned.due_at
    # What is stored, not only what the session holds.
    session.expire_all()
    assert session.get(type(case), case.id).next_due_at == replanned.due_at


def test_a_case_without_open_deadlines_has_no_next_deadline(session, make_case, make_user):
    case = make_case("forum_matter", origin="FORUM-DATA")
    chair = make_user("chair@FORUM-DATA")
    decide(case, "raise", chair)
    [in_forum] = _open(session, case)
    assert case.next_due_at == in_forum.due_at
    for deadline in _open(session, case):
        deadline.cancelled_at = clock.now()
    session.flush()
    assert case.next_due_at is None


@pytest.mark.parametrize("follow_up_days", [1, 400])
def test_a_follow_up_stays_open_through_transitions_and_counts_for_the_next_deadline(
    session, make_case, make_user, follow_up_days
):
    """A transition closes its state's deadlines, never a follow-up: the case's next deadline
    is the earlier of the follow-up and the new state's deadline, also once no state has one."""
    case = make_case("forum_matter", origin="FORUM-DATA")
    chair = make_user("chair@FORUM-DATA")
    follow_up = Deadline(
        case_id=case.id, kind=DeadlineKind.FOLLOW_UP, state=case.state,
        body_id=case.current_body_id, due_at=clock.now() + timedelta(days=follow_up_days),
    )  # fmt: skip
    session.add(follow_up)
    session.flush()

    decide(case, "raise", chair)
    [state_deadline] = [d for d in _open(session, case) if d.kind != DeadlineKind.FOLLOW_UP]
    assert follow_up.is_open
    assert case.next_due_at == min(follow_up.due_at, state_deadline.due_at)

    decide(case, "reject", chair, comment="Afvist")  # a state without a deadline
    assert _open(session, case) == [follow_up]
    session.expire_all()
    assert session.get(type(case), case.id).next_due_at == follow_up.due_at
