"""A forum's work plan for TSS (seed 000 l.57-60): every transition, the case the scheduler's
sweep opens for a new forum, due at TSS' first meeting, and the status TSS may ask for."""

from __future__ import annotations

from datetime import UTC, date, datetime

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

from models import Body, BodyKind, Deadline, MeetingStatus
from workflow.cases import rhythms
from workflow.engine import clock
from workflow.engine.definitions import parse_definition
from workflow.engine.processes import registry

PROCESS = "forum_work_plan"
STARTED = date(2026, 2, 2)


def _new_forum(session, code="FORUM-NY", valid_from=STARTED):
    forum = Body(code=code, name="Samarbejdsforum for ny opgave", kind=BodyKind.FORUM,
                 valid_from=valid_from, formandskab_decides=True)  # fmt: skip
    session.add(forum)
    session.commit()
    return forum


def _open(session, day, definitions=None):
    opened = rhythms.open_due_cases(session, day, definitions)
    return [c for c in opened if c.process == PROCESS]


def test_a_new_forum_gets_one_work_plan_due_at_tss_first_meeting(session, make_meeting):
    clock.set_time(datetime(2026, 2, 3, 9, tzinfo=UTC))
    meeting = make_meeting("TSS", datetime(2026, 3, 4, 8, tzinfo=UTC), MeetingStatus.PLANNED)
    forum = _new_forum(session)
    older = _new_forum(session, "FORUM-GAMMEL", date(2020, 1, 1))

    [plan] = _open(session, date(2026, 2, 3))
    assert _open(session, date(2026, 2, 4)) == []  # one work plan per forum
    assert plan.originating_body_id == forum.id != older.id
    assert (plan.state, plan.current_body.code) == ("for_tss", "TSS")
    deadline = session.scalar(select(Deadline).where(Deadline.case_id == plan.id))
    assert deadline is not None and deadline.meeting_id == meeting.id
    assert deadline.reminder_days == [7, 2]


def test_tss_asks_for_a_status_and_the_forum_presents_it(session, make_user):
    forum = _new_forum(session)
    [plan] = _open(session, date(2026, 2, 3))
    decide(plan, "take_note", make_user("chair@TSS"), "Arbejdsplanen tages til efterretning.")
    assert plan.state == "in_effect" and plan.current_body_id == forum.id
    decide(plan, "request_status", make_user("secretariat@TSS"), "Status på ressourcerne.")
    assert plan.state == "status_requested"
    decide(plan, "present_status", make_user("secretariat@FORUM-NY"), "To opgaver er afsluttet.")
    assert (plan.state, plan.current_body.code) == ("for_tss", "TSS")


def test_without_the_rhythm_in_the_definition_no_work_plan_is_opened(session):
    _new_forum(session)
    definition = registry.latest(session, PROCESS)
    without = "\n".join(
        line for line in definition.source.splitlines() if not line.startswith("opens")
    )
    loosened = parse_definition(without, "states/forum_work_plan.toml")
    assert _open(session, date(2026, 2, 3), [loosened]) == []
    assert _open(session, date(2026, 2, 3), [definition])
