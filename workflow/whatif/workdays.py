"""Working-day arithmetic over a fixed span of days, answered from a table instead of a loop.

The replay moves thousands of moments by whole working days; counting them one day at a time
would cost a holiday lookup per day per move.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from workflow.engine.calendar import is_working_day
from workflow.engine.clock import LOCAL_TZ


class WorkingDays:
    """Danish working days from `first` to `last` (both included), indexed by their count."""

    def __init__(self, first: date, last: date) -> None:
        self.first = first
        self.last = last
        span = (last - first).days + 1
        # counts[i]: working days from `first` up to and including first + i days.
        self.counts: list[int] = []
        self.days: list[date] = []  # the working days in order
        running = 0
        for offset in range(span):
            day = first + timedelta(days=offset)
            if is_working_day(day):
                running += 1
                self.days.append(day)
            self.counts.append(running)

    def _count(self, day: date) -> int:
        """Working days from `first` up to and including `day` (clamped to the span)."""
        offset = (day - self.first).days
        if offset < 0:
            return 0
        return self.counts[min(offset, len(self.counts) - 1)]

    def between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
        return self._count(end) - self._count(start)

    def shift_day(self, day: date, working_days: int) -> date:
        """The day `working_days` working days after `day` (before, if negative).

        A day that is not a working day keeps its distance in calendar days from the working
        day before it, so a Saturday decision moves to a Saturday.
        """
        if working_days == 0:
            return day
        count = self._count(day)
        anchor = self.days[count - 1] if count > 0 else self.first
        rest = day - anchor
        target = min(max(count + working_days, 1), len(self.days))
        return self.days[target - 1] + rest

    def shift(self, moment: datetime, working_days: int) -> datetime:
        """Move an aware moment by working days, keeping its Danish time of day."""
        if working_days == 0:
            return moment
        local = moment.astimezone(LOCAL_TZ)
        day = self.shift_day(local.date(), working_days)
        moved = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ)
        return moved.astimezone(moment.tzinfo)
