"""Benchmark: applying a reorganisation plan to 10 000 open cases.

Builds a database with N open cases (half at TSS, half at SKU, raised by the ten
samordningsudvalg, each with a state deadline and one event on its chain) and a chair and a
secretary in TSS and SKU, then times the dry run and the application of the demo plan
data/reorganisations/sundhedsreform-2027.toml (every case moved with its own sealed event, its
deadline recomputed, the new body's chairs told; memberships, meetings and series in the same
unit of work). Run with `python -m bench.reorganise`; PostgreSQL too when $TEST_DATABASE_URL
points at a server. BENCH_REORGANISE_CASES sets the sizes (default 1000,10000).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, func, insert, select
from sqlalchemy.orm import Session

from models import Body, Case, CaseEvent, Deadline, DeadlineKind, Membership, Role, User
from workflow.engine import clock, migrate
from workflow.engine.calendar import end_of_day
from workflow.engine.chain import case_event_hash
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import operations, reorganise, seed

SIZES = tuple(int(n) for n in os.environ.get("BENCH_REORGANISE_CASES", "1000,10000").split(","))
CREATED = datetime(2026, 9, 1, 9, 0, tzinfo=LOCAL_TZ)
APPLIED = datetime(2027, 1, 1, 6, 0, tzinfo=LOCAL_TZ)


def _populate(engine: Engine, cases: int) -> None:
    """Migrate, seed and add `cases` open cases at TSS and SKU, each with an event and a
    deadline; a chair and a secretary in TSS and SKU; an administrator."""
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)
        bodies = {b.code: b for b in session.scalars(select(Body))}
        committees = [code for code in bodies if code.startswith("SU-")]
        session.add(User(email="admin@bench.dk", name="Administrator", is_admin=True))
        for number, (code, role) in enumerate(
            [("TSS", Role.CHAIR), ("TSS", Role.SECRETARIAT), ("SKU", Role.CHAIR),
             ("SKU", Role.SECRETARIAT)]
        ):  # fmt: skip
            user = User(email=f"person{number}@bench.dk", name=f"Person {number}")
            session.add(user)
            session.flush()
            session.add(Membership(user_id=user.id, body_id=bodies[code].id, role=role))
        rows = []
        for n in range(cases):
            at_sku = n % 2 == 1
            holder = bodies["SKU" if at_sku else "TSS"]
            rows.append(
                {"process": "signature_initiative", "process_version": 1,
                 "state": "at_sku" if at_sku else "at_tss", "title": f"Sag {n}",
                 "originating_body_id": bodies[committees[n % len(committees)]].id,
                 "current_body_id": holder.id, "created_at": CREATED, "updated_at": CREATED,
                 "state_entered_at": CREATED}
            )  # fmt: skip
        session.execute(insert(Case), rows)
        events, deadlines = [], []
        for case in session.scalars(select(Case).order_by(Case.id)):
            event = CaseEvent(
                case_id=case.id, seq=1, trigger="create", from_state=None,
                to_state=case.state, comment="", data={}, created_at=CREATED,
                prev_hash="0" * 64,
            )  # fmt: skip
            event.hash = case_event_hash(event)
            events.append(
                {c: getattr(event, c) for c in ("case_id", "seq", "trigger", "from_state",
                 "to_state", "comment", "data", "created_at", "prev_hash", "hash")}
            )  # fmt: skip
            deadlines.append(
                {"case_id": case.id, "kind": DeadlineKind.STATE, "state": case.state,
                 "body_id": case.current_body_id, "due_at": end_of_day(CREATED.date()),
                 "reminder_days": [7, 2], "created_at": CREATED}
            )  # fmt: skip
        session.execute(insert(CaseEvent), events)
        session.execute(insert(Deadline), deadlines)
        session.commit()


def _measure(engine: Engine, cases: int) -> dict[str, float]:
    _populate(engine, cases)
    plan = reorganise.load_plan(reorganise.find_plan("sundhedsreform-2027"))
    clock.set_time(APPLIED)
    with Session(engine, expire_on_commit=False) as session:
        started = time.perf_counter()
        preview = reorganise.preview(session, plan)
        dry_ms = (time.perf_counter() - started) * 1000
        assert preview.gaps == [], preview.gaps[:3]
        assert len(preview.moves) == cases
        session.rollback()
        admin = session.scalar(select(User).where(User.email == "admin@bench.dk"))
        assert admin is not None
        started = time.perf_counter()
        applied = operations.apply_plan(session, plan, admin)
        apply_ms = (time.perf_counter() - started) * 1000
        assert applied.cases_moved == cases
        moved_events = session.scalar(
            select(func.count(CaseEvent.id)).where(CaseEvent.trigger == "reorganise")
        )
        assert moved_events == cases
        started = time.perf_counter()
        again = operations.apply_plan(session, plan, admin)
        again_ms = (time.perf_counter() - started) * 1000
        assert again.already_applied
        open_deadlines = session.scalar(
            select(func.count(Deadline.id)).where(
                Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None)
            )
        )
        assert open_deadlines is not None and open_deadlines >= cases
    engine.dispose()
    clock.set_time(None)
    return {"tørkørsel (--dry-run)": dry_ms, "gennemførelse": apply_ms, "anden gang": again_ms}


def _run(label: str, make: Callable[[int], Engine], sizes: tuple[int, ...]) -> None:
    for cases in sizes:
        for name, ms in _measure(make(cases), cases).items():
            per_case = ms / cases
            print(
                f"{label:<11} {cases:>6} åbne sager  {name:<22} {ms / 1000:8.2f} s  "
                f"({per_case:.2f} ms pr. sag)"
            )


def main() -> None:
    """Print the cost of a dry run and of applying the plan for each database size."""
    with tempfile.TemporaryDirectory() as tmp:
        _run("SQLite", lambda n: make_engine(f"sqlite:///{Path(tmp) / f'r{n}.db'}"), SIZES)
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        for cases in SIZES:
            with scratch_postgres_database(server) as scratch:
                _run("PostgreSQL", lambda _n, url=scratch: make_engine(url), (cases,))


if __name__ == "__main__":
    main()
