"""Cases whose next reachable meeting's materialefrist is near, and what each still lacks —
so missing material is flagged before the deadline, not after it."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from models import Case, Meeting
from workflow.engine.guards import Failure
from workflow.meetings.forecast import forecast

# How many days ahead of a materialefrist a case is flagged (AFTALEFLOW_MATERIAL_WARNING_DAYS).
DEFAULT_WARNING_DAYS = 14
WATCH_LIMIT = 200


@dataclass(frozen=True)
class MaterialWarning:
    """A case due at a meeting soon, the meeting's materialefrist and what the case lacks."""

    case: Case
    meeting: Meeting
    due_at: datetime
    missing: tuple[Failure, ...]


def warning_for(session: Session, case: Case, now: datetime, days: int) -> MaterialWarning | None:
    """The warning for `case` if its next reachable meeting's materialefrist is within `days`."""
    prognosis = forecast(session, case, now)
    missing: list[Failure] = []
    for step in prognosis.steps:
        missing.extend(step.blockers)
        if not step.at_meeting or step.meeting is None or step.material_deadline is None:
            continue
        if now <= step.material_deadline <= now + timedelta(days=days):
            return MaterialWarning(case, step.meeting, step.material_deadline, tuple(missing))
        return None
    return None


def material_warnings(
    session: Session,
    body_ids: Iterable[int],
    visible: ColumnElement[bool],
    now: datetime,
    days: int = DEFAULT_WARNING_DAYS,
) -> list[MaterialWarning]:
    """Warnings for the visible cases raised by or lying with the bodies, soonest first."""
    ids = list(body_ids)
    if not ids:
        return []
    cases = session.scalars(
        select(Case)
        .where(
            visible,
            or_(Case.originating_body_id.in_(ids), Case.current_body_id.in_(ids)),
        )
        .order_by(Case.id)
        .limit(WATCH_LIMIT)
    )
    found = [w for case in cases if (w := warning_for(session, case, now, days)) is not None]
    return sorted(found, key=lambda w: (w.due_at, w.case.id))
