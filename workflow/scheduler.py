"""The scheduler's sweep: due reminders and overdue deadlines → outbox and audit trail.

One periodic job, not one per case: each sweep queries open deadlines through the partial
index on due_at, so its cost grows with what is due, not with the number of cases. Due work
is found from our own rows, so a missed tick loses nothing; idempotency keys make a repeated
or concurrent sweep harmless.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import Engine, or_, select, text
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, Role
from workflow import clock
from workflow.clock import LOCAL_TZ
from workflow.engine import append_event, body_by_code, definition_of
from workflow.localtime import format_datetime
from workflow.outbox import CHAIRS_AND_SECRETARIAT, enqueue, members_of

log = logging.getLogger(__name__)

# Reminders go out at most this many days before a deadline (the longest offset in states/).
REMINDER_WINDOW = timedelta(days=60)
SWEEP_LOCK_KEY = 0x4166_7466  # "Aftf": the PostgreSQL advisory lock electing one sweeper


@dataclass
class SweepReport:
    """What one sweep did."""

    reminders: int = 0
    overdue: int = 0
    escalated: int = 0
    skipped: bool = False

    def summary(self) -> str:
        """Describe the sweep in one Danish line."""
        if self.skipped:
            return "En anden planlægger fejer lige nu; intet gjort."
        return (
            f"{self.reminders} påmindelser, {self.overdue} overskredne frister og "
            f"{self.escalated} eskaleringer registreret."
        )


def _is_leader(session: Session) -> bool:
    if session.get_bind().dialect.name != "postgresql":
        return True  # SQLite: BEGIN IMMEDIATE serialises sweepers; keys prevent doubles
    return bool(session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": SWEEP_LOCK_KEY}))


def _due_reminder(deadline: Deadline, now: datetime) -> int | None:
    """Return the smallest reminder offset (days) that has come due, if the deadline is ahead."""
    if deadline.due_at <= now:
        return None
    passed = [d for d in deadline.reminder_days if deadline.due_at - timedelta(days=d) <= now]
    return min(passed) if passed else None


def _remind(session: Session, case: Case, deadline: Deadline, offset: int) -> int:
    sent = 0
    assert deadline.body_id is not None
    for user_id in members_of(session, deadline.body_id, CHAIRS_AND_SECRETARIAT):
        added = enqueue(
            session,
            key=f"reminder:{case.id}:{deadline.id}:{offset}:{user_id}",
            recipient_id=user_id,
            kind="reminder",
            subject=f"Påmindelse: frist {format_datetime(deadline.due_at)} – {case.title}",
            body=(
                f"Sagen '{case.title}' har frist {format_datetime(deadline.due_at)} "
                f"({offset} dage til fristen)."
            ),
            case_id=case.id,
            deadline_id=deadline.id,
        )
        sent += added is not None
    return sent


def _escalate(
    session: Session, case: Case, deadline: Deadline, body: Body, level: int, now: datetime
) -> None:
    trigger = "deadline_overdue" if level == 1 else "deadline_escalated"
    what = "er overskredet" if level == 1 else "er overskredet og eskaleret"
    comment = f"Fristen {format_datetime(deadline.due_at)} {what}; {body.name} er underrettet."
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
            subject=f"Frist overskredet: {case.title}",
            body=comment,
            case_id=case.id,
            deadline_id=deadline.id,
        )
    deadline.escalation_level = level


def sweep(session: Session, now: datetime | None = None) -> SweepReport:
    """Find due reminders and overdue deadlines, write notifications, and commit."""
    now = now or clock.now()
    report = SweepReport()
    if not _is_leader(session):
        session.rollback()
        return SweepReport(skipped=True)
    due = session.scalars(
        select(Deadline)
        .where(
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at <= now + REMINDER_WINDOW,
            or_(Deadline.due_at > now, Deadline.escalation_level < 2),
        )
        .order_by(Deadline.due_at)
    ).all()
    for deadline in due:
        case = session.get(Case, deadline.case_id)
        if case is None or deadline.body_id is None:
            continue
        offset = _due_reminder(deadline, now)
        if offset is not None:
            report.reminders += _remind(session, case, deadline, offset)
            continue
        if deadline.due_at > now:
            continue
        body = session.get(Body, deadline.body_id)
        assert body is not None
        if deadline.escalation_level < 1:
            _escalate(session, case, deadline, body, 1, now)
            report.overdue += 1
        days_over = (now - deadline.due_at).days
        if deadline.escalation_level < 2 and days_over > definition_of(case).escalation_days:
            # One level up: the parent body (TSS for an SU or forum), else TSS itself.
            upper = session.get(Body, body.parent_id) if body.parent_id else None
            _escalate(session, case, deadline, upper or body_by_code(session, "TSS"), 2, now)
            report.escalated += 1
    session.commit()
    return report


def _sweep_job(engine: Engine) -> None:
    with Session(engine, expire_on_commit=False) as session:
        try:
            report = sweep(session)
            log.info("sweep: %s", report.summary())
        except Exception:  # the next tick retries; a crash must not stop the scheduler
            log.exception("sweep failed")
            session.rollback()


def _configure(
    scheduler: BackgroundScheduler | BlockingScheduler, engine: Engine, interval: int
) -> None:
    # coalesce: many missed ticks run once; the grace time lets a late tick still run (the
    # default would drop a tick that is more than a second late). Due work comes from our
    # rows, so a dropped tick would lose nothing anyway.
    scheduler.add_job(
        _sweep_job,
        "interval",
        seconds=interval,
        args=[engine],
        id="sweep",
        coalesce=True,
        max_instances=1,
        misfire_grace_time=interval * 5,
        next_run_time=datetime.now(LOCAL_TZ),
        replace_existing=True,
    )


def start_background(engine: Engine, interval: int = 60) -> BackgroundScheduler:
    """Start the sweep in a background thread of this process (single-process demo)."""
    scheduler = BackgroundScheduler(timezone=LOCAL_TZ)
    _configure(scheduler, engine, interval)
    scheduler.start()
    return scheduler


def run_blocking(engine: Engine, interval: int = 60) -> None:
    """Run the sweep in the foreground until interrupted (`aftaleflow scheduler`)."""
    scheduler = BlockingScheduler(timezone=LOCAL_TZ)
    _configure(scheduler, engine, interval)
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        scheduler.shutdown(wait=False)
