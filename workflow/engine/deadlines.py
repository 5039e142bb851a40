"""Deadlines a case carries, derived from its process definition and the meeting calendars."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, event, func, insert, inspect, select, update
from sqlalchemy import case as sql_case
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from models import Body, Case, Deadline, DeadlineKind, Meeting, MeetingStatus
from workflow.engine.calendar import end_of_day, local_date, subtract_days
from workflow.engine.definitions import DeadlineRule, StateSpec

# The columns that decide a case's next open deadline.
_DUE_COLUMNS = ("case_id", "due_at", "met_at", "cancelled_at")
_PENDING = "aftaleflow_next_due_cases"


@event.listens_for(Session, "after_flush")
def _note_changed_deadlines(session: Session, _context: Any) -> None:
    """Note the cases whose deadlines this flush added, moved, met, cancelled or removed."""
    cases: set[int] = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        if isinstance(obj, Deadline) and obj.case_id is not None:
            cases.add(obj.case_id)
    for obj in session.deleted:
        if isinstance(obj, Deadline) and obj.case_id is not None:
            cases.add(obj.case_id)
    for obj in session.dirty:
        if isinstance(obj, Deadline):
            state = inspect(obj)
            if any(state.attrs[name].history.has_changes() for name in _DUE_COLUMNS):
                cases.add(obj.case_id)
                cases.update(state.attrs.case_id.history.deleted or ())


@event.listens_for(Session, "after_flush_postexec")
def _keep_next_due(session: Session, _context: Any) -> None:
    """Keep `cases.next_due_at` the earliest open deadline of each case noted above, in the
    same transaction (one UPDATE per flush), so pages read it from an indexed column."""
    cases = session.info.pop(_PENDING, None)
    if cases:
        refresh_next_due(session, cases)


_CASES = Case.__table__
_DEADLINES = Deadline.__table__
# Built once (see close_open_deadlines): the earliest open deadline of each listed case.
_REFRESH_NEXT_DUE = (
    update(_CASES)  # type: ignore[arg-type]
    .where(_CASES.c.id.in_(bindparam("case_ids", expanding=True)))
    .values(
        next_due_at=select(func.min(_DEADLINES.c.due_at))
        .where(
            _DEADLINES.c.case_id == _CASES.c.id,
            _DEADLINES.c.met_at.is_(None),
            _DEADLINES.c.cancelled_at.is_(None),
        )
        .scalar_subquery()
    )
)


def refresh_next_due(session: Session, case_ids: Iterable[int]) -> None:
    """Set `cases.next_due_at` from the open deadlines of these cases. The flush listener calls
    it; code that writes deadlines around the ORM (bulk inserts and updates) must call it too."""
    ids = sorted(set(case_ids))
    if not ids:
        return
    session.connection().execute(_REFRESH_NEXT_DUE, {"case_ids": ids})
    for case_id in ids:
        loaded = session.identity_map.get(session.identity_key(Case, case_id))
        if loaded is not None:
            session.expire(loaded, ["next_due_at"])


def next_meeting(session: Session, body_id: int, after: datetime) -> Meeting | None:
    """Return the body's next meeting that is not cancelled, starting after `after`."""
    return session.scalar(
        select(Meeting)
        .where(
            Meeting.body_id == body_id,
            Meeting.starts_at > after,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.starts_at)
        .limit(1)
    )


def material_deadline(meeting: Meeting, body: Body) -> datetime:
    """Return the materialefrist of `meeting`: its date minus the body's N (working) days."""
    due_day = subtract_days(
        local_date(meeting.starts_at),
        body.material_deadline_days,
        working_days=body.material_deadline_working_days,
    )
    return end_of_day(due_day)


def reachable_meeting(session: Session, body: Body, after: datetime) -> Meeting | None:
    """Return the body's first meeting whose material deadline has not passed at `after`.

    A case that arrives after one meeting's deadline is treated at the meeting after it,
    so its material deadline is that meeting's, not one already missed.
    """
    upcoming = session.scalars(
        select(Meeting)
        .where(
            Meeting.body_id == body.id,
            Meeting.starts_at > after,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.starts_at)
        .limit(12)
    )
    return next((m for m in upcoming if material_deadline(m, body) >= after), None)


def _field_date(case: Case, rule: DeadlineRule) -> date | None:
    raw = case.extra.get(rule.field)
    return date.fromisoformat(str(raw)) if raw else None


