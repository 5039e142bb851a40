"""Reads a page asks for many times, kept on the session while nothing changes.

A case page asks who the user is a member of and which body a code names once per
transition, role and forecast step. The answers are kept in `session.info` and dropped at
every flush, commit and rollback; while the session holds unflushed changes the cache is not
used at all (the query runs, and autoflushes), so a write is always seen.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy import Executable, Result, event
from sqlalchemy.orm import Session

KEY = "engine_session_cache"
T = TypeVar("T")


def cached(session: Session, key: Hashable, load: Callable[[], T]) -> T:
    """Return `load()`, remembered on the session under `key` until the session changes."""
    if session.new or session.dirty or session.deleted:
        return load()
    store: dict[Hashable, Any] = session.info.setdefault(KEY, {})
    if key not in store:
        store[key] = load()
    return store[key]  # type: ignore[no-any-return]


def remember(session: Session, key: Hashable, value: Any) -> None:
    """Keep `value` under `key` as `cached` would keep what its `load` read: for an answer
    another statement read along (a case page's statement says whether the case has any
    expenses, so their own statement is not run for a case with none)."""
    if not (session.new or session.dirty or session.deleted):
        session.info.setdefault(KEY, {})[key] = value


def read(session: Session, statement: Executable, params: dict[str, Any]) -> Result[Any]:
    """Run a Core read (a statement of table columns, built once) on the session, flushing
    pending changes first as a read of mapped attributes would (autoflush; the session skips
    it for Core statements). Half the Python of the same read of mapped attributes; run on
    the session's connection, as Core, since a statement of table columns needs nothing of the
    ORM's execution (about 40 Python calls a read less)."""
    if session.autoflush:
        session.flush()  # returns at once when nothing is pending
    return session.connection().execute(statement, params)


def drop(session: Session, *_args: Any) -> None:
    """Forget everything remembered on the session."""
    session.info.pop(KEY, None)


for _name in ("after_flush", "after_commit", "after_rollback", "after_soft_rollback"):
    event.listen(Session, _name, drop)
