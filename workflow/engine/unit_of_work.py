"""The one commit point: every write of the application ends in `unit_of_work()`.

Operations open a unit of work around their changes; views, API handlers, templates and
models never commit. Units nest: an operation called inside another operation's unit (report a
unit and fire the transition; attach files and answer a consultation) joins it, and only the
outermost unit commits, so the whole is one transaction. On any failure everything written
since the outermost unit began is rolled back; a concurrent change of a versioned row
(SQLAlchemy's StaleDataError) becomes a clear error for the user instead of a lost update.

The outermost unit holds the database's write lock from its start. On SQLite a session's
reads begin deferred (they never wait for the writer), so a unit ends the read-only transaction
it may find and begins its own with BEGIN IMMEDIATE: writers queue on the busy timeout, and
everything the unit reads (a lease, the last audit event) is read under the lock. What was read
before the unit may have changed meanwhile, as on PostgreSQL (READ COMMITTED): the version
columns refuse a stale write of a case or a meeting.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from models import Case
from workflow.engine.db import WRITE_LOCK, begin_sqlite_transaction, holds_write_lock
from workflow.engine.errors import Conflict, StaleChange, WorkflowError

_DEPTH = "aftaleflow.unit_of_work_depth"


def in_unit_of_work(session: Session) -> bool:
    """Whether a unit of work is open on `session` (its operations then join it)."""
    return bool(session.info.get(_DEPTH))


@contextmanager
def unit_of_work(
    session: Session, on_stale: Callable[[], WorkflowError] | None = None
) -> Iterator[Session]:
    """Run the block as (part of) one transaction, committed once by the outermost unit.

    `on_stale` builds the error for a concurrent change (default: `StaleChange`); it runs after
    the rollback, so it may read the current row to say what changed.
    """
    depth = session.info.get(_DEPTH, 0)
    session.info[_DEPTH] = depth + 1
    try:
        if depth == 0:
            _take_write_lock(session)
        yield session
        if depth == 0:
            session.commit()
    except StaleDataError:
        if depth:
            raise  # the outermost unit rolls back once and reports it
        session.rollback()
        raise (on_stale or StaleChange)() from None
    except BaseException:
        if depth == 0:
            session.rollback()
        raise
    finally:
        session.info[_DEPTH] = depth


def _take_write_lock(session: Session) -> None:
    """Make the session's transaction a writer's before the unit reads or writes anything."""
    if isinstance(session.bind, Connection):
        return  # a session on the caller's connection runs in the caller's transaction (tests)
    if not session.in_transaction():
        session.connection(execution_options={WRITE_LOCK: True})  # begins immediate
        return
    connection = session.connection()
    if holds_write_lock(connection) or connection.in_nested_transaction():
        return
    # Only read so far: nothing is lost by ending it, and a deferred transaction that writes
    # after another writer committed fails at once instead of waiting.
    connection.exec_driver_sql("ROLLBACK")
    begin_sqlite_transaction(connection, immediate=True)


def case_conflict(session: Session, case_id: int, version_read: int) -> Callable[[], Conflict]:
    """An `on_stale` for a case: name the version the caller read and the one now stored."""

    def conflict() -> Conflict:
        actual = session.scalar(select(Case.version).where(Case.id == case_id))
        return Conflict(version_read, actual)

    return conflict
