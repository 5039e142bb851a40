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
from functools import lru_cache
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

from models import Case, Deadline, DeadlineKind, Meeting
from workflow.cases import rules
from workflow.engine.db import written
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
    ids = tuple(sorted(set(body_ids)))
    if not ids:
        return []
    rows = session.execute(
        _watched(ids, visible, WATCH_LIMIT), {"now": now, "until": now + timedelta(days=days)}
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


_NOW = bindparam("now", type_=Deadline.due_at.type)
_UNTIL = bindparam("until", type_=Deadline.due_at.type)


@lru_cache(maxsize=1024)
def _watched(
    body_ids: tuple[int, ...], visible: ColumnElement[bool], limit: int
) -> Select[tuple[Deadline, Case, Meeting]]:
    """The statement for the bodies and the reader's access rule (`policy.visible_cases`,
    kept per standing), built once for them, so its SQL cache key is walked once.

    A material deadline falls before its meeting, so one still ahead belongs to a coming
    meeting: the database is led from the few coming meetings to their deadlines by index.
    The due time is compared and sorted through coalesce (it is never empty) for SQLite,
    which would otherwise walk every open deadline of the window in due order (2,000 of
    them, none material, at 100,000 cases: 2.8 ms of every front page).

    The meeting's start is compared through coalesce on PostgreSQL (`_estimated_alike`):
    it estimated the coming meetings from the bound moment in a custom plan (54 of 1,152)
    and by a third in the generic one, so it never settled on the generic plan (the same
    plan) and planned the statement on every front page (0.8 ms); through coalesce both
    estimate a third."""
    due = func.coalesce(Deadline.due_at, Deadline.due_at)
    bodies = [written(body_id) for body_id in body_ids]
    coming = select(Meeting.id).where(_estimated_alike(Meeting.starts_at) >= _NOW)
    return (
        select(Deadline, Case, Meeting)
        .join(Case, Case.id == Deadline.case_id)
        .join(Meeting, Meeting.id == Deadline.meeting_id)
        .options(joinedload(Meeting.body), selectinload(Case.national_goals))
        .where(
            visible,
            or_(Case.originating_body_id.in_(bodies), Case.current_body_id.in_(bodies)),
            Deadline.kind == written(DeadlineKind.MATERIAL.value),
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.meeting_id.in_(coming),
            due >= _NOW,
            due <= _UNTIL,
        )
        .order_by(due, Case.id)
        .limit(literal_column(str(int(limit))))
    )


class _estimated_alike(FunctionElement[datetime]):
    """A moment column compared through coalesce on PostgreSQL, which then estimates a
    comparison with a bound moment the same whatever its value (a third), in custom and
    generic plans alike; the plain column elsewhere (SQLite reads the coming meetings from
    its (body, start) index by it: 0.03 ms, 0.08 through coalesce)."""

    type = Meeting.starts_at.type
    name = "estimated_alike"
    inherit_cache = True


@compiles(_estimated_alike)
def _estimated_alike_plain(element: _estimated_alike, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(column, **kw)


@compiles(_estimated_alike, "postgresql")
def _estimated_alike_postgresql(element: _estimated_alike, compiler: SQLCompiler, **kw: Any) -> str:
    (column,) = element.clauses
    return compiler.process(func.coalesce(column, column), **kw)
