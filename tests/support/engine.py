"""Helpers for the engine's tests: meetings, and the rows a case has written."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import Body, Case, CaseEvent, Deadline, Meeting, MeetingStatus, Notification
from workflow.engine import clock, migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed


def migrate_and_seed(engine: Engine) -> None:
    """Bring the database to the newest schema and load the real organisation and the process
    definitions (committed)."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)


@pytest.fixture(scope="session")
def private_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """A database of its own, migrated and seeded, for tests that commit for real.

    Committed rows can never be deleted, so they would show up in other tests' counts.
    """
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            yield from _prepared(url)
        return
    yield from _prepared(f"sqlite:///{tmp_path_factory.mktemp('private') / 'private.db'}")


def _prepared(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    migrate_and_seed(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def empty_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database of the test's own, not migrated (for migrations and the volume
    generator, which commit): a scratch database on $TEST_DATABASE_URL's server when the suite
    runs on PostgreSQL, else a SQLite file."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            engine = make_engine(url)
            yield engine
            engine.dispose()
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def fresh_url(tmp_path: Path) -> Iterator[str]:
    """The address of a migrated, seeded database of the test's own whose commits are real: a
    SQLite file, or a scratch database on $TEST_DATABASE_URL's server when the suite runs on
    PostgreSQL. For tests with several connections or processes, tests that cut connections,
    and tests that must see only their own rows (`audit verify`)."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            _migrate_and_seed_url(url)
            yield url
        return
    url = f"sqlite:///{tmp_path / 'fresh.db'}"
    _migrate_and_seed_url(url)
    yield url


def _migrate_and_seed_url(url: str) -> None:
    engine = make_engine(url)
    migrate_and_seed(engine)
    engine.dispose()


@pytest.fixture
def make_meeting(session: Session, body: Callable[[str], Body]) -> Callable[..., Meeting]:
    """Add a meeting of a body, by default one that started two hours ago."""

    def create(
        code: str, starts_at: datetime | None = None, status: MeetingStatus = MeetingStatus.HELD
    ) -> Meeting:
        meeting = Meeting(
            body_id=body(code).id,
            title=f"Møde i {code}",
            starts_at=starts_at or clock.now() - timedelta(hours=2),
            status=status,
        )
        session.add(meeting)
        session.commit()
        return meeting

    return create


@pytest.fixture
def footprint(session: Session) -> Callable[[Case], dict[str, Any]]:
    """What a case has in the database: state, version, events, deadlines and notifications."""

    def read(case: Case) -> dict[str, Any]:
        session.expire_all()
        row = session.execute(
            select(Case.state, Case.version, Case.current_body_id, Case.extra).where(
                Case.id == case.id
            )
        ).one()

        def count(model: Any) -> int:
            return session.scalar(
                select(func.count()).select_from(model).where(model.case_id == case.id)
            )

        return {
            "state": row.state,
            "version": row.version,
            "current_body_id": row.current_body_id,
            "extra": row.extra,
            "events": count(CaseEvent),
            "deadlines": count(Deadline),
            "open_deadlines": session.scalar(
                select(func.count())
                .select_from(Deadline)
                .where(
                    Deadline.case_id == case.id,
                    Deadline.met_at.is_(None),
                    Deadline.cancelled_at.is_(None),
                )
            ),
            "notifications": count(Notification),
        }

    return read
