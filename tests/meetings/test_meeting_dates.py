"""Dates outside the calendar the app plans with are refused, not carried into a series
that leaves the calendar (year 10000) and answers 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Meeting, User


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2201-01-01"])
def test_a_meeting_series_far_outside_the_calendar_is_refused(
    client: FlaskClient,
    logged_in: Callable[..., User],
    session: Session,
    text_of: Callable[[Any], str],
    day: str,
) -> None:
    logged_in("secretariat@TSS")
    response = client.post(
        "/moeder/planlaeg",
        data={"body": "TSS", "title": "Fjernt møde", "day": day, "start": "23:00",
              "minutes_long": "1440", "frequency": "monthly", "interval": "12", "count": "5"},
        follow_redirects=True,
    )  # fmt: skip
    assert response.status_code == 200
    assert "Datoen skal ligge mellem år 1900 og 2200. Ret årstallet." in text_of(response)
    assert session.scalar(select(Meeting).where(Meeting.title == "Fjernt møde")) is None
