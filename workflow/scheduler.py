"""The scheduler: one periodic sweep writes due reminders, overdue notices, escalations and
digests to the outbox; a second job delivers the outbox (workflow.notifications.delivery), a
third the webhooks (workflow.webhooks.delivery).

One sweep, not a job per case. A sweep looks only at what became due since the previous one:
deadlines whose reminder moment, due time or escalation point fell in (last sweep, now], and
deadlines created since. So a tick's cost grows with what is due, not with the number of cases.
Because a deadline can be moved in place, carry a reminder offset no stored process definition
names, or (on PostgreSQL) commit after a later one, a full sweep over every open deadline near
its due time runs once an hour (and on the first tick) as well. Due work is
found from our own rows and every notification has an idempotency key, so a missed tick loses
nothing and a repeated or concurrent one doubles nothing.

One sweeper at a time: on PostgreSQL the holder of an advisory lock, on SQLite the holder of
the lease in `scheduler_locks` (renewed each tick, taken over when it expires).

Once a Danish day a third job appends a signed checkpoint of every audit chain's head to the
checkpoint file (workflow.engine.checkpoints), under a lease of its own chosen the same way.

Reminders go out at a configured hour of the Danish day (08:00 by default), computed per date
in Europe/Copenhagen so daylight saving never shifts them; with `skip_weekends` a reminder that
would fall on a Saturday, Sunday or Danish public holiday goes out on the working day before.
"""

from __future__ import annotations

import functools
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from sqlalchemy import ColumnElement, Engine, and_, func, or_, select, text
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, DeadlineKind, Meeting, ProcessVersion, Role, SchedulerLock
from workflow.cases import rhythms
from workflow.consultations import operations as consultations
from workflow.engine import checkpoints, clock, metrics, request_id
from workflow.engine.calendar import is_working_day, local_date
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.core import append_event, body_now, definition_of, successor_for
from workflow.engine.errors import WorkflowError
from workflow.engine.mail_text import N_, Partial, Text, bilingual, day, moment
from workflow.engine.outbox import CHAIRS_AND_SECRETARIAT, enqueue, enqueue_many, members_of
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import unit_of_work
from workflow.meetings import minutes
from workflow.notifications import delivery as notify
from workflow.notifications import digest
from workflow.notifications.delivery import SmtpConfig, env_bool, env_int
from workflow.notifications.digest import at_local
from workflow.webhooks import delivery as webhooks

if TYPE_CHECKING:
    # APScheduler is imported where a scheduler is started, not by the web app, which
    # imports this module for its constants and the status page (cold start).
    from apscheduler.schedulers.background import BackgroundScheduler
    from apscheduler.schedulers.base import BaseScheduler

log = logging.getLogger(__name__)

SWEEP_LOCK_KEY = 0x4166_7466  # "Aftf": the PostgreSQL advisory lock electing one sweeper
LOCK_NAME = "sweep"
# The daily audit checkpoint has a lease of its own, so it never waits for (or skips because
# of) a sweep running at the same moment; its row's swept_until is the last checkpoint.
CHECKPOINT_LOCK_KEY = 0x4166_7463  # "Aftc"
CHECKPOINT_LOCK_NAME = "audit_checkpoint"
RHYTHMS_LOCK_KEY = 0x4166_7472  # "Aftr"
RHYTHMS_LOCK_NAME = "rhythms"
# Not a lease: the row keeps the scheduler's last outcome per approved reorganisation plan
# (applied, or refused and why) for the operations page.
PLANS_RECORD_NAME = "reorganisations"
_TOKEN = uuid.uuid4().hex[:8]
_Done = TypeVar("_Done")
RECENT_RUNS = 10
# Where an overdue deadline of a body without a parent escalates (its successor after a
# reorganisation).
ESCALATION_BODY = "TSS"  # the runs kept on the lease row for the operations page


@dataclass(frozen=True)
class SchedulerConfig:
    """When the scheduler sweeps and when its messages go out (Danish local time)."""

    interval: float = 60.0
    delivery_interval: float = 15.0
    reminder_hour: int = 8
    skip_weekends: bool = False
    digest_hour: int = 8
    weekly_weekday: int = 1  # ISO weekday: 1 = Monday
    full_sweep_minutes: int = 60
    plans_dir: str | None = None  # approved reorganisation plans (data/reorganisations/)

    @property
    def lock_ttl(self) -> timedelta:
        """How long a sweeper's lease lasts without renewal: three missed ticks."""
        return timedelta(seconds=3 * self.interval)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SchedulerConfig:
        """Read AFTALEFLOW_SCHEDULER_*, AFTALEFLOW_REMINDER_*, AFTALEFLOW_*DIGEST_* settings."""
        env = os.environ if environ is None else environ
        return cls(
            interval=env_int(env, "AFTALEFLOW_SCHEDULER_INTERVAL", 60, minimum=1, maximum=3600),
            delivery_interval=env_int(
                env, "AFTALEFLOW_DELIVERY_INTERVAL", 15, minimum=1, maximum=3600
            ),
            reminder_hour=env_int(env, "AFTALEFLOW_REMINDER_HOUR", 8, maximum=23),
            skip_weekends=env_bool(env, "AFTALEFLOW_REMINDER_SKIP_WEEKENDS", False),
            digest_hour=env_int(env, "AFTALEFLOW_DIGEST_HOUR", 8, maximum=23),
            weekly_weekday=env_int(env, "AFTALEFLOW_WEEKLY_DIGEST_WEEKDAY", 1, minimum=1,
                                   maximum=7),
            full_sweep_minutes=env_int(env, "AFTALEFLOW_FULL_SWEEP_MINUTES", 60, minimum=1),
            plans_dir=env.get("AFTALEFLOW_REORGANISATIONS_DIR") or None,
        )  # fmt: skip


