"""Slow down password guessing: failed attempts counted per account and per client address.

The counters live in the database (`login_throttles`), not in process memory, so they hold
across worker processes and servers with no extra service to run: every deployment already
shares its database. A failure is one atomic upsert (`INSERT … ON CONFLICT DO UPDATE`, on
SQLite and PostgreSQL alike), so concurrent failures from several workers are all counted.

After a rule's free failures each further failure locks the key for twice as long as the
last, up to an hour; failures are forgotten an hour after the last lock (or failure) ended.
Keys are hashes of the typed e-mail or the address, so an unknown e-mail is counted and
refused exactly like a real one: the answer never tells whether an account exists.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import case, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import LoginThrottle
from workflow.engine import clock
from workflow.engine.unit_of_work import unit_of_work

FORGET_AFTER = timedelta(hours=1)
MAX_LOCK = timedelta(hours=1)


@dataclass(frozen=True)
class Rule:
    """What is counted under one name, and how many failures are free before a lock."""

    name: str
    free_failures: int

    def key(self, value: str) -> str:
        digest = hashlib.sha256(value.strip().lower().encode("utf-8")).hexdigest()
        return f"{self.name}:{digest}"


# A hospital or a municipality reaches us through one address, so the address allows more.
LOGIN_ACCOUNT = Rule("login-konto", 5)
LOGIN_ADDRESS = Rule("login-adresse", 30)
# Each reset request counts: a few mails an hour to one address, a few more from one client.
RESET_ACCOUNT = Rule("nulstil-konto", 3)
RESET_ADDRESS = Rule("nulstil-adresse", 10)


def lock_after(failures: int, free_failures: int) -> timedelta | None:
    """How long `failures` in a row lock the key: none while free, then 1, 2, 4 … minutes."""
    if failures < free_failures:
        return None
    return min(timedelta(minutes=2 ** min(failures - free_failures, 16)), MAX_LOCK)


def locked_for(session: Session, keys: Iterable[str]) -> timedelta | None:
    """The longest time left on any lock of `keys`, or None when none is locked now."""
    now = clock.now()
    latest = session.scalar(
        select(func.max(LoginThrottle.locked_until)).where(
            LoginThrottle.key.in_(list(keys)), LoginThrottle.locked_until > now
        )
    )
    return None if latest is None else latest - now


def minutes_left(remaining: timedelta) -> int:
    """Whole minutes to tell the user, rounded up (never 0)."""
    return max(1, math.ceil(remaining.total_seconds() / 60))


def record_failure(session: Session, rule: Rule, value: str) -> None:
    """Count one failure of `value` under `rule` (committed), locking it when due."""
    key = rule.key(value)
    now = clock.now()
    forgotten = func.coalesce(LoginThrottle.locked_until, LoginThrottle.last_failure_at) < (
        now - FORGET_AFTER
    )
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    first = insert(LoginThrottle).values(
        key=key, failures=1, last_failure_at=now, locked_until=None
    )
    statement = first.on_conflict_do_update(
        index_elements=[LoginThrottle.key],
        set_={
            "failures": case((forgotten, 1), else_=LoginThrottle.failures + 1),
            "locked_until": case((forgotten, None), else_=LoginThrottle.locked_until),
            "last_failure_at": now,
        },
    ).returning(LoginThrottle.failures)
    with unit_of_work(session):
        failures = int(session.execute(statement).scalar_one())
        lock = lock_after(failures, rule.free_failures)
        if lock is not None:
            session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(locked_until=now + lock)
                .execution_options(synchronize_session=False)
            )


def clear(session: Session, rule: Rule, value: str) -> None:
    """Forget the failures of `value` under `rule` (after it proved itself; committed)."""
    with unit_of_work(session):
        session.execute(
            update(LoginThrottle)
            .where(LoginThrottle.key == rule.key(value))
            .values(failures=0, locked_until=None)
            .execution_options(synchronize_session=False)
        )
