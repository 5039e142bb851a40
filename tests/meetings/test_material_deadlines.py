"""Material deadlines follow their meeting: moved with it, or to the next meeting when it is
cancelled, with their undelivered reminders withdrawn and the change in the audit trail."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import CaseEvent, Deadline, DeadlineKind, Meeting, MeetingStatus, Notification
from workflow import scheduler
from workflow.engine import clock
from workflow.engine.calendar import end_of_day
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.meetings.material_deadlines import cancel_meeting, reschedule_meeting
from workflow.notifications import delivery as notify
from workflow.scheduler import SchedulerConfig


def _local(*args) -> datetime:
    return datetime(*args, tzinfo=LOCAL_TZ)


@pytest.fixture
def tss_meeting(session, body):
    """TSS's meeting on Friday 13 November 2020 at 09:00."""
    meeting = Meeting(body_id=body("TSS").id, title="TSS-møde", starts_at=_local(2020, 11, 13, 9))
    session.add(meeting)
    session.commit()
    return meeting


@pytest.fixture
def planned_case(session, tss_meeting, make_case, make_user):
    """A signature initiative before TSS, planned for the 13 November meeting."""
    case = make_case(title="Hjerterehabilitering")
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    return case


@pytest.fixture
def secretary(make_user):
    return make_user("secretariat@TSS")


def _open_material(session, case) -> list[Deadline]:
    session.expire_all()
    return session.scalars(
        select(Deadline).where(
            Deadline.case_id == case.id,
            Deadline.kind == DeadlineKind.MATERIAL,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
    ).all()


def test_moving_a_meeting_moves_the_deadline_and_withdraws_waiting_reminders(
    session, planned_case, tss_meeting, secretary, make_user
):
    chair = make_user("chair@TSS")
    [before] = _open_material(session, planned_case)
    assert before.due_at == end_of_day(date(2020, 11, 3))  # TSS: 8 working days before
    clock.set_time(_local(2020, 10, 27, 8, 0))  # the 7-day reminder is written...
    # ...to the SU's two co-chairs, who submitted the case together, and TSS's secretariat
    assert scheduler.sweep(session, config=SchedulerConfig()).reminders == 3
    waiting = session.scalars(select(Notification).where(Notification.deadline_id == before.id))
    waiting = list(waiting)  # ...but not delivered yet

    change = reschedule_meeting(
        session, tss_meeting, _local(2020, 11, 27, 9), secretary, comment="Formanden er syg"
    )
    [after] = _open_material(session, planned_case)
    assert after.due_at == end_of_day(date(2020, 11, 17))
    assert after.meeting_id == tss_meeting.id
    assert session.get(Deadline, before.id).cancelled_at == clock.now()
    assert change.withdrawn_reminders == 3
    assert all(session.get(Notification, n.id).failed_at is not None for n in waiting)
    assert notify.unread_count(session, chair.id) == 1  # only the news of the move
    assert notify.failed_notifications(session, [tss_meeting.body_id]) == []  # not failures

    event = session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == planned_case.id).order_by(CaseEvent.seq)
    ).all()[-1]
    assert event.trigger == "material_deadline_moved"
    assert event.actor_id == secretary.id
    assert "13. november 2020 kl. 09:00 til 27. november 2020 kl. 09:00" in event.comment
    assert "Formanden er syg" in event.comment
    moved = session.scalar(
        select(Notification).where(
            Notification.recipient_id == chair.id, Notification.kind == "deadline_changed"
        )
    )
    assert "17. november 2020 kl. 23:59" in moved.body

    # The sweep reminds about the new date in its time, under a new key.
    clock.set_time(_local(2020, 11, 10, 8, 0))
    assert scheduler.sweep(session, config=SchedulerConfig()).reminders == 3