@dataclass
class SweepReport:
    """What one sweep did."""

    reminders: int = 0
    overdue: int = 0
    escalated: int = 0
    digests: int = 0
    weekly: int = 0
    examined: int = 0
    full: bool = False
    skipped: bool = False
    plans_applied: list[str] = field(default_factory=list)
    plans_refused: list[str] = field(default_factory=list)

    def summary(self) -> str:
        """Describe the sweep in one Danish line."""
        if self.skipped:
            return "En anden planlægger fejer lige nu; intet gjort."
        line = (
            f"{self.reminders} påmindelser, {self.overdue} overskredne frister og "
            f"{self.escalated} eskaleringer registreret"
        )
        if self.digests or self.weekly:
            line += f"; {self.digests} daglige og {self.weekly} ugentlige oversigter skrevet"
        if self.plans_applied:
            line += f"; reorganisering gennemført: {', '.join(self.plans_applied)}"
        if self.plans_refused:
            line += f"; reorganisering afvist: {', '.join(self.plans_refused)}"
        return line + "."


# --- time rules ---------------------------------------------------------------------------


def _previous_working_day(day: date) -> date:
    while not is_working_day(day):
        day -= timedelta(days=1)
    return day


# Ten thousand deadlines due together share a handful of due moments: each is worked out once.
@functools.lru_cache(maxsize=4096)
def reminder_moment(due_at: datetime, offset: int, config: SchedulerConfig) -> datetime:
    """When the reminder `offset` days before a deadline goes out: the hour, Danish time."""
    day = local_date(due_at) - timedelta(days=offset)
    if config.skip_weekends:
        day = _previous_working_day(day)
    return at_local(day, config.reminder_hour)


def due_reminder(
    deadline: Deadline | DueDeadline, now: datetime, config: SchedulerConfig
) -> int | None:
    """Return the most recent reminder offset (days) whose moment has come, if still ahead."""
    if deadline.due_at <= now:
        return None
    passed = [
        offset
        for offset in deadline.reminder_days
        if (moment := reminder_moment(deadline.due_at, offset, config)) <= now
        and moment < deadline.due_at
    ]
    return min(passed) if passed else None


def _moment_dates(after: datetime, until: datetime, hour: int) -> tuple[date, date] | None:
    """Return the first and last Danish dates whose `hour` falls in (after, until]."""
    first = local_date(after)
    if at_local(first, hour) <= after:
        first += timedelta(days=1)
    last = local_date(until)
    if at_local(last, hour) > until:
        last -= timedelta(days=1)
    return (first, last) if first <= last else None


def _start_of_day(day: date) -> datetime:
    return at_local(day, 0)


def reminder_windows(
    after: datetime, until: datetime, offsets: frozenset[int], config: SchedulerConfig
) -> list[tuple[datetime, datetime]]:
    """Ranges [start, end) of due times whose reminder moment falls in (after, until]."""
    dates = _moment_dates(after, until, config.reminder_hour)
    if dates is None:
        return []
    first, last = dates
    if config.skip_weekends:
        # A moment on a working day also carries the days up to the next working day.
        last += timedelta(days=1)
        while not is_working_day(last):
            last += timedelta(days=1)
        last -= timedelta(days=1)
    return [
        (_start_of_day(first + timedelta(days=d)), _start_of_day(last + timedelta(days=d + 1)))
        for d in sorted(offsets)
    ]


# --- leader election ----------------------------------------------------------------------


def default_holder() -> str:
    """Name this process as a lease holder (host, pid and a random token)."""
    return f"{socket.gethostname()}:{os.getpid()}:{_TOKEN}"


def _lease_is_free(row: SchedulerLock, holder: str, now: datetime, ttl: timedelta) -> bool:
    if row.holder in (None, holder) or row.expires_at is None:
        return True
    # Expired, or set by a clock far ahead of ours (a lease never lasts longer than ttl).
    return row.expires_at <= now or row.expires_at > now + ttl


def _lead(
    session: Session,
    holder: str,
    now: datetime,
    config: SchedulerConfig,
    name: str = LOCK_NAME,
    key: int = SWEEP_LOCK_KEY,
) -> SchedulerLock | None:
    """Take the lease `name` for this transaction, or return None if another process has it."""
    postgres = session.get_bind().dialect.name == "postgresql"
    if postgres and not session.scalar(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": key}
    ):
        return None
    # On SQLite the unit of work holds the write lock from its start (BEGIN IMMEDIATE), so
    # no other sweeper can take the lease between this read and our write.
    row = session.get(SchedulerLock, name, populate_existing=True)
    if row is None:
        row = SchedulerLock(name=name, last_deadline_id=0)
        session.add(row)
    elif not postgres and not _lease_is_free(row, holder, now, config.lock_ttl):
        return None
    row.holder = holder
    row.expires_at = now + config.lock_ttl
    return row


