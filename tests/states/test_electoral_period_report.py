"""The report before the end of the electoral period (seed 001 l.161): every transition, and the
case the scheduler's daily rhythms job opens once for each period of data/electoral_periods.toml."""

from __future__ import annotations

from datetime import date

import pytest

# The contract every process meets, parametrized over PROCESS by conftest.py.
from process_contract import (  # noqa: F401
    test_actor_without_the_role_is_refused_and_told_who_may,
    test_allowed_role_fires_the_transition,
    test_decision_is_taken_at_a_meeting_of_the_deciding_body,
    test_each_guard_of_the_transition_is_enforced,
    test_missing_required_field_is_named,
    test_transition_is_refused_outside_its_source_states,
)
from sqlalchemy import select

from models import Case, Deadline
from workflow.cases import rhythms
from workflow.engine.calendar import local_date
from workflow.engine.definitions import DefinitionError, parse_definition
from workflow.engine.processes import registry

PROCESS = "electoral_period_report"


def _open(session, day):
    return [c for c in rhythms.open_due_cases(session, day) if c.process == PROCESS]


def test_the_periods_are_data_and_each_su_gets_one_report_due_by_its_end(session):
    periods = rhythms.electoral_periods()
    assert rhythms.period_on(date(2020, 9, 1), periods) == rhythms.ElectoralPeriod(
        date(2018, 1, 1), date(2021, 12, 31)
    )
    reports = _open(session, date(2020, 9, 1))
    assert _open(session, date(2021, 6, 1)) == []  # the same period: nothing new
    assert len(reports) == 10  # one per coordination committee
    report = next(r for r in reports if r.originating_body.code == "SU-NORD-SOM")
    assert report.title == (
        "Afrapportering inden valgperiodens udløb 2018-2021: Samordningsudvalg Nord (somatik)"
    )
    assert (report.state, report.current_body.code) == ("preparing", "SU-NORD-SOM")
    deadline = session.scalar(select(Deadline).where(Deadline.case_id == report.id))
    assert deadline is not None and local_date(deadline.due_at) == date(2021, 12, 31)
    assert deadline.reminder_days == [180, 90, 30]

    next_period = _open(session, date(2022, 1, 3))
    assert {r.extra["period_end"] for r in next_period} == {"2025-12-31"}


def test_no_report_outside_the_periods_of_the_data(session):
    assert _open(session, date(2035, 1, 1)) == []


def test_without_the_rhythm_in_the_definition_no_report_is_opened(session):
    definition = registry.latest(session, PROCESS)
    without = "\n".join(
        line for line in definition.source.splitlines() if not line.startswith("opens")
    )
    # The deadline reads the period's end, which only the rhythm writes: the loader says so.
    with pytest.raises(DefinitionError, match="period_end"):
        parse_definition(without, "states/electoral_period_report.toml")
    loosened = parse_definition(
        without.replace('deadline = { kind = "field", field = "period_end" }', ""),
        "states/electoral_period_report.toml",
    )
    assert rhythms.open_due_cases(session, date(2020, 9, 1), [loosened]) == []
    assert rhythms.open_due_cases(session, date(2020, 9, 1), [definition])
    assert session.scalar(select(Case.id).where(Case.process == PROCESS)) is not None
