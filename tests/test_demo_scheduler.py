"""The scheduler on a demo database sweeps on the demo's date (issue 11, item 8)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import CaseEvent, Notification
from workflow import demo, scheduler
from workflow.engine import clock
from workflow.engine.calendar import local_date


@pytest.fixture(scope="module")
def demo_db(db_engine: Engine) -> Iterator[Session]:
    """The demo built once for the module, inside a transaction rolled back afterwards."""
    connection = db_engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    demo.run(session)
    yield session
    session.close()
    transaction.rollback()
    connection.close()


def test_the_database_knows_the_demo_story_date(demo_db):
    assert demo.story_today(demo_db) == demo.load_script().today


def test_a_sweep_on_the_demo_clock_writes_nothing_after_the_story(demo_db, monkeypatch):
    today = demo.story_today(demo_db)
    assert today is not None
    clock.reset()
    clock.run_from(today)
    last_event = demo_db.scalar(select(func.max(CaseEvent.id))) or 0
    report = scheduler.sweep(demo_db)
    assert not report.skipped
    assert report.examined > 0  # the demo has open deadlines to look at
    written = demo_db.scalars(select(CaseEvent).where(CaseEvent.id > last_event)).all()
    story_day = local_date(today)
    assert all(local_date(e.created_at) <= story_day for e in written)
    newest_event = demo_db.scalar(select(func.max(CaseEvent.created_at)))
    newest_notice = demo_db.scalar(select(func.max(Notification.created_at)))
    assert newest_event is not None and local_date(newest_event) <= story_day
    assert newest_notice is not None and local_date(newest_notice) <= story_day


def test_no_demo_decision_names_a_meeting_that_had_not_begun(demo_db):
    from models import Meeting

    today = demo.story_today(demo_db)
    assert today is not None
    decisions = demo_db.execute(
        select(CaseEvent, Meeting).join(Meeting, Meeting.id == CaseEvent.meeting_id)
    ).all()
    decided = [(e, m) for e, m in decisions if "decision_body" in (e.data or {})]
    assert decided  # the demo records decisions at meetings
    assert all(m.starts_at <= e.created_at <= today for e, m in decided)
    # Putting a case on an agenda is recorded as that, never as a decision.
    placed = [e for e, _m in decisions if e.trigger == "added_to_agenda"]
    assert placed
    assert not any("decision_body" in (e.data or {}) for e in placed)