def release(session: Session, holder: str | None = None) -> None:
    """Give up this process's lease so a standby sweeper can take over at once."""
    with unit_of_work(session):
        row = session.get(SchedulerLock, LOCK_NAME, populate_existing=True)
        if row is not None and row.holder == (holder or default_holder()):
            row.holder = None
            row.expires_at = None


# --- what to look at ----------------------------------------------------------------------


@dataclass(frozen=True)
class _Rules:
    offsets: frozenset[int]
    escalation_days: frozenset[int]


_rules_cache: dict[tuple[tuple[str, int, str], ...], _Rules] = {}


def _rules(session: Session) -> _Rules:
    """Every reminder offset and escalation period of the stored process versions."""
    versions = tuple(
        session.execute(
            select(ProcessVersion.name, ProcessVersion.version, ProcessVersion.sha256).order_by(
                ProcessVersion.name, ProcessVersion.version
            )
        ).tuples()
    )
    cached = _rules_cache.get(versions)
    if cached is not None:
        return cached
    offsets: set[int] = set()
    escalation: set[int] = set()
    for name, version, _sha in versions:
        definition = registry.get(session, name, version)
        escalation.add(definition.escalation_days)
        for state in definition.states.values():
            offsets.update(state.reminders)
    rules = _Rules(frozenset(offsets), frozenset(escalation))
    _rules_cache[versions] = rules
    return rules


def _open() -> ColumnElement[bool]:
    return and_(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))


class DueDeadline(NamedTuple):
    """What the sweep reads of an open deadline and its case: plain values from one query,
    not ORM objects (loading and tracking ten thousand of them cost seconds). The few it
    escalates are loaded as objects then."""

    id: int
    case_id: int
    kind: DeadlineKind
    body_id: int | None
    meeting_id: int | None
    due_at: datetime
    reminder_days: list[int]
    escalation_level: int
    met_at: datetime | None
    cancelled_at: datetime | None
    case_title: str
    originating_body_id: int
    process: str
    process_version: int

    @property
    def is_open(self) -> bool:
        return self.met_at is None and self.cancelled_at is None


class _CaseRef(NamedTuple):
    """The case of a reminder, as far as a reminder needs it."""

    id: int
    title: str
    originating_body_id: int


_DUE_COLUMNS = (
    Deadline.id, Deadline.case_id, Deadline.kind, Deadline.body_id, Deadline.meeting_id,
    Deadline.due_at, Deadline.reminder_days, Deadline.escalation_level, Deadline.met_at,
    Deadline.cancelled_at, Case.title, Case.originating_body_id, Case.process,
    Case.process_version,
)  # fmt: skip


def _due_rows(session: Session, query: Any) -> list[DueDeadline]:
    """Run a select of _DUE_COLUMNS and return its rows as DueDeadline values."""
    # On the session's connection, as Core: the ORM's result handling of plain columns costs
    # as much again per row, for ten thousand rows. Flushed first, as the ORM would.
    session.flush()
    return [DueDeadline._make(row) for row in session.connection().execute(query)]


def _select_due() -> Any:
    return select(*_DUE_COLUMNS).join(Case, Case.id == Deadline.case_id)


def _needs_full_sweep(row: SchedulerLock, now: datetime, config: SchedulerConfig) -> bool:
    last = row.swept_until
    if last is None or last > now or row.full_sweep_at is None or row.full_sweep_at > now:
        return True  # first tick, or the clock went back
    return now - row.full_sweep_at >= timedelta(minutes=config.full_sweep_minutes)


def _full_candidates(session: Session, now: datetime, rules: _Rules) -> list[DueDeadline]:
    # Reminders move at most a few days earlier past weekends and holidays.
    horizon = now + timedelta(days=max(rules.offsets, default=0) + 7)
    query = _select_due().where(
        _open(),
        Deadline.due_at <= horizon,
        or_(Deadline.due_at > now, Deadline.escalation_level < 2),
    )
    return _due_rows(session, query.order_by(Deadline.due_at, Deadline.id))


def _window_candidates(
    session: Session,
    after: datetime,
    now: datetime,
    after_id: int,
    rules: _Rules,
    config: SchedulerConfig,
) -> list[DueDeadline]:
    """Open deadlines whose state may have changed in (after, now]: each through an index."""
    # Created (or re-planned) since the last sweep: by primary key alone, so no planner is
    # tempted to walk the due-time index instead; the few new rows are filtered here.
    found: dict[int, DueDeadline] = {
        deadline.id: deadline
        for deadline in _due_rows(
            session, _select_due().where(Deadline.id > after_id).order_by(Deadline.id)
        )
        if deadline.is_open
    }
    conditions: list[ColumnElement[bool]] = [
        and_(Deadline.due_at > after, Deadline.due_at <= now),  # became overdue
    ]
    for days in sorted(rules.escalation_days):
        span = timedelta(days=days + 1)  # escalates when more than `days` whole days over
        conditions.append(and_(Deadline.due_at > after - span, Deadline.due_at <= now - span))
    for start, end in reminder_windows(after, now, rules.offsets, config):
        conditions.append(and_(Deadline.due_at >= start, Deadline.due_at < end))
    for condition in conditions:
        for deadline in _due_rows(session, _select_due().where(_open(), condition)):
            found[deadline.id] = deadline
    return sorted(found.values(), key=lambda d: (d.due_at, d.id))


