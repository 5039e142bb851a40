"""The sweep: reminders before a deadline, overdue notices and escalation — each exactly once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from models import CaseEvent, Deadline, Meeting, Notification
from workflow import clock, engine, scheduler


@pytest.fixture
def tss_case(session, body, make_case, make_user):
    """A signature initiative before TSS, whose next meeting is on 13 November 2020."""
    session.add(Meeting(body_id=body("TSS").id, starts_at=datetime(2020, 11, 13, 9, 0, tzinfo=UTC)))
    session.commit()
    case = make_case()
    engine.perform(case, "submit", make_user("chair@SU-NORD-SOM"))
    return case


def _count(session, **filters) -> int:
    query = select(func.count()).select_from(Notification)
    for name, value in filters.items():
        query = query.where(getattr(Notification, name) == value)
    return session.scalar(query)


def test_material_deadline_gets_reminders_then_escalates_once(session, tss_case, make_user, body):
    tss_secretary = make_user("secretariat@TSS")
    sku_chair = make_user("chair@SKU")
    deadline = session.scalar(select(Deadline).where(Deadline.case_id == tss_case.id))
    assert deadline.kind == "material"

    clock.set_time(deadline.due_at - timedelta(days=6))
    assert scheduler.sweep(session).reminders == 1
    assert scheduler.sweep(session).reminders == 0  # a second sweep adds nothing
    clock.set_time(deadline.due_at - timedelta(days=1))
    assert scheduler.sweep(session).reminders == 1  # the 2-day reminder
    assert _count(session, recipient_id=tss_secretary.id, kind="reminder") == 2

    clock.set_time(deadline.due_at + timedelta(hours=1))
    report = scheduler.sweep(session)
    assert (report.overdue, report.escalated) == (1, 0)
    assert _count(session, recipient_id=tss_secretary.id, kind="overdue") == 1
    events = session.scalars(
        select(CaseEvent.trigger).where(CaseEvent.case_id == tss_case.id)
    ).all()
    assert events[-1] == "deadline_overdue"

    clock.set_time(deadline.due_at + timedelta(days=15))
    report = scheduler.sweep(session)
    assert (report.overdue, report.escalated) == (0, 1)
    assert _count(session, recipient_id=sku_chair.id, kind="escalation") == 1
    assert scheduler.sweep(session).escalated == 0
    assert tss_case.state == "at_tss"  # the scheduler never changes a case's state


def test_sweep_skips_met_deadlines(session, tss_case, make_user):
    deadline = session.scalar(select(Deadline).where(Deadline.case_id == tss_case.id))
    engine.perform(tss_case, "tss_recommend", make_user("chair@TSS"))
    clock.set_time(deadline.due_at + timedelta(days=30))
    report = scheduler.sweep(session)
    assert report.overdue == 0
    assert session.get(Deadline, deadline.id).met_at is not None
