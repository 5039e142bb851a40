"""Cases whose next meeting's materialefrist is near, and what each still lacks — so missing
material is flagged before the deadline, not after it.

The lists are read in a fixed number of statements (the dashboard must not grow with the
number of cases): the open material deadlines in the window, with their cases, meetings and
national goals, and the cases' municipal extra expense; what is missing is then checked by the
agreement's own rules (workflow/cases/rules.py) on what was read."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Case, Deadline, DeadlineKind, Meeting
from workflow.cases import rules
from workflow.engine.guards import Failure

# How many days ahead of a materialefrist a case is flagged (app config MATERIAL_WARNING_DAYS).
DEFAULT_WARNING_DAYS = 14
WATCH_LIMIT = 100


@dataclass(frozen=True)
class MaterialWarning:
    """A case due at a meeting soon, the meeting's materialefrist and what the case lacks."""

    case: Case
    meeting: Meeting
    due_at: datetime
    missing: tuple[Failure, ...]


def missing_material(case: Case, municipal_expense: Decimal | None = None) -> tuple[Failure, ...]:
    """What the case's material lacks for a meeting: the agreement's own material rules
    (`workflow.cases.rules.material_failures`: focus and goals, the role distribution, Triple
    Aim, a business case and financing with extra expense), so the warning says what the
    guards will refuse."""
    return tuple(rules.material_failures(case, municipal_expense))


def material_warnings(
    session: Session,
    body_ids: Iterable[int],
    visible: ColumnElement[bool],
    now: datetime,
    days: int = DEFAULT_WARNING_DAYS,
) -> list[MaterialWarning]:
    """Open materialefrister within `days` of the visible cases raised by or lying with the
    bodies, soonest first."""
    ids = list(body_ids)
    if not ids:
        return []
    rows = session.execute(
        select(Deadline, Case, Meeting)
        .join(Case, Case.id == Deadline.case_id)
        .join(Meeting, Meeting.id == Deadline.meeting_id)
        .options(joinedload(Meeting.body), selectinload(Case.national_goals))
        .where(
            visible,
            or_(Case.originating_body_id.in_(ids), Case.current_body_id.in_(ids)),
            Deadline.kind == DeadlineKind.MATERIAL,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.due_at >= now,
            Deadline.due_at <= now + timedelta(days=days),
        )
        .order_by(Deadline.due_at, Case.id)
        .limit(WATCH_LIMIT)
    ).all()
    expenses = rules.municipal_extra_expenses(session, (case.id for _d, case, _m in rows))
    seen: set[int] = set()
    warnings: list[MaterialWarning] = []
    for deadline, case, meeting in rows:
        if case.id in seen:
            continue
        seen.add(case.id)
        missing = missing_material(case, expenses.get(case.id, Decimal(0)))
        warnings.append(MaterialWarning(case, meeting, deadline.due_at, missing))
    return warnings
