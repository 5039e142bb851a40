"""Benchmark: what a transition costs in Python, counted rather than timed.

perform() (a forum matter raised by its chair: audit event, deadlines, outbox, routes) against
the raw audited transaction of `bench.run` (read the chain's head, UPDATE the case, INSERT the
sealed event, commit), each run a few hundred times under cProfile on a scratch SQLite file.
The number of Python function calls per transaction does not move with the machine's load,
which wall time on a shared machine does; the ratio of the two counts is the share of the raw
transaction's rate perform() could reach where Python is the cost. Also prints CPU time.
Run with `python -m bench.perform_calls`.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import tempfile
import time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bench.raw_transaction import raw_audited_transaction
from models import Body, Membership, Role, User
from workflow.engine import core, migrate
from workflow.engine.db import make_engine
from workflow.organisation import seed

TRANSACTIONS = int(os.environ.get("BENCH_TRANSACTIONS", "200"))


def measure(path: Path, transactions: int = TRANSACTIONS) -> dict[str, float]:
    """Function calls and CPU seconds per transaction, perform() and raw."""
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        seed.run(session)
        forum = session.scalar(select(Body).where(Body.code == "FORUM-DATA"))
        assert forum is not None
        chair = User(email="formand@bench.dk", name="Formand")
        session.add(chair)
        session.flush()
        session.add(Membership(user_id=chair.id, body_id=forum.id, role=Role.CHAIR))
        session.commit()
        cases = [
            core.create_case(
                session, process="forum_matter", title=f"Sag {n}", originating_body=forum,
                actor=chair,
            )
            for n in range(transactions + 1)
        ]  # fmt: skip
        core.perform(cases[0], "raise", chair)  # warm: definitions, compiled statements
        profile = cProfile.Profile()
        began = time.process_time()
        profile.enable()
        for case in cases[1:]:
            core.perform(case, "raise", chair)
        profile.disable()
        perform_cpu = (time.process_time() - began) / transactions
        perform_calls = pstats.Stats(profile).total_calls / transactions
        ids, chair_id = [case.id for case in cases[1:]], chair.id
    raw_audited_transaction(engine, ids[0], chair_id)
    profile = cProfile.Profile()
    began = time.process_time()
    profile.enable()
    for case_id in ids[1:]:
        raw_audited_transaction(engine, case_id, chair_id)
    profile.disable()
    raw_cpu = (time.process_time() - began) / (len(ids) - 1)
    raw_calls = pstats.Stats(profile).total_calls / (len(ids) - 1)
    engine.dispose()
    return {
        "perform_calls": perform_calls, "raw_calls": raw_calls,
        "perform_cpu_ms": perform_cpu * 1000, "raw_cpu_ms": raw_cpu * 1000,
    }  # fmt: skip


def main() -> None:
    """Print the counts and their ratio."""
    with tempfile.TemporaryDirectory() as folder:
        result = measure(Path(folder) / "calls.db")
    print(
        f"funktionskald pr. transaktion: perform() {result['perform_calls']:.0f}, "
        f"rå {result['raw_calls']:.0f} ({result['raw_calls'] / result['perform_calls']:.0%}); "
        f"CPU under profilering: {result['perform_cpu_ms']:.2f} ms "
        f"mod {result['raw_cpu_ms']:.2f} ms"
    )


if __name__ == "__main__":
    main()