# --- acting on a deadline -----------------------------------------------------------------


# Many deadlines of a sweep fall due at the same moment: spell each moment once (Babel's
# formatting costs about as much as the rest of a reminder).
@functools.lru_cache(maxsize=4096)
def _date_text(value: datetime) -> Text:
    return day(value)


@functools.lru_cache(maxsize=4096)
def _moment_text(value: datetime) -> Text:
    return moment(value)


@functools.lru_cache(maxsize=64)
def _left(days: int) -> Text:
    if days <= 0:
        return bilingual("i dag")
    return bilingual("i morgen") if days == 1 else bilingual("om %(days)s dage", days=days)


def _days_left(due_at: datetime, now: datetime) -> Text:
    return _left((local_date(due_at) - local_date(now)).days)


@functools.cache
def _kind_text(kind: DeadlineKind) -> Text:
    return {
        DeadlineKind.MATERIAL: bilingual("Materialefristen"),
        DeadlineKind.STATE: bilingual("Fristen for behandlingen"),
        DeadlineKind.CONSULTATION: bilingual("Høringsfristen"),
        DeadlineKind.FOLLOW_UP: bilingual("Fristen for opfølgningen"),
    }[kind]


def _what(session: Session, deadline: Deadline | DueDeadline) -> Text:
    if deadline.kind is DeadlineKind.MATERIAL and deadline.meeting_id is not None:
        meeting = session.get(Meeting, deadline.meeting_id)
        if meeting is not None:
            return bilingual(
                "Materialefristen til mødet %(start)s", start=_moment_text(meeting.starts_at)
            )
    return _kind_text(deadline.kind)


_Members = dict[tuple[int, tuple[Role, ...]], list[int]]


def _members(session: Session, body_id: int, roles: tuple[Role, ...], cache: _Members) -> list[int]:
    found = cache.get((body_id, roles))
    if found is None:
        found = cache[(body_id, roles)] = members_of(session, body_id, roles)
    return found


def reminder_recipients(
    session: Session,
    case: Case | _CaseRef,
    deadline: Deadline | DueDeadline,
    cache: _Members | None = None,
) -> list[int]:
    """Who is reminded of a deadline: the chairs and secretariat of the body that must act.

    A materialefrist asks for the case's material, which the body that raised the case
    delivers; the holding body's secretariat, which prepares the meeting, hears of it too —
    its chair does not, until the deadline is overdue (escalation)."""
    assert deadline.body_id is not None
    cache = cache if cache is not None else {}
    chairs = tuple(CHAIRS_AND_SECRETARIAT)
    if deadline.kind is not DeadlineKind.MATERIAL or case.originating_body_id == deadline.body_id:
        return _members(session, deadline.body_id, chairs, cache)
    acting = _members(session, case.originating_body_id, chairs, cache)
    preparing = _members(session, deadline.body_id, (Role.SECRETARIAT,), cache)
    return sorted(set(acting) | set(preparing))


class _Tick:
    """What the deadlines of one sweep share, worked out once: who sits in a body, which
    reminder is due for a due moment, and a reminder's texts but for the case title."""

    __slots__ = ("members", "offsets", "subjects", "texts")

    def __init__(self) -> None:
        self.members: _Members = {}
        self.offsets: dict[tuple[object, ...], int | None] = {}
        self.texts: dict[tuple[Text, datetime, str], Partial] = {}
        self.subjects: dict[datetime, Partial] = {}


_REMINDER_TEXT = N_(
    "%(what)s for sagen '%(title)s' er %(due)s – %(left)s.\nSagen ligger hos %(body)s."
)
_REMINDER_SUBJECT = N_("Påmindelse: frist %(day)s – %(title)s")


def _remind(
    session: Session,
    case: _CaseRef,
    deadline: DueDeadline,
    offset: int,
    now: datetime,
    pending: list[dict[str, Any]],
    tick: _Tick,
) -> None:
    """Add the reminders of one deadline to `pending` (written in one batch by the sweep)."""
    assert deadline.body_id is not None
    body = _body(session, deadline.body_id)
    due_at = deadline.due_at
    what = _what(session, deadline)
    text = tick.texts.get((what, due_at, body.name))
    if text is None:
        text = tick.texts[(what, due_at, body.name)] = Partial(
            _REMINDER_TEXT, "title", what=what, due=_moment_text(due_at),
            left=_days_left(due_at, now), body=body.name,
        )  # fmt: skip
    subject = tick.subjects.get(due_at)
    if subject is None:
        subject = tick.subjects[due_at] = Partial(
            _REMINDER_SUBJECT, "title", day=_date_text(due_at)
        )
    text_, subject_ = text.fill(case.title), subject.fill(case.title)
    for user_id in reminder_recipients(session, case, deadline, tick.members):
        pending.append(
            {
                "key": f"reminder:{case.id}:{deadline.id}:{offset}:{user_id}",
                "recipient_id": user_id,
                "kind": "reminder",
                "subject": subject_,
                "body": text_,
                "case_id": case.id,
                "deadline_id": deadline.id,
                "send_after": now,
                "created_at": now,
            }
        )


