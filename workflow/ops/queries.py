"""What an operator needs to know, read from the database: the scheduler's heartbeat and last
sweeps, the outbox's queue and failures, the audit checkpoint, the database and the version.

`/readyz`, `/metrics` and the operations page all read these, so they never disagree.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import Engine, and_, func, not_, select, text
from sqlalchemy.orm import Session

import workflow
from models import Notification, SchedulerLock
from workflow.engine import clock
from workflow.notifications.delivery import CANCELLED_PREFIX, env_int
from workflow.scheduler import (
    CHECKPOINT_LOCK_NAME,
    LOCK_NAME,
    PLANS_RECORD_NAME,
    SchedulerConfig,
)

HEARTBEAT_ENV = "AFTALEFLOW_HEARTBEAT_LIMIT"


def heartbeat_limit(environ: Mapping[str, str] | None = None) -> timedelta:
    """How old the scheduler's last sweep may be before it counts as stopped: the setting
    AFTALEFLOW_HEARTBEAT_LIMIT (seconds), else three sweep intervals (the sweeper's lease)."""
    env = os.environ if environ is None else environ
    seconds = env_int(env, HEARTBEAT_ENV, 0, minimum=0, maximum=7 * 24 * 3600)
    if seconds:
        return timedelta(seconds=seconds)
    return SchedulerConfig.from_env(env).lock_ttl


@dataclass(frozen=True)
class Run:
    """One recent run of the sweep, as the lease row keeps it."""

    at: datetime | None
    seconds: float
    full: bool = False
    examined: int = 0
    reminders: int = 0
    overdue: int = 0
    escalated: int = 0
    digests: int = 0
    error: str | None = None


@dataclass(frozen=True)
class PlanOutcome:
    """What the scheduler last did with an approved reorganisation plan."""

    plan: str
    at: datetime | None
    applied: bool
    problems: list[tuple[str, str]] = field(default_factory=list)


def _plan_outcome(entry: dict[str, Any]) -> PlanOutcome:
    problems = [
        (str(p[0]), str(p[1]))
        for p in entry.get("problems") or []
        if isinstance(p, list | tuple) and len(p) == 2
    ]
    return PlanOutcome(
        plan=str(entry.get("plan") or "?"),
        at=_parse_time(entry.get("at")),
        applied=bool(entry.get("applied")),
        problems=problems,
    )


@dataclass(frozen=True)
class SchedulerStatus:
    """The scheduler as the database shows it."""

    heartbeat: datetime | None
    holder: str | None
    lease_until: datetime | None
    limit: timedelta
    now: datetime
    last_duration: float | None
    runs: list[Run] = field(default_factory=list)
    checkpoint_at: datetime | None = None
    plans: list[PlanOutcome] = field(default_factory=list)

    @property
    def age(self) -> timedelta | None:
        """How long ago the last sweep was (None: never)."""
        return None if self.heartbeat is None else max(self.now - self.heartbeat, timedelta(0))

    @property
    def fresh(self) -> bool:
        """Whether a scheduler has swept within the limit."""
        age = self.age
        return age is not None and age <= self.limit

    @property
    def checkpoint_age(self) -> timedelta | None:
        if self.checkpoint_at is None:
            return None
        return max(self.now - self.checkpoint_at, timedelta(0))


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _number(value: Any) -> int:
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _run(entry: dict[str, Any]) -> Run:
    try:
        seconds = float(entry.get("seconds") or 0.0)
    except (TypeError, ValueError):
        seconds = 0.0
    error = entry.get("error")
    return Run(
        at=_parse_time(entry.get("at")),
        seconds=seconds,
        full=bool(entry.get("full")),
        examined=_number(entry.get("examined")),
        reminders=_number(entry.get("reminders")),
        overdue=_number(entry.get("overdue")),
        escalated=_number(entry.get("escalated")),
        digests=_number(entry.get("digests")),
        error=str(error) if error else None,
    )


def scheduler_status(
    session: Session, now: datetime | None = None, limit: timedelta | None = None
) -> SchedulerStatus:
    """The sweep's heartbeat (its last completed sweep), lease, last runs and the last audit
    checkpoint, in one statement."""
    rows = {
        row.name: row
        for row in session.scalars(
            select(SchedulerLock).where(
                SchedulerLock.name.in_([LOCK_NAME, CHECKPOINT_LOCK_NAME, PLANS_RECORD_NAME])
            )
        )
    }
    sweep = rows.get(LOCK_NAME)
    checkpoint = rows.get(CHECKPOINT_LOCK_NAME)
    runs = [
        _run(entry) for entry in (sweep.recent or [] if sweep else []) if isinstance(entry, dict)
    ]
    return SchedulerStatus(
        heartbeat=sweep.swept_until if sweep else None,
        holder=sweep.holder if sweep else None,
        lease_until=sweep.expires_at if sweep else None,
        limit=limit or heartbeat_limit(),
        now=now or clock.now(),
        last_duration=sweep.last_duration if sweep else None,
        runs=runs,
        checkpoint_at=checkpoint.swept_until if checkpoint else None,
        plans=[
            _plan_outcome(entry)
            for entry in (rows[PLANS_RECORD_NAME].recent or [] if PLANS_RECORD_NAME in rows else [])
            if isinstance(entry, dict)
        ],
    )


def _given_up() -> Any:
    return and_(
        Notification.failed_at.is_not(None),
        not_(func.coalesce(Notification.last_error, "").like(f"{CANCELLED_PREFIX}%")),
    )


def _waiting() -> Any:
    return and_(Notification.sent_at.is_(None), Notification.failed_at.is_(None))


@dataclass(frozen=True)
class OutboxStatus:
    """The outbox: what waits to be delivered and what was given up on."""

    pending: int
    retrying: int
    oldest_pending: datetime | None
    failed: int
    now: datetime

    @property
    def oldest_age(self) -> timedelta | None:
        if self.oldest_pending is None:
            return None
        return max(self.now - self.oldest_pending, timedelta(0))


def outbox_status(session: Session, now: datetime | None = None) -> OutboxStatus:
    """Count the waiting notifications (through the pending index), those waiting after a
    failed attempt, the oldest waiting one's age, and those given up on (not withdrawn)."""
    pending, retrying, oldest = session.execute(
        select(
            func.count(),
            func.count().filter(Notification.attempts > 0),
            func.min(Notification.created_at),
        ).where(_waiting())
    ).one()
    failed = session.scalar(select(func.count()).where(_given_up())) or 0
    return OutboxStatus(
        pending=int(pending or 0),
        retrying=int(retrying or 0),
        oldest_pending=oldest,
        failed=int(failed),
        now=now or clock.now(),
    )


def failed_deliveries(session: Session, limit: int = 50) -> list[Notification]:
    """The notifications given up on, newest first (withdrawn ones left out)."""
    return list(
        session.scalars(
            select(Notification)
            .where(_given_up())
            .order_by(Notification.failed_at.desc(), Notification.id.desc())
            .limit(limit)
        )
    )


@dataclass(frozen=True)
class DatabaseStatus:
    """Whether the database answers and stands at the migrations' head."""

    reachable: bool
    dialect: str
    server_version: str
    revisions: tuple[str, ...]
    heads: tuple[str, ...]
    error: str | None = None

    @property
    def at_head(self) -> bool:
        return self.reachable and bool(self.heads) and set(self.revisions) == set(self.heads)


@cache
def _code_heads() -> tuple[str, ...]:
    """The migrations' heads this code carries (read once per process)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from workflow.engine.paths import resource_dir

    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    return tuple(sorted(ScriptDirectory.from_config(config).get_heads()))


def database_status(session: Session) -> DatabaseStatus:
    """Ask the database for its version and migration revisions; never raises."""
    bind = session.get_bind()
    dialect = bind.dialect.name
    try:
        session.execute(text("SELECT 1"))
        if dialect == "sqlite":
            version = str(session.scalar(text("SELECT sqlite_version()")))
        else:
            version = str(session.scalar(text("SHOW server_version")))
        revisions = tuple(
            sorted(str(r) for r in session.scalars(text("SELECT version_num FROM alembic_version")))
        )
    except Exception as error:  # the database is down or not initialised: say so, do not fail
        # (the caller reads nothing more in this transaction: on PostgreSQL it is aborted now)
        return DatabaseStatus(False, dialect, "", (), _code_heads(), type(error).__name__)
    return DatabaseStatus(True, dialect, version, revisions, _code_heads())


@dataclass(frozen=True)
class PoolStatus:
    """This process's connection pool (None values: the pool has no such number)."""

    size: int | None
    checked_out: int | None
    overflow: int | None


def pool_status(engine: Engine | None) -> PoolStatus | None:
    """The pool of the engine this process serves requests from, if it owns one."""
    if engine is None:
        return None
    pool: Any = engine.pool

    def number(name: str) -> int | None:
        method = getattr(pool, name, None)
        try:
            return int(method()) if callable(method) else None
        except (TypeError, ValueError):
            return None

    return PoolStatus(number("size"), number("checkedout"), number("overflow"))


@dataclass(frozen=True)
class VersionInfo:
    """What runs: the application's and Python's versions and the host."""

    application: str
    python: str
    host: str


def version_info() -> VersionInfo:
    return VersionInfo(workflow.__version__, platform.python_version(), platform.node())
