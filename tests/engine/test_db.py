"""SQLite is configured for concurrent use: WAL, synchronous=NORMAL, a busy timeout; reads
begin deferred and never wait for the writer, a unit of work holds the write lock."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import AdminAuditEntry, Body, Case, Membership, Role, User
from workflow.engine import admin_audit, migrate
from workflow.engine import core as workflow_engine
from workflow.engine.db import make_engine, make_session_factory
from workflow.engine.errors import Conflict
from workflow.engine.unit_of_work import unit_of_work
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
        su = session.scalar(select(Body).where(Body.code == "FORUM-DATA"))
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
                decide(case, "raise", actor)
                decide(case, "withdraw", actor, comment="Ikke aktuel")
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


# --- reads are deferred; a unit of work holds the write lock -------------------------------


def _other_writer(engine) -> sqlite3.Connection:
    """A second connection to the file that gives up at once instead of waiting for a lock."""
    other = sqlite3.connect(engine.url.database, timeout=0, isolation_level=None)
    return other


def _can_take_write_lock(engine) -> bool:
    other = _other_writer(engine)
    try:
        other.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as locked:
        assert "locked" in str(locked)
        return False
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
    return True


def test_a_read_takes_no_lock_and_a_unit_of_work_holds_the_write_lock_from_its_start(
    file_engine,
):
    with make_session_factory(file_engine)() as session:
        assert session.scalar(select(func.count()).select_from(Body)) > 0
        assert session.in_transaction()
        assert _can_take_write_lock(file_engine)  # the reader holds nothing
        with unit_of_work(session):
            # Before the unit has written anything, no one else may begin to write.
            assert not _can_take_write_lock(file_engine)
            _marker(session, "held")
        assert _can_take_write_lock(file_engine)


def test_a_read_is_not_blocked_while_another_connection_holds_the_write_lock(file_engine):
    writer = _other_writer(file_engine)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE bodies SET name = 'Uafsluttet' WHERE code = 'TSS'")
    try:
        with make_session_factory(file_engine)() as session:
            tss = session.scalar(select(Body).where(Body.code == "TSS"))
            assert tss is not None and tss.name != "Uafsluttet"  # only what is committed
    finally:
        writer.execute("ROLLBACK")
        writer.close()


def test_a_unit_of_work_after_a_read_waits_for_the_writer_and_writes_after_it(file_engine):
    """The reader's snapshot is older than the other writer's commit: a deferred transaction
    would fail at once (SQLITE_BUSY_SNAPSHOT); the unit waits for the lock and begins anew."""
    factory = make_session_factory(file_engine)
    with factory() as first, factory() as second:
        assert first.scalar(select(func.count()).select_from(AdminAuditEntry)) is not None
        entered = threading.Event()
        errors: list[BaseException] = []

        def wait_then_write() -> None:
            try:
                entered.set()
                with unit_of_work(first):
                    seen = set(first.scalars(select(AdminAuditEntry.object_id)))
                    assert "second" in seen  # it began after the other writer committed
                    _marker(first, "first")
            except BaseException as exc:  # collected and asserted below
                errors.append(exc)

        with unit_of_work(second):
            _marker(second, "second")
            second.flush()
            waiting = threading.Thread(target=wait_then_write)
            waiting.start()
            entered.wait()
            waiting.join(timeout=0.5)
            assert waiting.is_alive()  # queued on the busy timeout behind our lock
        waiting.join()
        assert errors == []
    with factory() as check:
        markers = check.scalars(
            select(AdminAuditEntry.object_id)
            .where(AdminAuditEntry.action == "lock_test")
            .order_by(AdminAuditEntry.id)
        ).all()
    assert markers == ["second", "first"]


def test_a_case_read_before_another_writer_changed_it_is_refused_as_a_conflict(file_engine):
    factory = make_session_factory(file_engine)
    with factory() as setup:
        forum = setup.scalar(select(Body).where(Body.code == "FORUM-HJERNE"))
        chair = User(email="formand.snapshot@test.dk", name="Formand")
        setup.add(chair)
        setup.flush()
        setup.add(Membership(user_id=chair.id, body_id=forum.id, role=Role.CHAIR))
        setup.commit()
        case = workflow_engine.create_case(
            setup, process="forum_matter", title="Læst før", originating_body=forum, actor=chair
        )
        case_id, chair_id = case.id, chair.id
    with factory() as mine, factory() as theirs:
        stale = mine.get(Case, case_id)  # a page was rendered from this snapshot
        me = mine.get(User, chair_id)
        decide(theirs.get(Case, case_id), "withdraw", theirs.get(User, chair_id), comment="Dublet.")
        with pytest.raises(Conflict):
            decide(stale, "raise", me)
    with factory() as check:
        assert check.get(Case, case_id).state == "withdrawn"


def _marker(session: Session, name: str) -> AdminAuditEntry:
    return admin_audit.record(session, action="lock_test", object_type="test", object_id=name)
