"""The engine's clock: real time by default, fixed or advanced in tests, the demo and the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import models.base

LOCAL_TZ = ZoneInfo("Europe/Copenhagen")

_frozen: datetime | None = None
# A running clock shifted into the past or future: the demo runs on its story's date.
_offset = timedelta(0)


def now() -> datetime:
    """Return the current aware UTC time: frozen if set, else real time plus any offset."""
    return _frozen if _frozen is not None else datetime.now(UTC) + _offset


def run_from(moment: datetime) -> None:
    """Let the clock run on from `moment` (aware) instead of the real time."""
    global _offset
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    _offset = moment - datetime.now(UTC)


def is_shifted() -> bool:
    """Tell whether the clock runs on a date other than the real one (demo mode)."""
    return _offset != timedelta(0)


def set_time(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware), or release it with None."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    _frozen = moment.astimezone(UTC) if moment is not None else None


def reset() -> None:
    """Back to real time: neither frozen nor shifted (tests, and a demo server shutting down)."""
    global _offset
    set_time(None)
    _offset = timedelta(0)


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward and return the new time."""
    if _frozen is None:
        raise RuntimeError("advance() needs a frozen clock; call set_time() first")
    set_time(_frozen + delta)
    return now()


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Run a block with the clock frozen at `moment`, restoring the previous setting after."""
    previous = _frozen
    set_time(moment)
    try:
        yield
    finally:
        set_time(previous)


# Column defaults (created_at, updated_at …) read the same clock as the engine.
models.base.use_clock(now)