def _escalate(
    session: Session,
    case: Case,
    deadline: Deadline,
    body: Body,
    level: int,
    now: datetime,
) -> None:
    trigger = "deadline_overdue" if level == 1 else "deadline_escalated"
    what = "er overskredet" if level == 1 else "er overskredet og eskaleret"
    due = _moment_text(deadline.due_at)
    comment = f"Fristen {due.da} {what}; {body.name} er underrettet."
    if level == 1:
        told = bilingual(
            "Fristen %(due)s er overskredet; %(body)s er underrettet.", due=due, body=body.name
        )
    else:
        told = bilingual(
            "Fristen %(due)s er overskredet og eskaleret; %(body)s er underrettet.",
            due=due, body=body.name,
        )  # fmt: skip
    subject = bilingual("Frist overskredet: %(title)s", title=case.title)
    text = told + "\n" + bilingual(
        "%(what)s for sagen '%(title)s' er overskredet. Følg op på sagen, eller ret fristen.",
        what=_what(session, deadline), title=case.title,
    )  # fmt: skip
    append_event(
        session, case, trigger=trigger, actor=None, from_state=case.state, comment=comment,
        data={"deadline_id": deadline.id, "level": level, "body": body.code}, now=now,
    )  # fmt: skip
    roles = CHAIRS_AND_SECRETARIAT if level == 1 else (Role.CHAIR, Role.VICE_CHAIR)
    for user_id in members_of(session, body.id, roles):
        enqueue(
            session,
            key=f"overdue:{case.id}:{deadline.id}:L{level}:{user_id}",
            recipient_id=user_id,
            kind="escalation" if level > 1 else "overdue",
            subject=subject,
            body=text,
            case_id=case.id,
            deadline_id=deadline.id,
            send_after=now,
            created_at=now,
        )
    deadline.escalation_level = level


def _body(session: Session, body_id: int) -> Body:
    """A body by id from the sweep's own table of them (a dict look-up, not session.get)."""
    bodies: dict[int, Body] | None = session.info.get(_SWEEP_BODIES)
    body = bodies.get(body_id) if bodies is not None else None
    if body is None:
        body = session.get(Body, body_id)
    assert body is not None  # foreign keys guarantee it
    return body


_SWEEP_BODIES = "aftaleflow_sweep_bodies"


def _act(
    session: Session,
    due: DueDeadline,
    now: datetime,
    config: SchedulerConfig,
    report: SweepReport,
    pending: list[dict[str, Any]],
    tick: _Tick,
) -> None:
    """Remind about, or escalate, one deadline as its time demands — idempotently. Reminders
    go to `pending`, written in one batch by the sweep; an escalation loads the deadline and
    its case as objects (it appends to the case's chain)."""
    if due.body_id is None:
        return
    # Thousands of deadlines share a handful of due moments and reminder lists.
    moment = (due.due_at, *due.reminder_days)
    if moment in tick.offsets:
        offset = tick.offsets[moment]
    else:
        offset = tick.offsets[moment] = due_reminder(due, now, config)
    if offset is not None:
        case_ref = _CaseRef(due.case_id, due.case_title, due.originating_body_id)
        _remind(session, case_ref, due, offset, now, pending, tick)
        return
    if due.due_at > now:
        return
    days_over = (now - due.due_at).days
    escalation_days = registry.get(session, due.process, due.process_version).escalation_days
    if due.escalation_level >= 1 and (due.escalation_level >= 2 or days_over <= escalation_days):
        return  # told already at this level: nothing to load
    case = session.get(Case, due.case_id)
    deadline = session.get(Deadline, due.id)
    if case is None or deadline is None:
        return
    body = _body(session, due.body_id)
    if deadline.escalation_level < 1:
        _escalate(session, case, deadline, body, 1, now)
        report.overdue += 1
    if deadline.escalation_level < 2 and days_over > definition_of(case).escalation_days:
        # One level up: the parent body (TSS for an SU or forum), else TSS itself — or
        # whichever bodies took over from them in a reorganisation.
        # Today's work (no day): the parent as applied, and a body a plan applied ahead of its
        # date has closed hands the work on to its successor.
        upper = session.get(Body, body.parent_id) if body.parent_id else None
        if upper is not None:
            upper = successor_for(session, case, upper)
        else:
            upper = body_now(session, ESCALATION_BODY, case)
        _escalate(session, case, deadline, upper, 2, now)
        report.escalated += 1


# --- the sweep ----------------------------------------------------------------------------


class _NotTheSweeper(Exception):
    """Another process holds the sweeper's lease: this sweep writes nothing."""


