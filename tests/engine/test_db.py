"""SQLite is configured for concurrent use: WAL, synchronous=NORMAL, a busy timeout."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from models import Body, Case, Membership, Role, User
from workflow.engine import core as workflow_engine
from workflow.engine import migrate
from workflow.engine.db import make_engine, make_session_factory
from workflow.organisation import seed

pytestmark = pytest.mark.sqlite_only


@pytest.fixture
def file_engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'concurrency.db'}")
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)
    yield engine
    engine.dispose()


def test_sqlite_pragmas(file_engine):
    with file_engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() >= 5000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_concurrent_transitions_never_hit_database_is_locked(file_engine):
    factory = make_session_factory(file_engine)
    with factory() as session:
        su = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
        chair = User(email="formand@test.dk", name="Formand")
        session.add(chair)
        session.flush()
        session.add(Membership(user_id=chair.id, body_id=su.id, role=Role.CHAIR))
        session.commit()
        ids = []
        for number in range(8):
            case = workflow_engine.create_case(
                session, process="forum_matter", title=f"Sag {number}",
                originating_body=su, actor=chair,
            )  # fmt: skip
            ids.append(case.id)
    errors: list[BaseException] = []

    def work(case_id: int) -> None:
        try:
            with factory() as session:
                case = session.get(Case, case_id)
                actor = session.scalar(select(User).where(User.email == "formand@test.dk"))
                workflow_engine.perform(case, "raise", actor)
                workflow_engine.perform(case, "withdraw", actor, comment="Ikke aktuel")
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(case_id,)) for case_id in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with factory() as session:
        states = session.scalars(select(Case.state).where(Case.id.in_(ids))).all()
    assert states == ["withdrawn"] * len(ids)
