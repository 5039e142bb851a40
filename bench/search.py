"""Benchmark: full-text search latency at volume (issue 20), part of `make bench`.

On a database that holds the volume data (`aftaleflow bench-data`; `ensure_index` builds the
search index when the data was made around it), it times `workflow.search.queries.search` —
access filter, match, count, ranking, one page of 20 with snippets — as the bench secretariat
(TSS and the forums) and as a plain member of one coordination committee (whose party is also
consulted: the member's access filter is the policy's full rule). Each query runs ROUNDS times
after a warm-up, each in its own app context (the policy reads the user's standing once per
request). Reported per query: median and p95 wall time, the CPU time per query (this process,
plus the PostgreSQL backend's from /proc, so a loaded machine's waiting can be told from the
work), the load average, and the plan of the candidates' statement.

Standalone: `python -m bench.search [DATABASE_URL]` (default the SQLite file `make bench`
keeps in var/bench/).
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from models import Body, BodyKind, Case, Membership, Party, Role, SearchDocument, User
from workflow import volume
from workflow.engine.db import make_engine
from workflow.search import operations, queries, terms

ROUNDS = int(os.environ.get("BENCH_SEARCH_ROUNDS", "40"))
BUDGET_MS = 100.0
MEMBER_EMAIL = "medlem@bench.dk"
REQUEST = Flask("bench.search")
# (label, query, whether the budget applies): the budget is the two-word query's.
QUERIES = (
    ("two words", "genoptræning pilotprojekt", True),
    ("two words, common", "sagen genoptræning", True),
    ("phrase", '"tværsektoriel koordination"', False),
    ("prefix", "rehabil*", False),
)
_TICK = os.sysconf("SC_CLK_TCK")


def ensure_index(engine: Engine) -> int:
    """Build the search index if the data was written around it; return its documents."""
    with Session(engine) as session:
        documents = session.scalar(select(func.count()).select_from(SearchDocument)) or 0
        cases = session.scalar(select(func.count()).select_from(Case)) or 0
        if cases and documents < cases:
            documents = operations.reindex(session, read_files=False).documents
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # the planner's statistics for the new rows
            connection.execute(text("ANALYZE search_documents"))
    return documents


def _member(session: Session) -> User:
    """A plain member of one coordination committee, whose party is a municipality."""
    user = session.scalar(select(User).where(User.email == MEMBER_EMAIL))
    if user is not None:
        return user
    body = session.scalars(
        select(Body).where(Body.kind == BodyKind.COORDINATION_COMMITTEE).order_by(Body.id)
    ).first()
    party = session.scalars(select(Party).order_by(Party.id)).first()
    assert body is not None
    user = User(email=MEMBER_EMAIL, name="Bench Medlem", party_id=party.id if party else None)
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, body_id=body.id, role=Role.MEMBER))
    session.commit()
    return user


def _backend_cpu(session: Session) -> Any:
    """A function giving the CPU seconds this session's PostgreSQL backend has used so far
    (the server runs on this machine), or 0 on SQLite (its work is this process's)."""
    if session.get_bind().dialect.name != "postgresql":
        return lambda: 0.0
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    stat = Path(f"/proc/{pid}/stat")

    def used() -> float:
        if not stat.exists():
            return 0.0
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICK  # utime, stime

    return used


def _plan(session: Session, user: User, query: str) -> list[str]:
    """The plan of the statement that finds, filters and caps the candidates."""
    found, doc, _case, case_visible = queries._matches(session, terms.parse(query), user)
    found = found.where(queries._visible(session, user, doc, case_visible))
    found = found.limit(queries.RANKED + 1)
    sql = str(found.compile(session.get_bind(), compile_kwargs={"literal_binds": True}))
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        return [str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {sql}")][:12]
    return [str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}")]


def _percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]
    return statistics.median(ordered) * 1000, p95 * 1000


def measure(url: str, rounds: int = ROUNDS) -> dict[str, Any]:
    """Time the search queries on `url` (which holds the volume data); return the result."""
    engine = make_engine(url)
    documents = ensure_index(engine)
    rows: list[dict[str, Any]] = []
    plans: dict[str, list[str]] = {}
    load_before = os.getloadavg()
    with Session(engine) as session:
        users = {
            "secretariat": session.scalar(
                select(User).where(User.email == volume.SECRETARIAT_EMAIL)
            ),
            "member": _member(session),
        }
        backend = _backend_cpu(session)
        for label, query, budgeted in QUERIES:
            for who, user in users.items():
                assert user is not None, who
                criteria = queries.SearchFilter(query)
                with REQUEST.app_context():
                    found = queries.search(session, user, criteria)  # the warm-up
                session.rollback()
                samples = []
                cpu_before, backend_before = time.process_time(), backend()
                for _ in range(rounds):
                    with REQUEST.app_context():
                        start = time.perf_counter()
                        queries.search(session, user, criteria)
                        samples.append(time.perf_counter() - start)
                    session.rollback()
                cpu = time.process_time() - cpu_before + backend() - backend_before
                median, p95 = _percentiles(samples)
                rows.append(
                    {"label": label, "query": query, "as": who, "budgeted": budgeted,
                     "hits": found.total, "capped": found.capped, "rounds": rounds,
                     "p50_ms": median, "p95_ms": p95, "cpu_ms": cpu / rounds * 1000}
                )  # fmt: skip
                print(
                    f"  søgning {label:<18} {who:<12} {found.total:>5}{'+' if found.capped else ''}"
                    f" resultater  median {median:6.1f} ms  p95 {p95:6.1f} ms  "
                    f"CPU {cpu / rounds * 1000:6.1f} ms/søgning"
                )
        with REQUEST.app_context():
            plans = {
                who: _plan(session, user, QUERIES[0][1])
                for who, user in users.items()
                if user is not None
            }
    engine.dispose()
    return {
        "documents": documents,
        "rounds": rounds,
        "ranked": queries.RANKED,
        "load_average": {"before": load_before, "after": os.getloadavg()},
        "queries": rows,
        "plan": plans,
    }


def table(search: dict[str, Any]) -> str:
    """The Markdown table of one database's search figures."""
    lines = [
        "| query | as | hits | median | p95 | CPU per search | budget (p95) | result |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in search["queries"]:
        hits = f"{row['hits']:,}".replace(",", " ") + (" (capped)" if row["capped"] else "")
        if row["budgeted"]:
            budget = f"≤ {BUDGET_MS:.0f} ms"
            verdict = "pass" if row["p95_ms"] <= BUDGET_MS else "**FAIL**"
        else:
            budget, verdict = "–", "–"
        lines.append(
            f"| {row['label']} `{row['query']}` | {row['as']} | {hits} | "
            f"{row['p50_ms']:.1f} ms | {row['p95_ms']:.1f} ms | {row['cpu_ms']:.1f} ms | "
            f"{budget} | {verdict} |"
        )
    return "\n".join(lines)


def main() -> None:
    default = Path("var") / "bench" / f"bench-{volume_cases()}.db"
    url = sys.argv[1] if len(sys.argv) > 1 else f"sqlite:///{default}"
    result = measure(url)
    print(table(result))
    print("\n".join(f"{who}: {line}" for who, plan in result["plan"].items() for line in plan))


def volume_cases() -> int:
    return int(os.environ.get("BENCH_CASES", "100000"))


if __name__ == "__main__":
    main()
