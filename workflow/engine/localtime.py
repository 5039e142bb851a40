"""Danish formatting of dates and times, in Europe/Copenhagen."""

from __future__ import annotations

from datetime import date, datetime

from workflow.engine.clock import LOCAL_TZ

MONTHS_DA = (
    "januar", "februar", "marts", "april", "maj", "juni",
    "juli", "august", "september", "oktober", "november", "december",
)  # fmt: skip


def format_date(value: date | datetime) -> str:
    """Format like '13. november 2020' (a datetime is first moved to Danish time)."""
    if isinstance(value, datetime):
        value = value.astimezone(LOCAL_TZ).date()
    return f"{value.day}. {MONTHS_DA[value.month - 1]} {value.year}"


def format_datetime(value: datetime) -> str:
    """Format like '13. november 2020 kl. 09:30' in Danish time."""
    local = value.astimezone(LOCAL_TZ)
    return f"{format_date(local)} kl. {local:%H:%M}"
