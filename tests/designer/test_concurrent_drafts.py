"""Two admins acting on one draft at the same moment, on real connections (SQLite's write lock,
PostgreSQL's row lock and unique constraint): one wins, the other is told of the conflict;
never a lost change, never a server error."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import ProcessDraft, ProcessVersion, User
from workflow.designer import operations
from workflow.designer.operations import StaleDraft
from workflow.engine import migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.engine.processes import registry
from workflow.organisation import seed

OLD_LABEL = 'label = "Rejst i TSS"'


@pytest.fixture
def scratch(db_engine: Engine, tmp_path: Path) -> Iterator[Engine]:
    """A database of its own (committed writes), on the suite's kind of database."""
    if db_engine.dialect.name == "postgresql":
        with scratch_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            engine = make_engine(url)
            yield from _prepared(engine)
        return
    yield from _prepared(make_engine(f"sqlite:///{tmp_path / 'drafts.db'}"))


def _prepared(engine: Engine) -> Iterator[Engine]:
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)
        session.add(User(email="admin@drafts.test", name="Ada Admin", is_admin=True))
        session.commit()
    try:
        yield engine
    finally:
        engine.dispose()


def _at_once(engine: Engine, action: Callable[[Session, User, int], Any]) -> list[str]:
    """Run `action` in two sessions released together; say how each ended."""
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def run(number: int) -> None:
        with Session(engine, expire_on_commit=False) as session:
            admin = session.scalar(select(User).where(User.is_admin))
            assert admin is not None
            barrier.wait()
            try:
                action(session, admin, number)
                outcomes.append("done")
            except StaleDraft:
                outcomes.append("conflict")
            except Exception as exc:  # any other ending fails the test, saying what it was
                outcomes.append(f"error: {exc!r}")

    threads = [threading.Thread(target=run, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return sorted(outcomes)


def test_two_admins_starting_the_same_draft_at_once(scratch: Engine) -> None:
    with Session(scratch) as session:
        published = registry.latest(session, "forum_matter")

    def start(session: Session, admin: User, number: int) -> None:
        text = published.source.replace(OLD_LABEL, f'label = "Udgave {number}"')
        operations.save_draft(
            session, admin, "forum_matter", text, revision=0, base_version=published.version
        )

    assert _at_once(scratch, start) == ["conflict", "done"]
    with Session(scratch) as session:
        drafts = session.scalars(select(ProcessDraft)).all()
        assert len(drafts) == 1 and "Udgave" in drafts[0].source


def test_two_admins_publishing_the_same_draft_at_once(scratch: Engine) -> None:
    with Session(scratch) as session:
        published = registry.latest(session, "forum_matter")
        admin = session.scalar(select(User).where(User.is_admin))
        assert admin is not None
        text = published.source.replace(OLD_LABEL, 'label = "Rejst i styregruppen"')
        draft = operations.save_draft(
            session, admin, "forum_matter", text, revision=0, base_version=published.version
        )
        revision = draft.revision

    def publish(session: Session, admin: User, _number: int) -> None:
        operations.publish_draft(session, admin, "forum_matter", revision=revision)

    assert _at_once(scratch, publish) == ["conflict", "done"]
    with Session(scratch) as session:
        newest = session.scalar(
            select(func.max(ProcessVersion.version)).where(ProcessVersion.name == "forum_matter")
        )
        assert newest == published.version + 1
        assert session.scalar(select(ProcessDraft)) is None
