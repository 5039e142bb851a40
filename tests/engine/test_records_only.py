"""A records-only transition (`records_only = true` on a self-loop): its event and fields are
written and sealed on the case's chain, but the case does not enter its state again — the time
it entered, its deadline row and the reminders already sent stay, and no one is told of a
change of state. A plain self-loop (a postponement) still re-enters the state."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import CaseEvent, Deadline, Notification
from workflow import scheduler
from workflow.engine import audit, clock
from workflow.engine.processes import registry
from workflow.scheduler import SchedulerConfig
from workflow.webhooks import events as webhook_events

# Two self-loops on a forum matter in progress (deadline 180 days after entry, reminder 14
# days before): one that only records, one that enters the state again.
SELF_LOOPS = """
[[transitions]]
trigger = "note_progress"
source = "in_progress"
dest = "in_progress"
records_only = true
label = "Notér fremdrift"
label_en = "Note progress"
allowed = ["secretariat@originating"]
inform = ["KKR"]
fields = [
    { name = "progress", type = "text", required = true, label = "Status", label_en = "Status" },
]

[[transitions]]
trigger = "replan"
source = "in_progress"
dest = "in_progress"
label = "Planlæg forløbet igen"
label_en = "Plan again"
allowed = ["secretariat@originating"]
"""


@pytest.fixture
def in_progress(session, make_case, make_user):
    """A forum matter started under a version of the process with the two self-loops."""
    latest = registry.latest(session, "forum_matter")
    registry.publish(
        session, "forum_matter", latest.source + SELF_LOOPS, based_on=latest.version, actor_id=None
    )
    case = make_case("forum_matter", origin="FORUM-DATA", state="decided")
    assert case.process_version == latest.version + 1
    decide(case, "start", make_user("secretariat@FORUM-DATA"))
    assert case.state == "in_progress"
    return case


def _deadlines(session, case):
    return session.scalars(
        select(Deadline).where(Deadline.case_id == case.id).order_by(Deadline.id)
    ).all()


def _told(session, event):
    return session.scalars(
        select(Notification.kind).where(
            Notification.idempotency_key.like(f"event:{event.id}:user:%")
        )
    ).all()


def test_a_records_only_self_loop_keeps_the_clock_the_deadline_and_its_reminders(
    session, in_progress, make_user
):
    case = in_progress
    secretariat = make_user("secretariat@FORUM-DATA")
    member = make_user("member@FORUM-DATA")
    observer = make_user("observer@KKR")
    entered, body_id = case.state_entered_at, case.current_body_id
    [deadline] = _deadlines(session, case)
    due, deadline_id = deadline.due_at, deadline.id
    assert deadline.reminder_days == [14]

    clock.set_time(due - timedelta(days=10))  # the 14-day reminder has come
    reminded = scheduler.sweep(session, config=SchedulerConfig()).reminders
    assert reminded >= 1

    clock.set_time(clock.now() + timedelta(hours=2))
    event = decide(case, "note_progress", secretariat, data={"progress": "Halvvejs."})

    # The event and its field are written, sealed onto the chain after the last event.
    assert (event.trigger, event.from_state, event.to_state) == (
        "note_progress", "in_progress", "in_progress"
    )  # fmt: skip
    assert event.data["progress"] == "Halvvejs." and case.extra["progress"] == "Halvvejs."
    before = session.scalar(
        select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.seq == event.seq - 1)
    )
    assert event.prev_hash == before.hash
    assert audit.verify(session).problems == []
    # The case did not enter its state again: same clock, body, deadline row and due time.
    assert case.state_entered_at == entered and case.current_body_id == body_id
    assert [(d.id, d.due_at, d.is_open) for d in _deadlines(session, case)] == [
        (deadline_id, due, True)
    ]
    assert case.next_due_at == due
    # No reminder twice: the sweep after it finds the reminder sent already.
    assert scheduler.sweep(session, config=SchedulerConfig()).reminders == 0
    # Not a change of state: the raising body's members and the holding body's chairs are
    # not told; the body the action informs is. A webhook calls it an update.
    assert _told(session, event) == ["information"]
    assert (
        session.scalar(
            select(Notification.recipient_id).where(
                Notification.idempotency_key.like(f"event:{event.id}:%")
            )
        )
        == observer.id
    )
    assert (
        member.id
        not in session.scalars(
            select(Notification.recipient_id).where(
                Notification.idempotency_key.like(f"event:{event.id}:%")
            )
        ).all()
    )
    assert webhook_events.event_type(event.trigger, event.from_state, event.to_state) == (
        webhook_events.UPDATED
    )

    # A plain self-loop enters the state again: a new clock and a new deadline row.
    clock.set_time(clock.now() + timedelta(hours=1))
    replanned = decide(case, "replan", secretariat)
    assert case.state_entered_at == clock.now() != entered
    rows = _deadlines(session, case)
    assert [d.id for d in rows if d.is_open] != [deadline_id]
    assert rows[0].cancelled_at is not None
    assert "status_changed" in _told(session, replanned)
