"""Fixtures of the browser tests (their helpers are in browser_support.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from workflow.engine import clock


@pytest.fixture
def real_clock() -> Iterator[None]:
    """The live server runs on real time, like its users (its data was made with it): not on
    the suite's frozen clock."""
    clock.set_time(None)
    yield
