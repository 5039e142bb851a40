"""The engine clock: frozen in tests, shifted for the demo, real otherwise."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from workflow.engine import clock


def test_frozen_clock_advances_only_when_told(frozen_clock):
    assert clock.now() == frozen_clock
    assert clock.advance(timedelta(days=2)) == frozen_clock + timedelta(days=2)


def test_shifted_clock_runs_from_the_demo_date(monkeypatch):
    clock.reset()
    story_today = datetime(2021, 5, 27, 10, 0, tzinfo=UTC)
    clock.run_from(story_today)
    assert clock.is_shifted()
    first = clock.now()
    assert abs(first - story_today) < timedelta(seconds=5)
    assert clock.now() >= first  # it keeps running


def test_column_defaults_follow_the_engine_clock(session, frozen_clock):
    from models import User

    user = User(email="ur@test.dk", name="Ur")
    session.add(user)
    session.flush()
    assert user.created_at == frozen_clock
