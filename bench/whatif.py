"""Benchmark: the what-if replay over 10,000 cases (issue 19: "replays 10,000 cases in seconds").

Generates BENCH_WHATIF_CASES cases (default 10,000, about 96,500 events, over five years;
`aftaleflow bench-data`, workflow/volume.py) into a fresh database, then times, each a few
times (the median is reported), loading the history of all of them (`whatif.queries
.load_history`) and replaying it against TSS's materialefrist shortened to 4 working days
(`whatif.replay.replay`), as the page and `aftaleflow whatif --months 60 --material TSS=4` do.
Run with `python -m bench.whatif`; PostgreSQL too when $TEST_DATABASE_URL points at a server.
`make bench` (bench/run.py) measures the same on its own database via `measure()`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from workflow import volume
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.whatif.queries import load_history, months_ago
from workflow.whatif.replay import replay
from workflow.whatif.scenario import Scenario

CASES = int(os.environ.get("BENCH_WHATIF_CASES", "10000"))
MONTHS = 12 * volume.YEARS  # every generated case
REPEATS = 3
SCENARIO = Scenario(months=MONTHS, material_days={"TSS": 4})


def measure(url: str, months: int = MONTHS, repeats: int = REPEATS) -> dict[str, Any]:
    """Time loading the last `months` months' history and replaying it (medians)."""
    engine = make_engine(url)
    now = datetime.now(UTC)
    scenario = Scenario(months=months, material_days=dict(SCENARIO.material_days))
    loads, replays, cpu, result = [], [], [], None
    with Session(engine) as session:
        for _ in range(repeats):
            began, began_cpu = time.perf_counter(), time.process_time()
            history = load_history(session, months_ago(now, months), now)
            loaded = time.perf_counter()
            result = replay(history, scenario)
            loads.append(loaded - began)
            replays.append(time.perf_counter() - loaded)
            cpu.append(time.process_time() - began_cpu)
            session.rollback()
    engine.dispose()
    assert result is not None
    return {
        "cases": result.cases + sum(result.stopped.values()), "replayed": result.cases,
        "months": months,
        "load_s": statistics.median(loads), "replay_s": statistics.median(replays),
        "total_s": statistics.median(a + b for a, b in zip(loads, replays, strict=True)),
        # This process's CPU time: what the wall clock shows on a machine not shared with others.
        "cpu_s": statistics.median(cpu),
        "moved_earlier": len(result.moved_earlier), "stopped": result.stopped,
    }  # fmt: skip


def _run(name: str, url: str) -> None:
    began = time.perf_counter()
    volume.generate(make_engine(url), CASES)
    print(f"{name}: {CASES} sager genereret på {time.perf_counter() - began:.0f} s")
    figures = measure(url)
    print(
        f"  {figures['cases']} sager, {figures['replayed']} genafspillet "
        f"(stoppet: {figures['stopped']}): indlæsning {figures['load_s']:.2f} s, genafspilning "
        f"{figures['replay_s']:.2f} s, i alt {figures['total_s']:.2f} s "
        f"(CPU {figures['cpu_s']:.2f} s); {figures['moved_earlier']} behandlinger et møde tidligere"
    )


def main() -> None:
    print(f"load average: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    with tempfile.TemporaryDirectory() as tmp:
        _run("SQLite", f"sqlite:///{Path(tmp) / 'whatif.db'}")
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            _run("PostgreSQL", url)


if __name__ == "__main__":
    main()
