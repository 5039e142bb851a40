"""Danish working days (hverdage) and end-of-day times in Europe/Copenhagen."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache

from workflow.engine.clock import LOCAL_TZ


@lru_cache(maxsize=32)
def _danish_holidays(year: int) -> frozenset[date]:
    # Imported on first use, with the year's holidays, not when the app starts (cold start).
    import holidays

    return frozenset(holidays.country_holidays("DK", years=year).keys())


def is_working_day(day: date) -> bool:
    """A weekday that is not a Danish public holiday."""
    return day.weekday() < 5 and day not in _danish_holidays(day.year)


def subtract_days(day: date, days: int, *, working_days: bool) -> date:
    """Go `days` calendar days, or working days, back from `day`."""
    if not working_days:
        return day - timedelta(days=days)
    current = day
    remaining = days
    while remaining > 0:
        current -= timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def end_of_day(day: date) -> datetime:
    """Return 23:59 Danish time on `day`, as UTC (correct across daylight saving)."""
    local = datetime.combine(day, time(23, 59), tzinfo=LOCAL_TZ)
    return local.astimezone(UTC)


def local_date(moment: datetime) -> date:
    """Return the Danish calendar date of an aware datetime."""
    return moment.astimezone(LOCAL_TZ).date()
