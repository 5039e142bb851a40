"""The reports' SQL gives the figures of the straightforward reports (`reference_reports`: every
case and event walked in Python) cell for cell, on generated data with returns, cancelled and
met deadlines, closed and open cases; and no statement binds more parameters as cases grow."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
import reference_reports as reference
from flask import Flask
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from workflow import volume
from workflow.app import create_app
from workflow.engine import clock
from workflow.reports import queries as reports
from workflow.reports.queries import Filters

NOW = datetime(2026, 6, 1, 10, tzinfo=UTC)
COMPARED = ("status_by_body", "status_by_focus_area", "overdue", "decisions", "throughput",
            "time_in_state")  # fmt: skip


def _app(engine: Engine) -> Flask:
    """The app over the test's own database."""
    return create_app(
        {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "SECRET_KEY": "r" * 40}
    )


@pytest.fixture
def generated(empty_engine) -> Iterator[Session]:
    volume.generate(empty_engine, 400, now=NOW)
    app = _app(empty_engine)
    with app.test_request_context("/"), Session(empty_engine) as session:
        clock.set_time(NOW)
        yield session


FILTERS = [
    Filters(),
    Filters(date(2025, 3, 1), date(2025, 12, 31)),
    Filters(end=date(2024, 6, 30)),
    Filters(body="TSS"),
    Filters(body="SKU"),
    Filters(process="forum_matter"),
    Filters(date(2025, 1, 1), process="signature_initiative", body="SKU"),
]


def test_every_report_gives_the_straightforward_figures(generated):
    session = generated
    compared = 0
    for filters in FILTERS:
        for name in COMPARED:
            expected = getattr(reference, name)(session, filters)
            found = getattr(reports, name)(session, filters)
            assert (found.title, found.columns) == (expected.title, expected.columns)
            assert found.rows == expected.rows, (name, filters)
            compared += len(found.rows)
    assert compared > 1000
    # The generated data holds what the figures depend on.
    waits = reports.time_in_state(session)
    assert sum(row[3] for row in waits.rows) > 1000 and sum(row[6] for row in waits.rows) > 0
    assert reports.throughput(session).rows and reports.overdue(session).rows


def test_a_mean_on_half_a_tenth_is_rounded_as_the_stays_are_summed():
    # fmean([0.1, 0.2]) is 0.15000000000000002, so 0.2; a mean of exact tenths would say 0.1.
    cases = [[0.1, 0.2], [0.25, 0.05], [0.3, 0.0], [1.2, 3.5, 0.1, 0.2], [2.5], [0.05, 0.05]]
    for days in cases:
        lengths = reports._Lengths(count=0, tenths=0, longest=0.0, exact=list(days))
        expected = round(statistics.fmean(days), 1)
        assert lengths.mean() in (expected, None), days
        tenths = [round(d * 10) for d in days if round(d * 10) == d * 10]
        if len(tenths) == len(days):  # counted in tenths, as the statement sums them
            summed = reports._Lengths(count=len(days), tenths=sum(tenths), longest=max(days))
            assert summed.mean() in (expected, None), days
    assert reports._Lengths(count=2, tenths=3).mean() is None  # 0.15: the stays decide


def test_no_statement_binds_more_parameters_as_cases_grow(empty_engine):
    """A report over every visible case must not bind a parameter per case: PostgreSQL takes
    at most 65,535 and refused the reports at 100,000 cases."""
    app = _app(empty_engine)
    bound: list[int] = []

    @event.listens_for(empty_engine, "before_cursor_execute")
    def count(_conn, _cursor, _statement, parameters, _context, executemany):  # type: ignore[no-untyped-def]
        if not executemany:
            bound.append(len(parameters or ()))

    most = []
    for batch in (60, 240):
        volume.generate(empty_engine, batch, now=NOW, seed_value=batch)
        bound.clear()
        with app.test_request_context("/"), Session(empty_engine) as session:
            clock.set_time(NOW)
            for name in COMPARED:
                assert getattr(reports, name)(session, Filters()).rows is not None
        most.append(max(bound))
    assert most[0] == most[1]


def test_a_page_of_decisions_is_its_window_of_the_whole_report(generated):
    session = generated
    for filters in FILTERS:
        whole = reports.decisions(session, filters).rows
        assert reports.decisions_count(session, filters) == len(whole)
        for offset in {0, 7, max(len(whole) - 3, 0)}:
            window = reports.decisions(session, filters, (offset, 5)).rows
            assert window == whole[offset : offset + 5], (filters, offset)
    assert len(reports.decisions(session).rows) > 10
