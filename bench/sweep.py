"""Benchmark: the scheduler's sweep costs what is due, not the number of cases.

Builds databases with 100 and 20 000 open cases (each with a deadline months ahead, and a
fifth of them long overdue and already escalated) plus the same ten deadlines whose 2-day
reminder falls at 08:00 today. Measures a quiet tick (nothing due), the 08:00 tick that writes
those reminders, and the hourly full sweep. Run with `python -m bench.sweep`; PostgreSQL too
when $TEST_DATABASE_URL points at a server.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, func, insert, select, text
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, DeadlineKind, Membership, Role, User
from workflow.engine import clock, migrate
from workflow.engine.calendar import end_of_day
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed
from workflow.scheduler import SchedulerConfig, SweepReport, sweep

SIZES = tuple(int(n) for n in os.environ.get("BENCH_SWEEP_CASES", "100,20000").split(","))
DUE = 10
TODAY = date(2021, 3, 2)  # a Tuesday in winter time (no weekly overview that day)
CONFIG = SchedulerConfig()


def _at(hour: int, minute: int = 0) -> datetime:
    return datetime(TODAY.year, TODAY.month, TODAY.day, hour, minute, tzinfo=LOCAL_TZ)


def _populate(engine: Engine, cases: int) -> None:
    """Migrate, seed and add `cases` cases with deadlines, DUE of them reminding today."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)
        tss = session.scalar(select(Body).where(Body.code == "TSS"))
        assert tss is not None
        secretary = User(email="sekretariat@bench.dk", name="Sekretariatet")
        session.add(secretary)
        session.flush()
        session.add(Membership(user_id=secretary.id, body_id=tss.id, role=Role.SECRETARIAT))
        created = datetime(2020, 1, 1, tzinfo=LOCAL_TZ)
        rows = [
            {"process": "signature_initiative", "process_version": 1, "state": "at_tss",
             "title": f"Sag {n}", "originating_body_id": tss.id, "current_body_id": tss.id,
             "created_at": created, "updated_at": created, "state_entered_at": created}
            for n in range(cases)
        ]  # fmt: skip
        session.execute(insert(Case), rows)
        ids = list(session.scalars(select(Case.id).order_by(Case.id)))
        deadlines = []
        for number, case_id in enumerate(ids):
            if number < DUE:
                due, level = end_of_day(TODAY + timedelta(days=2)), 0  # reminds at 08:00
            elif number % 5 == 0:
                due, level = end_of_day(TODAY - timedelta(days=40 + number % 300)), 2
            else:
                due, level = end_of_day(TODAY + timedelta(days=45 + number % 330)), 0
            deadlines.append(
                {"case_id": case_id, "kind": DeadlineKind.STATE, "state": "at_tss",
                 "body_id": tss.id, "due_at": due, "reminder_days": [7, 2],
                 "escalation_level": level, "created_at": created}
            )  # fmt: skip
        session.execute(insert(Deadline), deadlines)
        session.commit()


def _timed(engine: Engine, at: datetime) -> tuple[float, SweepReport]:
    with Session(engine, expire_on_commit=False) as session:
        clock.set_time(at)
        started = time.perf_counter()
        report = sweep(session, config=CONFIG)
        return (time.perf_counter() - started) * 1000, report


def _measure(engine: Engine, cases: int) -> dict[str, tuple[float, int]]:
    _populate(engine, cases)
    _timed(engine, _at(7, 30))  # the first tick is a full sweep; it sets the watermark
    quiet = [_timed(engine, _at(7, 31 + n)) for n in range(10)]
    due_ms, due = _timed(engine, _at(8, 0))
    assert due.reminders == DUE, due
    full_ms, full = _timed(engine, _at(9, 0))  # an hour on: the full sweep
    assert full.full
    engine.dispose()
    clock.set_time(None)
    return {
        "stille tik": (statistics.median(ms for ms, _ in quiet), quiet[0][1].examined),
        "tik kl. 08 (10 påmindelser)": (due_ms, due.examined),
        "fuldt fej (hver time)": (full_ms, full.examined),
    }


