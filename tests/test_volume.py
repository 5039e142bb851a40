"""The volume generator (`aftaleflow bench-data`): realistic, sealed, and refused on a database
that already holds cases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Case, CaseEvent, CaseExpense, Deadline, Meeting
from workflow import volume
from workflow.cli import main
from workflow.engine import audit
from workflow.engine.processes import registry


def test_generated_cases_follow_their_processes_and_pass_the_audit(empty_engine, tmp_path):
    report = volume.generate(empty_engine, 300, now=datetime(2026, 6, 1, tzinfo=UTC))
    assert report.cases == 300
    with Session(empty_engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 300
        events = session.scalar(select(func.count()).select_from(CaseEvent)) or 0
        assert 6 * 300 < events < 16 * 300  # about ten per case
        # Every process is represented, in open and in final states.
        assert set(session.scalars(select(Case.process).distinct())) == set(registry.names(session))
        finals = open_ = 0
        for case in session.scalars(select(Case)):
            definition = registry.get(session, case.process, case.process_version)
            if definition.states[case.state].final:
                finals += 1
            else:
                open_ += 1
        assert finals > 50 and open_ > 50
        assert session.scalar(select(func.count()).select_from(Meeting))
        assert session.scalar(select(func.count()).select_from(CaseExpense))
        open_deadlines = session.scalar(
            select(func.count())
            .select_from(Deadline)
            .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None))
        )
        assert open_deadlines == report.open_deadlines > 0
        checked = audit.verify(session, tmp_path / "checkpoints")
    assert checked.problems == []
    assert checked.events == events


def test_more_cases_can_be_added_and_new_ones_still_get_fresh_ids(empty_engine, tmp_path):
    volume.generate(empty_engine, 40)
    volume.generate(empty_engine, 40, seed_value=15)
    with Session(empty_engine) as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 80
        assert audit.verify(session, tmp_path / "checkpoints").problems == []


@pytest.mark.sqlite_only
def test_the_command_refuses_a_database_with_cases(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    first = runner.invoke(main, ["--database-url", url, "bench-data", "--cases", "20"])
    assert first.exit_code == 0, first.output
    assert "20 sager" in first.output
    again = runner.invoke(main, ["--database-url", url, "bench-data", "--cases", "20"])
    assert again.exit_code != 0
    assert "har allerede 20 sager" in again.output
    added = runner.invoke(main, ["--database-url", url, "bench-data", "--cases", "5", "--add"])
    assert added.exit_code == 0, added.output
