"""Benchmark: audited transitions per second through engine.perform().

Compares SQLite in WAL mode with synchronous=NORMAL (our configuration) against SQLite's
default rollback journal, and PostgreSQL when $TEST_DATABASE_URL points at a server.
Run with `make bench`.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.orm import Session

from models import Body, Membership, Role, User
from workflow.engine import core as workflow_engine
from workflow.engine import migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed

CASES = int(os.environ.get("BENCH_CASES", "150"))


def _default_journal_engine(path: Path) -> Engine:
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 15})

    @event.listens_for(engine, "connect")
    def _foreign_keys(dbapi_connection, _record):  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    return engine


def _measure(engine: Engine) -> float:
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        seed.run(session)
        forum = session.scalar(select(Body).where(Body.code == "FORUM-DATA"))
        assert forum is not None
        chair = User(email=f"bench-{time.time_ns()}@bench.dk", name="Bench")
        session.add(chair)
        session.flush()
        session.add(Membership(user_id=chair.id, body_id=forum.id, role=Role.CHAIR))
        session.commit()
        cases = [
            workflow_engine.create_case(
                session,
                process="forum_matter",
                title=f"Sag {n}",
                originating_body=forum,
                actor=chair,
            )
            for n in range(CASES)
        ]
        started = time.perf_counter()
        for case in cases:
            workflow_engine.perform(case, "raise", chair)
            workflow_engine.perform(case, "decide", chair, comment="Besluttet")
            workflow_engine.perform(case, "close", chair, comment="Afsluttet")
        elapsed = time.perf_counter() - started
    engine.dispose()
    return CASES * 3 / elapsed


def main() -> None:
    """Print transitions per second for each configuration."""
    results: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite, standardjournal"] = _measure(_default_journal_engine(Path(tmp) / "d.db"))
        results["SQLite, WAL + NORMAL"] = _measure(make_engine(f"sqlite:///{Path(tmp) / 'w.db'}"))
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as scratch:
            results["PostgreSQL"] = _measure(make_engine(scratch))
    for name, rate in results.items():
        print(f"{name:<26} {rate:8.1f} overgange/s ({CASES * 3} auditerede overgange)")
    ratio = results["SQLite, WAL + NORMAL"] / results["SQLite, standardjournal"]
    print(f"WAL + NORMAL / standardjournal: {ratio:.1f}×")


if __name__ == "__main__":
    main()