def sweep(
    session: Session,
    now: datetime | None = None,
    *,
    config: SchedulerConfig | None = None,
    holder: str | None = None,
) -> SweepReport:
    """Find what became due, write notifications and case events, and commit — or skip when
    another process is the sweeper."""
    config = config or SchedulerConfig.from_env()
    now = now or clock.now()
    holder = holder or default_holder()
    started = time.perf_counter()
    try:
        # First the approved reorganisation plans that are due, so this sweep's reminders and
        # escalations already reach the bodies the cases moved to.
        applied, refused = apply_due_plans(session, now, config, holder)
        with unit_of_work(session):
            row = _lead(session, holder, now, config)
            if row is None:
                raise _NotTheSweeper  # the unit rolls back, ending the lock attempt
            report = SweepReport(full=_needs_full_sweep(row, now, config))
            report.plans_applied, report.plans_refused = applied, refused
            rules = _rules(session)
            newest = session.scalar(select(func.max(Deadline.id))) or 0
            after = row.swept_until
            if report.full or after is None:
                candidates = _full_candidates(session, now, rules)
                row.full_sweep_at = now
            else:
                candidates = _window_candidates(
                    session, after, now, row.last_deadline_id, rules, config
                )
            report.examined = len(candidates)
            # The candidates come with their cases' titles as plain rows; reminders are
            # written in one batch (one idempotency look-up per 500 keys, one batched insert).
            session.info[_SWEEP_BODIES] = {body.id: body for body in session.scalars(select(Body))}
            pending: list[dict[str, Any]] = []
            tick = _Tick()
            try:
                for deadline in candidates:
                    _act(session, deadline, now, config, report, pending, tick)
            finally:
                session.info.pop(_SWEEP_BODIES, None)
            report.reminders += enqueue_many(session, pending)
            report.reminders += consultations.send_reminders(session, now)
            report.reminders += minutes.send_follow_up_reminders(session, now)
            if report.full or after is None or _moment_dates(after, now, config.digest_hour):
                report.digests = digest.build_daily_digests(session, now, hour=config.digest_hour)
            report.weekly = digest.build_weekly_digests(
                session, now, hour=config.digest_hour, weekday=config.weekly_weekday
            )
            row.swept_until = now
            row.last_deadline_id = max(newest, row.last_deadline_id)
            seconds = time.perf_counter() - started
            _record_run(row, now, seconds, report)
    except _NotTheSweeper:
        metrics.SWEEPS.labels("skipped").inc()
        return SweepReport(skipped=True)
    metrics.SWEEPS.labels("done").inc()
    metrics.SWEEP_SECONDS.observe(seconds)
    return report


def _record_run(
    row: SchedulerLock,
    now: datetime,
    seconds: float,
    report: SweepReport | None = None,
    error: str | None = None,
) -> None:
    """Keep the run's duration and the last RECENT_RUNS runs on the lease row (the operations
    page and /metrics read them; `swept_until` is the heartbeat)."""
    entry: dict[str, object] = {"at": now.isoformat(), "seconds": round(seconds, 4)}
    if report is not None:
        entry.update(
            full=report.full, examined=report.examined, reminders=report.reminders,
            overdue=report.overdue, escalated=report.escalated,
            digests=report.digests + report.weekly,
        )  # fmt: skip
        row.last_duration = round(seconds, 4)
    if error is not None:
        entry["error"] = error
    row.recent = [entry, *(row.recent or [])][:RECENT_RUNS]


def record_failed_sweep(session: Session, error: BaseException) -> None:
    """Note a sweep that failed on the lease row (not the heartbeat: a failing scheduler turns
    /readyz unready), naming only the kind of error; the log has the details."""
    metrics.SWEEPS.labels("error").inc()
    with unit_of_work(session):
        row = session.get(SchedulerLock, LOCK_NAME, populate_existing=True)
        if row is not None:
            _record_run(row, clock.now(), 0.0, error=type(error).__name__)


# --- approved reorganisation plans -----------------------------------------------------------


def apply_due_plans(
    session: Session, now: datetime, config: SchedulerConfig, holder: str
) -> tuple[list[str], list[str]]:
    """Apply each approved plan whose effective date has come, once, as its approver and in
    a unit of work of its own under the sweeper's lease (another sweeper applies nothing).
    A plan that fails (a gap, an approver who is no longer an active administrator, a broken
    file) is not applied: the problems are logged when they first appear or change, kept for
    the operations page, and the next sweep tries again. Return the names applied and
    refused."""
    from workflow.organisation import operations as organisation
    from workflow.organisation import reorganise

    applied: list[str] = []
    refused: list[str] = []
    directory = Path(config.plans_dir) if config.plans_dir else None
    for found in reorganise.approved_plans(directory):
        name = found.name if isinstance(found, Path) else "?"
        try:
            if isinstance(found, reorganise.PlanError):
                raise found
            plan = reorganise.load_plan(found)
            name = plan.name
            if not organisation.is_due(session, plan, now):
                continue  # a quiet tick takes no write lock for a plan not due or applied
            with unit_of_work(session):
                if _lead(session, holder, now, config) is None:
                    raise _NotTheSweeper
                done = organisation.apply_approved(session, plan, now)
        except _NotTheSweeper:
            raise
        except WorkflowError as error:
            problems = getattr(error, "problems", None) or [(error.message, error.message_en)]
            refused.append(name)
            _record_plan(session, now, name, problems)
            continue
        if done is not None and not done.already_applied:
            applied.append(name)
            log.info(
                "reorganisation %s applied by the scheduler: %s cases moved",
                name, done.cases_moved,
            )  # fmt: skip
            _record_plan(session, now, name, None)
    return applied, refused