def _run(label: str, make: Callable[[int], Engine], sizes: tuple[int, ...]) -> None:
    for cases in sizes:
        results = _measure(make(cases), cases)
        for name, (ms, examined) in results.items():
            print(
                f"{label:<11} {cases:>6} sager  {name:<28} {ms:8.1f} ms  "
                f"({examined} frister undersøgt)"
            )


def main() -> None:
    """Print the sweep's cost per tick for each database size."""
    with tempfile.TemporaryDirectory() as tmp:
        _run("SQLite", lambda n: make_engine(f"sqlite:///{Path(tmp) / f's{n}.db'}"), SIZES)
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        for cases in SIZES:
            with scratch_postgres_database(server) as scratch:
                _run("PostgreSQL", lambda _n, url=scratch: make_engine(url), (cases,))


if __name__ == "__main__":
    main()


def _populate_volume(engine: Engine, rows: int, due: int) -> None:
    """`rows` deadline rows over rows/10 cases: `due` remind at 08:00 today, the rest met long
    ago, due months ahead, or long overdue and escalated already."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)
        tss = session.scalar(select(Body).where(Body.code == "TSS"))
        assert tss is not None
        secretary = User(email="sekretariat@sweep.bench.dk", name="Sekretariatet")
        session.add(secretary)
        session.flush()
        session.add(Membership(user_id=secretary.id, body_id=tss.id, role=Role.SECRETARIAT))
        session.commit()
        tss_id = tss.id
    created = datetime(2020, 1, 1, tzinfo=LOCAL_TZ)
    cases = max(1, rows // 10)
    with engine.begin() as connection:
        first = (connection.scalar(select(func.max(Case.id))) or 0) + 1
        for start in range(0, cases, 20000):
            connection.execute(
                insert(Case),
                [{"id": first + n, "process": "signature_initiative", "process_version": 1,
                  "state": "at_tss", "title": f"Sag {n}", "originating_body_id": tss_id,
                  "current_body_id": tss_id, "created_at": created, "updated_at": created,
                  "state_entered_at": created}
                 for n in range(start, min(cases, start + 20000))],
            )  # fmt: skip
        batch: list[dict[str, object]] = []
        for number in range(rows):
            case_id = first + number % cases
            met = None
            if number < due:
                due_at, level = end_of_day(TODAY + timedelta(days=2)), 0  # reminds at 08:00
            elif number % 10 < 7:
                due_at, level = end_of_day(TODAY - timedelta(days=400 - number % 300)), 0
                met = due_at - timedelta(days=3)
            elif number % 10 < 9:
                due_at, level = end_of_day(TODAY + timedelta(days=45 + number % 330)), 0
            else:
                due_at, level = end_of_day(TODAY - timedelta(days=40 + number % 300)), 2
            batch.append(
                {"case_id": case_id, "kind": DeadlineKind.STATE, "state": "at_tss",
                 "body_id": tss_id, "due_at": due_at, "reminder_days": [7, 2],
                 "escalation_level": level, "created_at": created, "met_at": met}
            )  # fmt: skip
            if len(batch) >= 20000:
                connection.execute(insert(Deadline), batch)
                batch = []
        if batch:
            connection.execute(insert(Deadline), batch)
        if connection.dialect.name == "postgresql":
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('cases', 'id'), "
                    "(SELECT MAX(id) FROM cases))"
                )
            )
        connection.execute(text("ANALYZE"))


def measure_volume(url: str, rows: int, due: int) -> dict[str, float]:
    """The 08:00 tick writing `due` reminders among `rows` deadline rows, and a quiet tick."""
    engine = make_engine(url)
    _populate_volume(engine, rows, due)
    _timed(engine, _at(7, 30))  # the first tick is a full sweep; it sets the watermark
    quiet_ticks = [_timed(engine, _at(7, 31 + n)) for n in range(5)]
    quiet = [ms for ms, _report in quiet_ticks]
    due_ms, report = _timed(engine, _at(8, 0))
    engine.dispose()
    clock.set_time(None)
    assert report.reminders >= due, report
    return {
        "rows": rows, "due": due, "reminders": report.reminders,
        "due_tick_s": due_ms / 1000, "quiet_tick_s": statistics.median(quiet) / 1000,
        # A quiet tick that looks at no deadline costs the same at any size.
        "quiet_tick_examined": max(r.examined for _ms, r in quiet_ticks),
    }  # fmt: skip
