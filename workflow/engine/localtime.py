"""Danish dates and times, in Europe/Copenhagen, for stored text (see `formats`)."""

from __future__ import annotations

from datetime import date, datetime

from workflow.engine import formats

MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


def format_date(value: date | datetime) -> str:
    """Format like '13. november 2020' (a datetime is first moved to Danish time)."""
    return formats.format_date(value)


def format_datetime(value: datetime) -> str:
    """Format like '13. november 2020 kl. 09:30' in Danish time."""
    return formats.format_datetime(value)