def _record_plan(
    session: Session, now: datetime, name: str, problems: list[tuple[str, str]] | None
) -> None:
    """Keep the plan's outcome on the record row (one entry per plan, the latest) and log a
    refusal when its problems first appear or change."""
    with unit_of_work(session):
        row = session.get(SchedulerLock, PLANS_RECORD_NAME, populate_existing=True)
        if row is None:
            row = SchedulerLock(name=PLANS_RECORD_NAME, last_deadline_id=0)
            session.add(row)
        entries = [e for e in (row.recent or []) if isinstance(e, dict)]
        before = next((e for e in entries if e.get("plan") == name), None)
        entry: dict[str, object] = {"plan": name, "at": now.isoformat()}
        if problems is None:
            entry["applied"] = True
        else:
            entry["problems"] = [list(problem) for problem in problems]
            if before is None or before.get("problems") != entry["problems"]:
                # The problems name people (members, the approver): they go to the
                # operations page, not to the log.
                log.warning(
                    "reorganisation %s not applied: %d problem(s), listed on /admin/drift",
                    name, len(problems),
                )  # fmt: skip
            elif before.get("at"):
                entry["at"] = before["at"]  # refused since then, for the same reasons
        if before == entry:
            return
        row.recent = [entry, *(e for e in entries if e.get("plan") != name)][:RECENT_RUNS]
        row.swept_until = now


# --- the daily audit checkpoint -----------------------------------------------------------


def checkpoint_daily(
    session: Session,
    now: datetime | None = None,
    *,
    config: SchedulerConfig | None = None,
    holder: str | None = None,
    directory: str | None = None,
) -> Path | None:
    """Write the day's signed checkpoint of the audit chains once per Danish day, under its
    lease; return the checkpoint file, or None when it was done today or another process
    holds the lease."""
    # Written before the commit: should the commit fail, the next tick writes one more
    # checkpoint, which does no harm.
    return _once_a_day(
        session, now, config, holder, CHECKPOINT_LOCK_NAME, CHECKPOINT_LOCK_KEY,
        lambda: checkpoints.write(session, directory)[0],
    )  # fmt: skip


def _once_a_day(
    session: Session,
    now: datetime | None,
    config: SchedulerConfig | None,
    holder: str | None,
    name: str,
    key: int,
    work: Callable[[], _Done],
) -> _Done | None:
    """Do `work` once per Danish day under the lease `name`, in one unit of work with the
    lease's note of it; return what it gave, or None when it was done today or another
    process holds the lease."""
    config = config or SchedulerConfig.from_env()
    now = now or clock.now()
    try:
        with unit_of_work(session):
            row = _lead(session, holder or default_holder(), now, config, name=name, key=key)
            if row is None:
                raise _NotTheSweeper
            done = row.swept_until
            if done is not None and done <= now and local_date(done) == local_date(now):
                raise _NotTheSweeper  # done today; the lease is left as is
            result = work()
            row.swept_until = now
    except _NotTheSweeper:
        return None
    return result


# --- the agreement's rhythms ---------------------------------------------------------------


def open_rhythm_cases(
    session: Session,
    now: datetime | None = None,
    *,
    config: SchedulerConfig | None = None,
    holder: str | None = None,
) -> list[Case] | None:
    """Open the cases the definitions' rhythms ask for today (SKU's yearly review, the report
    before the electoral period ends, a new forum's work plan: workflow/cases/rhythms.py),
    once per Danish day under its lease; return them, or None when today's were opened or
    another process holds the lease."""
    day = local_date(now or clock.now())
    return _once_a_day(
        session, now, config, holder, RHYTHMS_LOCK_NAME, RHYTHMS_LOCK_KEY,
        lambda: rhythms.open_due_cases(session, day),
    )  # fmt: skip


# --- running it ---------------------------------------------------------------------------


def _sweep_job(engine: Engine, config: SchedulerConfig, holder: str) -> None:
    with request_id.bound(prefix="sweep-"), Session(engine, expire_on_commit=False) as session:
        try:
            report = sweep(session, config=config, holder=holder)
            if not report.skipped:
                log.info("sweep: %s", report.summary())
        except Exception as error:  # the next tick retries; a crash must not stop the scheduler
            log.exception("sweep failed")
            try:
                record_failed_sweep(session, error)
            except Exception:
                log.exception("the failed sweep could not be recorded")


def _deliver_job(engine: Engine, smtp: SmtpConfig) -> None:
    with request_id.bound(prefix="deliver-"), Session(engine, expire_on_commit=False) as session:
        try:
            report = notify.deliver_pending(session, smtp)
            if report.sent or report.retrying or report.failed:
                log.info("delivery: %s", report.summary())
        except Exception:  # as above: the next tick retries
            log.exception("delivery failed")


def _webhook_job(engine: Engine, config: webhooks.WebhookConfig) -> None:
    with request_id.bound(prefix="webhooks-"), Session(engine, expire_on_commit=False) as session:
        try:
            report = webhooks.deliver_due(session, config)
            if report.delivered or report.retrying or report.failed:
                log.info(
                    "webhooks: %d delivered, %d to retry, %d given up",
                    report.delivered, report.retrying, report.failed,
                )  # fmt: skip
        except Exception:  # as above: the next tick retries
            log.exception("webhook delivery failed")


