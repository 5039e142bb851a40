"""The database restarts in the middle of a sweep and of a delivery run: the scheduler's jobs
fail, each open transaction is rolled back as a whole, and the next ticks of the same scheduler
— on the same engine — write every notification once and deliver every one.

On PostgreSQL the restart is simulated without touching the shared server: every backend of a
scratch database is terminated from an admin connection, which is exactly what a client sees
when the server restarts (its connections are gone, open transactions rolled back, advisory
locks released). Both jobs are paused inside their transactions while it happens.

SQLite has no server to restart. What a restart does to a client — every connection gone, each
open transaction rolled back by the database, the next statement on an old connection failing —
happens to SQLite when the process's connections are closed under it, so that is what the test
does. The other candidate, the file being locked by someone else past the busy timeout, cannot
hit a sweep midway: a sweep takes SQLite's write lock at BEGIN IMMEDIATE, so a foreign lock only
delays or fails its start (the two-sweeper tests cover that). SQLite has one writer, so the
deliverer and the sweeper are cut off one after the other there, not at the same moment.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from sqlalchemy.pool import QueuePool
from test_scheduler import EIGHT, Recorder, _people_and_deadlines

from models import CaseEvent, Deadline, Notification, SchedulerLock, User
from workflow import scheduler
from workflow.engine import audit, clock, outbox
from workflow.engine.db import make_engine
from workflow.notifications import delivery as notify
from workflow.notifications.delivery import SmtpConfig, SmtpSecurity

HOLDER = "scheduler-1"
WAIT = 10.0  # seconds a paused job or the test waits at most: keeps a broken run bounded


@pytest.fixture
def server() -> Iterator[Recorder]:
    """An SMTP server on 127.0.0.1 that records the Message-ID of every mail it accepts."""
    recorder = Recorder()
    recorder.controller.start()
    yield recorder
    recorder.controller.stop()


def _admin_engine() -> Engine:
    server = os.environ["TEST_DATABASE_URL"].replace("postgresql://", "postgresql+psycopg://", 1)
    return make_engine(server, isolation_level="AUTOCOMMIT")


def _restarter(database: Engine, url: str) -> Callable[[], int]:
    """Return a function that cuts every connection to the database, as a restart does, and
    says how many it cut."""
    if database.dialect.name == "postgresql":
        name = make_url(url).database

        def terminate() -> int:
            admin = _admin_engine()
            try:
                with admin.connect() as connection:
                    terminated = connection.execute(
                        text(
                            "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                            "WHERE datname = :name AND pid <> pg_backend_pid()"
                        ),
                        {"name": name},
                    ).scalars()
                    results = list(terminated)
            finally:
                admin.dispose()
            assert all(results), "a backend survived pg_terminate_backend"
            return len(results)

        return terminate

    opened: list[Any] = []
    event.listen(
        database, "connect", lambda dbapi_connection, _record: opened.append(dbapi_connection)
    )

    def close_all() -> int:
        # Closing a sqlite3 connection rolls back its open transaction, as a server would.
        for dbapi_connection in opened:
            dbapi_connection.close()
        count = len(opened)
        opened.clear()
        return count

    return close_all


class Pause:
    """A point inside a job where its thread waits until the test has restarted the database."""

    def __init__(self) -> None:
        self.reached = threading.Event()
        self.go_on = threading.Event()

    def __call__(self) -> None:
        self.reached.set()
        if not self.go_on.wait(WAIT):
            raise TimeoutError("the test never let the paused job go on")

    def wait(self) -> None:
        assert self.reached.wait(WAIT), "the job never reached its pause"


def _job(target: Callable[..., None], *args: Any, name: str) -> threading.Thread:
    thread = threading.Thread(target=target, args=args, name=name, daemon=True)
    thread.start()
    return thread


def _join(thread: threading.Thread) -> None:
    thread.join(WAIT)
    assert not thread.is_alive(), f"{thread.name} hangs after the restart"


def _failures(caplog: pytest.LogCaptureFixture, message: str) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "workflow.scheduler" and r.msg == message]


def _pg_advisory_locks(url: str) -> int:
    admin = _admin_engine()
    try:
        with admin.connect() as connection:
            return int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
                        "WHERE l.locktype = 'advisory' AND l.objid = :key AND d.datname = :name"
                    ),
                    {"key": scheduler.SWEEP_LOCK_KEY, "name": make_url(url).database},
                )
                or 0
            )
    finally:
        admin.dispose()


def test_database_restart_mid_sweep_and_mid_delivery_loses_nothing(
    fresh_url: str,
    server: Recorder,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.INFO, logger="workflow.scheduler")
    postgres = fresh_url.startswith("postgresql")
    database = make_engine(fresh_url)  # the scheduler process's engine, used throughout
    restart = _restarter(database, fresh_url)
    smtp = SmtpConfig(
        host="127.0.0.1", port=server.port, security=SmtpSecurity.NONE, timeout=5,
        lease_seconds=300, batch_size=3,
    )  # fmt: skip

    # An earlier tick swept; then eight deadlines came (four with a reminder due, four 20 days
    # overdue) and six notifications an earlier tick wrote wait for delivery.
    with Session(database, expire_on_commit=False) as setup:
        scheduler.sweep(setup, config=EIGHT, holder=HOLDER)
        clock.advance(timedelta(minutes=1))
        expected = _people_and_deadlines(setup, clock.now())
        recipients = list(setup.scalars(select(User.id).where(User.email.like("%tss@test%"))))
        assert len(recipients) == 3
        earlier = {f"earlier:{n}:{user_id}" for n in range(2) for user_id in recipients}
        for key in sorted(earlier):
            outbox.enqueue(
                setup, key=key, recipient_id=int(key.rsplit(":", 1)[1]), kind="reminder",
                subject="Påmindelse fra et tidligere tjek", body="Fristen nærmer sig.",
                send_after=clock.now(), created_at=clock.now(),
            )  # fmt: skip
        setup.commit()
        before = setup.execute(
            select(SchedulerLock.holder, SchedulerLock.expires_at, SchedulerLock.swept_until,
                   SchedulerLock.last_deadline_id)
        ).one()  # fmt: skip
    expected |= earlier

    # The deliverer pauses after the server accepted its second mail, between the UPDATE that
    # marks it sent and the COMMIT: the one moment a restart makes a mail go out twice.
    delivery_pause = Pause()
    in_flight: list[str] = []
    real_mark_sent = notify._mark_sent
    marked = 0

    def mark_sent(session: Session, item: notify.Claimed) -> bool:
        nonlocal marked
        marked += 1
        if marked != 2:
            return real_mark_sent(session, item)
        in_flight.append(item.message_id)
        commit = session.commit

        def pause_then_commit() -> None:
            delivery_pause()
            commit()

        session.commit = pause_then_commit  # type: ignore[method-assign]
        try:
            return real_mark_sent(session, item)
        finally:
            del session.commit

    # The sweeper pauses at its fifth notification, with an overdue event, an escalation level
    # and four notifications flushed inside its open transaction.
    sweep_pause = Pause()
    enqueued = 0
    real_enqueue = outbox.enqueue  # what the sweep calls, under the name it imported

    def enqueue_then_pause(session: Session, **fields: Any) -> Notification | None:
        nonlocal enqueued
        enqueued += 1
        if enqueued == 5:
            session.flush()
            sweep_pause()
        return real_enqueue(session, **fields)

    monkeypatch.setattr(notify, "_mark_sent", mark_sent)
    monkeypatch.setattr(scheduler, "enqueue", enqueue_then_pause)
    restarts = cut = 0
    try:
        deliverer = _job(scheduler._deliver_job, database, smtp, name="deliverer")
        delivery_pause.wait()
        if not postgres:  # one writer: cut the deliverer off before the sweeper can begin
            cut += restart()
            restarts += 1
            delivery_pause.go_on.set()
            _join(deliverer)
        sweeper = _job(scheduler._sweep_job, database, EIGHT, HOLDER, name="sweeper")
        sweep_pause.wait()
        if postgres:
            # Both are inside their transactions; the sweeper holds the advisory lock, so a
            # standby on another connection is kept out.
            assert _pg_advisory_locks(fresh_url) == 1
            standby = make_engine(fresh_url)
            with Session(standby) as other:
                assert scheduler.sweep(other, config=EIGHT, holder="standby").skipped
            standby.dispose()
        cut += restart()
        restarts += 1
        delivery_pause.go_on.set()
        sweep_pause.go_on.set()
        _join(deliverer)
        _join(sweeper)
    finally:
        delivery_pause.go_on.set()
        sweep_pause.go_on.set()
        monkeypatch.undo()

    # Both jobs failed on a connection SQLAlchemy recognised as gone (so it renews its pool)
    # and, as scheduler jobs do, logged it instead of stopping the scheduler.
    failed = _failures(caplog, "delivery failed") + _failures(caplog, "sweep failed")
    assert [r.msg for r in failed] == ["delivery failed", "sweep failed"]
    for record in failed:
        assert record.exc_info is not None
        error = record.exc_info[1]
        assert isinstance(error, DBAPIError) and error.connection_invalidated, error

    # Nothing half-written: the sweep's transaction is gone as a whole, the in-flight mail was
    # accepted by the server but is not recorded as sent, and no advisory lock outlived it.
    observer = make_engine(fresh_url)
    with Session(observer) as check:
        keys = set(check.scalars(select(Notification.idempotency_key)))
        assert keys == earlier
        assert check.scalar(select(func.count()).where(CaseEvent.trigger.like("deadline_%"))) == 0
        assert set(check.scalars(select(Deadline.escalation_level).where(
            Deadline.id > before.last_deadline_id
        ))) == {0}  # fmt: skip
        lock = check.execute(
            select(SchedulerLock.holder, SchedulerLock.expires_at, SchedulerLock.swept_until,
                   SchedulerLock.last_deadline_id)
        ).one()  # fmt: skip
        assert lock == before
        sent = list(check.scalars(select(Notification.message_id).where(
            Notification.sent_at.is_not(None)
        )))  # fmt: skip
    assert len(sent) == 1 and in_flight[0] not in sent
    observer.dispose()
    assert server.message_ids == [sent[0], in_flight[0]]  # the server had accepted both
    if postgres:
        assert _pg_advisory_locks(fresh_url) == 0

    # The database is back: the same scheduler's next ticks, on the same engine.
    caplog.clear()
    clock.advance(timedelta(minutes=1))
    recovered_at = clock.now()
    scheduler._sweep_job(database, EIGHT, HOLDER)
    scheduler._deliver_job(database, smtp)
    with Session(database) as check:
        # The cut-off batch's two unsent mails keep their lease until it runs out.
        waiting = check.scalar(select(func.count()).where(Notification.sent_at.is_(None)))
        assert waiting == 2
    clock.advance(timedelta(seconds=smtp.lease_seconds))
    scheduler._deliver_job(database, smtp)
    assert _failures(caplog, "sweep failed") == _failures(caplog, "delivery failed") == []

    with Session(database) as check:
        rows = check.execute(
            select(Notification.idempotency_key, Notification.message_id, Notification.sent_at)
        ).all()
        events = check.execute(
            select(CaseEvent.case_id, CaseEvent.trigger).where(CaseEvent.trigger.like("deadline_%"))
        ).all()
        leader = check.execute(select(SchedulerLock.holder, SchedulerLock.swept_until)).one()
        report = audit.verify(check)
    database.dispose()

    assert {key for key, _, _ in rows} == expected  # nothing lost, nothing extra
    assert len(rows) == len(expected)
    assert all(sent_at is not None for _, _, sent_at in rows)  # every one delivered
    assert len(events) == len(set(events)) == 8  # each overdue case: one notice, one escalation
    assert report.problems == [] and report.events > 0  # every chain intact, states agree
    assert leader == (HOLDER, recovered_at)  # the sweeper led again after the restart
    assert set(server.message_ids) == {message_id for _, message_id, _ in rows}
    duplicates = [m for m in set(server.message_ids) if server.message_ids.count(m) > 1]
    assert duplicates == in_flight  # only the mail in flight, and with its own Message-ID
    with capsys.disabled():
        print(
            f"\n{restarts} database restart(s) cutting {cut} connections mid-sweep and "
            f"mid-delivery: {len(rows)} notifications, each written once and all delivered; "
            f"{len(server.message_ids) - len(set(server.message_ids))} sent twice with the "
            "same Message-ID (accepted by the server, not yet committed as sent)."
        )


def test_a_restart_between_ticks_goes_unnoticed(
    fresh_url: str, server: Recorder, caplog: pytest.LogCaptureFixture
) -> None:
    """The server restarts while the scheduler waits for its next tick: its pool holds only dead
    connections, and the next sweep and delivery still succeed at the first attempt."""
    if not fresh_url.startswith("postgresql"):
        pytest.skip("SQLite has no server whose restart kills a process's idle connections")
    caplog.set_level(logging.INFO, logger="workflow.scheduler")
    database = make_engine(fresh_url)
    smtp = SmtpConfig(host="127.0.0.1", port=server.port, security=SmtpSecurity.NONE, timeout=5)
    with Session(database, expire_on_commit=False) as setup:
        scheduler.sweep(setup, config=EIGHT, holder=HOLDER)
        clock.advance(timedelta(minutes=1))
        expected = _people_and_deadlines(setup, clock.now())
    pool = database.pool
    assert isinstance(pool, QueuePool) and pool.checkedin() >= 1  # idle, soon dead
    assert _restarter(database, fresh_url)() >= 1
    clock.advance(timedelta(minutes=1))
    scheduler._sweep_job(database, EIGHT, HOLDER)
    scheduler._deliver_job(database, smtp)
    assert _failures(caplog, "sweep failed") == _failures(caplog, "delivery failed") == []
    with Session(database) as check:
        sent = set(check.scalars(select(Notification.idempotency_key).where(
            Notification.sent_at.is_not(None)
        )))  # fmt: skip
    database.dispose()
    assert sent == expected
    assert len(server.message_ids) == len(set(server.message_ids)) == len(expected)
