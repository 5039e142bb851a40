"""Benchmark: full-text search latency at volume (issue 20).

Generates BENCH_SEARCH_CASES cases (default 100,000, about a million events; the volume
generator of `aftaleflow bench-data`), builds the search index (`aftaleflow search reindex`) and
times the search as the bench chair (a member, so the access filter is the real one) and as an
administrator: a two-word query, a one-word query matching many documents, a phrase and a
prefix, each BENCH_SEARCH_ROUNDS times after a warm-up; prints median and p95 in ms. SQLite,
and PostgreSQL when $TEST_DATABASE_URL points at a server. Run with `python -m bench.search`.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import User
from workflow import volume
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.search import operations
from workflow.search.queries import SearchFilter, search

CASES = int(os.environ.get("BENCH_SEARCH_CASES", "100000"))
ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "100"))
BUDGET_MS = 100.0
REQUEST = Flask("bench.search")
QUERIES = {
    "two words": "genoptræning pilotprojekt",
    "one common word": "sagen",
    "phrase": '"tværsektoriel koordination"',
    "prefix": "rehabil*",
}


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


def measure(name: str, url: str) -> list[str]:
    engine = make_engine(url)
    began = time.perf_counter()
    report = volume.generate(engine, CASES)
    generated = time.perf_counter() - began
    with Session(engine) as session:
        began = time.perf_counter()
        built = operations.reindex(session, read_files=False)
        indexed = time.perf_counter() - began
        chair = session.scalar(select(User).where(User.email == volume.CHAIR_EMAIL))
        admin = User(email="admin@bench.dk", name="Bench admin", is_admin=True)
        session.add(admin)
        session.commit()
        lines = [
            f"### {name}: {CASES:,} cases, {report.events:,} events, {built.documents:,} search "
            f"documents (generated in {generated:.0f} s, indexed in {indexed:.0f} s)",
            "",
            "| query | as | hits | median | p95 | budget (p95) |",
            "|---|---|---|---|---|---|",
        ]
        for label, text in QUERIES.items():
            for who, user in (("chair (member)", chair), ("administrator", admin)):
                criteria = SearchFilter(text)
                found = search(session, user, criteria)
                samples = []
                for _ in range(ROUNDS):
                    # One request each: the policy reads the user's standing once per request.
                    with REQUEST.app_context():
                        start = time.perf_counter()
                        search(session, user, criteria)
                        samples.append(time.perf_counter() - start)
                    session.rollback()
                median, p95 = _ms(samples)
                verdict = "pass" if p95 <= BUDGET_MS else "**FAIL**"
                lines.append(
                    f"| {label} `{text}` | {who} | {found.total:,} | {median:.1f} ms | "
                    f"{p95:.1f} ms | ≤ {BUDGET_MS:.0f} ms: {verdict} |"
                )
    engine.dispose()
    return lines


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        print("\n".join(measure("SQLite", f"sqlite:///{Path(folder) / 'search.db'}")), flush=True)
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            print("\n".join(measure("PostgreSQL", url)), flush=True)


if __name__ == "__main__":
    main()