def _checkpoint_job(engine: Engine, config: SchedulerConfig, holder: str) -> None:
    with request_id.bound(prefix="checkpoint-"), Session(engine, expire_on_commit=False) as session:
        try:
            path = checkpoint_daily(session, config=config, holder=holder)
            if path is not None:
                log.info("audit checkpoint written to %s", path)
        except Exception:  # the next tick retries; a full disk must not stop the sweeps
            log.exception("audit checkpoint failed")


def _rhythms_job(engine: Engine, config: SchedulerConfig, holder: str) -> None:
    with request_id.bound(prefix="rhythms-"), Session(engine, expire_on_commit=False) as session:
        try:
            opened = open_rhythm_cases(session, config=config, holder=holder)
            if opened:
                log.info("rhythms: %d cases opened", len(opened))
        except Exception:  # the next tick retries
            log.exception("opening the rhythms' cases failed")


def _configure(
    scheduler: BaseScheduler,
    engine: Engine,
    config: SchedulerConfig,
    smtp: SmtpConfig | None,
    holder: str,
) -> None:
    # coalesce: many missed ticks run once; the grace time lets a late tick still run (the
    # default would drop a tick more than a second late). max_instances=1: a slow sweep is
    # never overtaken by the next. Due work comes from our rows, so a dropped tick loses
    # nothing anyway.
    now = datetime.now(LOCAL_TZ)
    scheduler.add_job(
        _sweep_job, "interval", seconds=config.interval, args=[engine, config, holder],
        id="sweep", coalesce=True, max_instances=1,
        misfire_grace_time=max(1, int(config.interval * 5)), next_run_time=now,
        replace_existing=True,
    )  # fmt: skip
    # Checked every tick, written once a day: a scheduler down at any fixed hour still writes.
    scheduler.add_job(
        _checkpoint_job, "interval", seconds=config.interval, args=[engine, config, holder],
        id="audit_checkpoint", coalesce=True, max_instances=1,
        misfire_grace_time=max(1, int(config.interval * 5)), next_run_time=now,
        replace_existing=True,
    )  # fmt: skip
    # Likewise the rhythms' cases: checked every tick, opened once a day.
    scheduler.add_job(
        _rhythms_job, "interval", seconds=config.interval, args=[engine, config, holder],
        id="rhythms", coalesce=True, max_instances=1,
        misfire_grace_time=max(1, int(config.interval * 5)), next_run_time=now,
        replace_existing=True,
    )  # fmt: skip
    # Webhooks go out with the mail's rhythm, with or without a mail server.
    scheduler.add_job(
        _webhook_job, "interval", seconds=config.delivery_interval,
        args=[engine, webhooks.WebhookConfig.from_env()], id="webhooks", coalesce=True,
        max_instances=1, misfire_grace_time=max(1, int(config.delivery_interval * 5)),
        next_run_time=now, replace_existing=True,
    )  # fmt: skip
    if smtp is not None:
        scheduler.add_job(
            _deliver_job, "interval", seconds=config.delivery_interval, args=[engine, smtp],
            id="deliver", coalesce=True, max_instances=1,
            misfire_grace_time=max(1, int(config.delivery_interval * 5)), next_run_time=now,
            replace_existing=True,
        )  # fmt: skip


_background: BackgroundScheduler | None = None
_background_lock = threading.Lock()


def start_background(
    engine: Engine, config: SchedulerConfig | None = None, smtp: SmtpConfig | None = None
) -> BackgroundScheduler:
    """Start the sweep (and delivery) in a background thread, once per process (demo only)."""
    global _background
    with _background_lock:
        if _background is not None and _background.running:
            return _background
        from apscheduler.schedulers.background import BackgroundScheduler

        config = config or SchedulerConfig.from_env()
        # The job store is in memory and never shared: each process has its own scheduler,
        # and the lease decides which one sweeps.
        scheduler = BackgroundScheduler(timezone=LOCAL_TZ)
        _configure(scheduler, engine, config, smtp, default_holder())
        scheduler.start()
        _background = scheduler
        return scheduler


def stop_background(engine: Engine) -> None:
    """Stop the background scheduler of this process and give up its lease."""
    global _background
    with _background_lock:
        if _background is None:
            return
        _background.shutdown(wait=True)
        _background = None
    with Session(engine) as session:
        release(session)


def run_process(url: str, config: SchedulerConfig, smtp: SmtpConfig | None) -> None:
    """Entry point of a scheduler in a process of its own: open the database and run."""
    from workflow.engine.db import make_engine

    run_blocking(make_engine(url), config, smtp)


def run_blocking(
    engine: Engine, config: SchedulerConfig | None = None, smtp: SmtpConfig | None = None
) -> None:
    """Run the sweep and delivery in the foreground until interrupted (`aftaleflow scheduler`)."""
    from apscheduler.schedulers.blocking import BlockingScheduler

    config = config or SchedulerConfig.from_env()
    holder = default_holder()
    scheduler = BlockingScheduler(timezone=LOCAL_TZ)
    _configure(scheduler, engine, config, smtp, holder)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        if scheduler.running:
            scheduler.shutdown(wait=False)
        with Session(engine) as session:
            release(session, holder)