def planned_meeting_start(session: Session, case: Case) -> datetime | None:
    """Return the start of the meeting the case's open material deadline is for, if any."""
    return session.scalar(
        select(Meeting.starts_at)
        .join(Deadline, Deadline.meeting_id == Meeting.id)
        .where(
            Deadline.case_id == case.id,
            Deadline.kind == DeadlineKind.MATERIAL,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


def build_deadline(
    session: Session,
    case: Case,
    state: StateSpec,
    entered_at: datetime,
    *,
    after: datetime | None = None,
) -> Deadline | None:
    """Build (not add) the deadline `state` gives a case entering it at `entered_at`.

    `after` skips meetings up to that time (a case postponed past a meeting).
    """
    values = deadline_values(session, case, state, entered_at, after=after)
    return Deadline(**values) if values is not None else None


def deadline_values(
    session: Session,
    case: Case,
    state: StateSpec,
    entered_at: datetime,
    *,
    after: datetime | None = None,
) -> dict[str, Any] | None:
    """The columns of the deadline `state` gives a case entering it at `entered_at` (see
    `build_deadline`), or None when it gives none."""
    rule = state.deadline
    if rule is None:
        return None
    meeting_id: int | None = None
    kind = DeadlineKind.STATE
    if rule.kind == "days_after_entry":
        # Count calendar days in Danish time: a UTC offset across daylight saving would
        # otherwise move the due day.
        due_at = end_of_day(local_date(entered_at) + timedelta(days=rule.days))
    elif rule.kind == "material":
        body = session.get(Body, case.current_body_id)
        not_before = max(entered_at, after) if after is not None else entered_at
        meeting = reachable_meeting(session, body, not_before) if body else None
        if body is None or meeting is None:
            return None  # no meeting planned yet; scheduling one sets the deadline
        due_at = material_deadline(meeting, body)
        meeting_id = meeting.id
        kind = DeadlineKind.MATERIAL
    elif rule.kind == "field":
        day = _field_date(case, rule)
        if day is None:
            return None
        due_at = end_of_day(day)
        kind = DeadlineKind.CONSULTATION
    else:  # month_day, relative to the plan year
        if case.plan_year is None:
            return None
        month, day_of_month = (int(part) for part in rule.month_day.split("-"))
        due_at = end_of_day(date(case.plan_year + rule.year_offset, month, day_of_month))
    return {
        "case_id": case.id,
        "kind": kind,
        "state": state.name,
        "body_id": case.current_body_id,
        "meeting_id": meeting_id,
        "due_at": due_at,
        "reminder_days": list(state.reminders),
        "created_at": entered_at,
    }


def _closing(column: str) -> Any:
    """The UPDATE that closes a case's open deadlines (all but follow-ups) and returns every
    open one's kind and due time, built once: a statement built and keyed for each transition
    costs more Python than SQLite takes to run it. Open follow-ups are matched too, and left
    open, so that what stays open is known without a read of its own."""
    follow_up = _DEADLINES.c.kind == DeadlineKind.FOLLOW_UP
    closed_at = bindparam("closed_at", type_=_DEADLINES.c[column].type)
    return (
        update(_DEADLINES)  # type: ignore[arg-type]
        .where(
            _DEADLINES.c.case_id == bindparam("closing_case_id"),
            _DEADLINES.c.met_at.is_(None),
            _DEADLINES.c.cancelled_at.is_(None),
        )
        .values({column: sql_case((follow_up, None), else_=closed_at)})
        .returning(_DEADLINES.c.kind, _DEADLINES.c.due_at)
    )


_MEET_OPEN = _closing("met_at")
_CANCEL_OPEN = _closing("cancelled_at")
# Set one case's next_due_at to a value known already (see _set_next_due).
_SET_NEXT_DUE = (
    update(_CASES)  # type: ignore[arg-type]
    .where(_CASES.c.id == bindparam("next_due_case_id"))
    .values(next_due_at=bindparam("next_due_at", type_=_CASES.c.next_due_at.type))
)


def close_open_deadlines(
    session: Session, case: Case, now: datetime, *, met: bool
) -> tuple[int, list[datetime]]:
    """Mark the case's open deadlines (follow-ups aside) as met (left the state) or cancelled
    (re-planned), in one UPDATE (no read of each first); return how many were closed and the
    due times of the open follow-ups left. The caller keeps `cases.next_due_at` (the flush
    listener does not see a statement like this one)."""
    rows = (
        session.connection()
        .execute(
            _MEET_OPEN if met else _CANCEL_OPEN, {"closing_case_id": case.id, "closed_at": now}
        )
        .all()
    )
    left = [due_at for kind, due_at in rows if kind == DeadlineKind.FOLLOW_UP]
    closed = len(rows) - len(left)
    if closed:
        # Deadlines of the case loaded earlier read the new value when next used.
        for obj in list(session.identity_map.values()):
            if isinstance(obj, Deadline) and obj.case_id == case.id:
                session.expire(obj, ["met_at", "cancelled_at"])
    return closed, left


def _set_next_due(session: Session, case: Case, value: datetime | None) -> None:
    """Set the case's next_due_at to `value`: with the case's own pending UPDATE when it has
    one (a transition on SQLite: no statement of its own), else by one UPDATE of the column
    (no version bump, as the flush listener's)."""
    if inspect(case).modified:
        case.next_due_at = value
        return
    session.connection().execute(_SET_NEXT_DUE, {"next_due_case_id": case.id, "next_due_at": value})
    set_committed_value(case, "next_due_at", value)


def recompute(
    session: Session,
    case: Case,
    state: StateSpec,
    now: datetime,
    *,
    left_state: bool,
    after: datetime | None = None,
) -> None:
    """Close the deadlines of the state left (or re-planned), add the new state's one and set
    the case's next_due_at from what is left open, known without reading it again."""
    closed, still_open = close_open_deadlines(session, case, now, met=left_state)
    values = deadline_values(session, case, state, now, after=after)
    if values is None and not closed:
        return  # nothing open changed
    if values is not None:
        # Inserted as a row, not added as an object: nothing in the transition reads it
        # again, and the ORM's flush of one more object cost a transition more Python than
        # the rest of its deadline work. Its case's next_due_at is set below.
        session.connection().execute(_INSERT_DEADLINE, values)
        still_open.append(values["due_at"])
    _set_next_due(session, case, min(still_open, default=None))


_INSERT_DEADLINE = insert(_DEADLINES)  # type: ignore[arg-type]