def test_working_days_skip_danish_holidays(session, body, make_case, make_user, secretary):
    tss = body("TSS")
    tss.material_deadline_days = 4
    tss.material_deadline_working_days = True
    meeting = Meeting(body_id=tss.id, starts_at=_local(2021, 3, 1, 9))
    session.add(meeting)
    session.commit()
    clock.set_time(datetime(2021, 2, 1, 8, tzinfo=UTC))
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))

    # Tuesday after Easter: Easter Monday, Good Friday and Maundy Thursday are not working days.
    reschedule_meeting(session, meeting, _local(2021, 4, 6, 9), secretary)
    [deadline] = _open_material(session, case)
    assert deadline.due_at == end_of_day(date(2021, 3, 26))


def test_cancelling_a_meeting_gives_its_cases_the_next_meetings_deadline(
    session, planned_case, tss_meeting, body, secretary
):
    later = Meeting(body_id=body("TSS").id, starts_at=_local(2020, 12, 11, 9))
    session.add(later)
    session.commit()
    [before] = _open_material(session, planned_case)

    change = cancel_meeting(session, tss_meeting, secretary, comment="For få punkter")
    assert tss_meeting.status is MeetingStatus.CANCELLED
    [after] = _open_material(session, planned_case)
    assert (after.meeting_id, after.due_at) == (later.id, end_of_day(date(2020, 12, 1)))
    assert change.replaced == [(before, after)]
    comment = session.scalars(
        select(CaseEvent.comment).where(CaseEvent.case_id == planned_case.id)
    ).all()[-1]
    assert "er aflyst" in comment and "11. december 2020" in comment


def test_cancelling_the_last_planned_meeting_removes_the_deadline(
    session, planned_case, tss_meeting, secretary
):
    change = cancel_meeting(session, tss_meeting, secretary)
    assert _open_material(session, planned_case) == []
    assert len(change.removed) == 1
    comment = session.scalars(
        select(CaseEvent.comment).where(CaseEvent.case_id == planned_case.id)
    ).all()[-1]
    assert "ingen materialefrist, før sekretariatet planlægger det næste møde" in comment
    # Nothing overdue later: the removed deadline is not swept.
    clock.advance(timedelta(days=60))
    assert scheduler.sweep(session, config=SchedulerConfig()).overdue == 0


def test_only_the_bodys_secretariat_chairs_or_an_admin_may_move_meetings(
    session, planned_case, tss_meeting, make_user
):
    with pytest.raises(NotAllowed, match="Kun sekretariatet eller formandskabet for TSS"):
        reschedule_meeting(session, tss_meeting, _local(2020, 11, 20, 9), make_user("member@TSS"))
    with pytest.raises(NotAllowed):
        cancel_meeting(session, tss_meeting, make_user("secretariat@SKU"))
    admin = make_user(is_admin=True)
    reschedule_meeting(session, tss_meeting, _local(2020, 11, 20, 9), admin)
    assert tss_meeting.starts_at == _local(2020, 11, 20, 9)


def test_a_cancelled_or_held_meeting_cannot_be_moved(session, tss_meeting, secretary):
    cancel_meeting(session, tss_meeting, secretary)
    with pytest.raises(WorkflowError, match="Mødet er aflyst"):
        reschedule_meeting(session, tss_meeting, _local(2020, 11, 20, 9), secretary)
    tss_meeting.status = MeetingStatus.HELD
    session.commit()
    with pytest.raises(WorkflowError, match="allerede afholdt"):
        cancel_meeting(session, tss_meeting, secretary)


def test_a_cancellation_whose_history_entry_fails_leaves_the_deadlines_as_they_were(
    session, planned_case, tss_meeting, secretary, monkeypatch
):
    from workflow.meetings import operations as meetings

    [before] = _open_material(session, planned_case)

    def failing_record(session, meeting, actor, action, **kwargs):
        raise RuntimeError("the history could not be written")

    # The deadlines move first, then the history entry fails: one unit, so nothing stays.
    monkeypatch.setattr(meetings, "record", failing_record)
    with pytest.raises(RuntimeError):
        meetings.cancel_meeting(session, tss_meeting, secretary, comment="Ingen sager")
    assert [d.id for d in _open_material(session, planned_case)] == [before.id]
    assert session.get(Meeting, tss_meeting.id).status is MeetingStatus.PLANNED
