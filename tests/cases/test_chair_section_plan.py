"""PostgreSQL's plans for the chair's front page.

The chair's section (cases to decide): each of the chair's bodies read through its (current
body, next deadline) index, its first cases only, never a bitmap of every open case of the
processes (0.5 -> 98-210 ms at 100,000 cases, found twice; docs/performance.md). The plan
rests on the estimate of the open states, which migration 0027's statistics on the cases'
(process, version, state) combinations give.

The co-chairs' proposals and the material warnings: once prepared, PostgreSQL keeps their
generic plan instead of planning them on every view (0.4 and 0.8 ms of each view)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from models import User
from workflow import policy, volume
from workflow.cases import queries
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.meetings import material_watch

pytestmark = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL's planner (SQLite's has none)"
)

# Enough cases for the planner to choose by its statistics, not by tables of a few pages.
CASES = 3000
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def generated() -> Iterator[Engine]:
    """A scratch database of CASES generated cases (as the bench's, smaller), analysed."""
    with scratch_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
        engine = make_engine(url)
        volume.generate(engine, CASES, now=NOW)
        with engine.begin() as connection:
            connection.execute(text("ANALYZE"))
        yield engine
        engine.dispose()


def _nodes(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [plan, *(node for child in plan.get("Plans", []) for node in _nodes(child))]


def _generic_plan(session: Session, statement: Any) -> list[dict[str, Any]]:
    """The plan PostgreSQL keeps for the statement once it is prepared (the front page's
    statements are prepared after five executions), as a list of its nodes."""
    compiled = statement.compile(dialect=session.get_bind().dialect)
    names: list[str] = []

    def numbered(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    sql = re.sub(r"%\((\w+)\)s", numbered, compiled.string)
    values = ", ".join(str(int(compiled.params[name])) for name in names)
    session.execute(text("SET LOCAL plan_cache_mode = force_generic_plan"))
    session.execute(text(f"PREPARE chair_section AS {sql}"))
    try:
        found = session.scalar(text(f"EXPLAIN (FORMAT JSON) EXECUTE chair_section({values})"))
    finally:
        session.execute(text("DEALLOCATE chair_section"))
    plan = found if isinstance(found, list) else json.loads(found)
    return _nodes(plan[0]["Plan"])


def test_the_chairs_section_reads_each_body_by_its_next_deadline(generated):
    with Session(generated) as session:
        # What the estimate rests on (migration 0027): dropping it made the plan a bitmap.
        kinds = session.scalar(
            text("SELECT stxkind FROM pg_statistic_ext WHERE stxname = 'st_cases_process_state'")
        )
        assert kinds is not None and {"f", "m"} <= set(kinds)  # dependencies, mcv
        chair = session.scalars(select(User).where(User.email == volume.CHAIR_EMAIL)).one()
        roles = queries.roles_of(queries.active_memberships(session, chair))
        assert len(roles.chaired) > 1
        known = queries.definitions(session)
        statement = queries._section_rows(
            queries.TO_DECIDE,
            roles,
            policy.visible_cases(session, chair, bodies_written=True),
            queries.versions_of(known),
            queries.SECTION_COUNT_CAP,
            queries.DECISIONS_SHOWN,
            True,
            "postgresql",
        )
        nodes = _generic_plan(session, statement)
        session.rollback()
    by_body = [node for node in nodes if node.get("Index Name") == "ix_cases_current_body_next_due"]
    assert by_body, [node["Node Type"] for node in nodes]
    assert all("current_body_id" in node["Index Cond"] for node in by_body)
    read_cases = [node for node in nodes if node.get("Relation Name") == "cases"]
    # The section's cases come from the bodies' indexes (then the 10 shown by primary key):
    # no bitmap over the open states, no scan of every case.
    assert {node["Node Type"] for node in read_cases} <= {"Index Scan", "Index Only Scan"}
    assert not [node for node in nodes if node["Node Type"] == "BitmapOr"]


def test_the_chairs_proposals_and_material_warnings_keep_one_generic_plan(generated):
    with Session(generated) as session:
        chair = session.scalars(select(User).where(User.email == volume.CHAIR_EMAIL)).one()
        roles = queries.roles_of(queries.active_memberships(session, chair))
        visible = policy.visible_cases(session, chair, bodies_written=True)
        # psycopg prepares a statement at its fifth execution; PostgreSQL plans its first five
        # executions as custom plans, then keeps the generic plan if it is not dearer.
        for _ in range(15):
            queries.awaiting_consent(session, chair, set(roles.chaired), visible)
            material_watch.material_warnings(session, roles.chaired, visible, NOW)
        plans = session.execute(
            text("SELECT statement, generic_plans, custom_plans FROM pg_prepared_statements")
        ).all()
        session.rollback()
    for table in ("case_events", "deadlines"):
        (found,) = [plan for plan in plans if plan.statement.startswith(f"SELECT {table}.id")]
        assert found.custom_plans == 5 and found.generic_plans >= 5, found.statement[:60]
