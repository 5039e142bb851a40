"""Reading meetings: the past meetings of the user's bodies, searched and a page at a time."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    bindparam,
    cast,
    func,
    literal_column,
    null,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import QueryableAttribute, Session, aliased

from models import (
    AgendaItem,
    Attendance,
    Body,
    Meeting,
    MeetingAttendee,
    MeetingHistoryEntry,
    MinutesApproval,
    User,
)
from workflow.engine.clock import LOCAL_TZ
from workflow.meetings.roll import Roll

PAGE_SIZE = 20


@dataclass(frozen=True)
class PastSearch:
    """What the reader searches for: words in the title, body or items, and a date range."""

    text: str = ""
    since: date | None = None
    until: date | None = None
    page: int = 1


@dataclass(frozen=True)
class PastPage:
    meetings: Sequence[Meeting]
    total: int
    page: int
    pages: int


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


def _filtered(body_ids: list[int], search: PastSearch, now: datetime) -> Select[tuple[Meeting]]:
    query = (
        select(Meeting)
        .join(Body, Body.id == Meeting.body_id)
        .where(Meeting.body_id.in_(body_ids), Meeting.starts_at < now)
    )
    if search.text:
        pattern = _like(search.text)
        on_agenda = select(AgendaItem.meeting_id).where(
            AgendaItem.removed_at.is_(None), func.lower(AgendaItem.title).like(pattern, "\\")
        )
        query = query.where(
            or_(
                func.lower(Meeting.title).like(pattern, "\\"),
                func.lower(Meeting.location).like(pattern, "\\"),
                func.lower(Body.code).like(pattern, "\\"),
                func.lower(Body.name).like(pattern, "\\"),
                Meeting.id.in_(on_agenda),
            )
        )
    if search.since is not None:
        query = query.where(Meeting.starts_at >= datetime.combine(search.since, time(), LOCAL_TZ))
    if search.until is not None:
        end = datetime.combine(search.until + timedelta(days=1), time(), LOCAL_TZ)
        query = query.where(Meeting.starts_at < end)
    return query


def past_meetings(
    session: Session, body_ids: list[int], search: PastSearch, now: datetime
) -> PastPage:
    """The bodies' meetings that have begun, newest first, one page (paginated in the database)."""
    query = _filtered(body_ids, search, now)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max((total + PAGE_SIZE - 1) // PAGE_SIZE, 1)
    page = min(max(search.page, 1), pages)
    rows = session.scalars(
        query.order_by(Meeting.starts_at.desc(), Meeting.id.desc())
        .limit(PAGE_SIZE)
        .offset((page - 1) * PAGE_SIZE)
    ).all()
    return PastPage(rows, total, page, pages)


# The meeting page's records of a meeting: its roll (and minute taker), the participants'
# approvals of the minutes and its history, read in one statement rather than one each
# (every statement is a round trip to PostgreSQL and some 170 Python calls through the ORM;
# the bench's held meeting has none of them and paid three statements for nothing). Each
# part's rows are typed by `part`; the columns a part lacks are NULL, cast to the columns'
# types (PostgreSQL takes two untyped NULLs for text) so that every row's values come back
# as the part's own would. The people are joined once, outside the parts; each part comes
# in the order it had when read alone: the roll by name, the approvals by time, the history
# by id.
_TAKER, _ROLL, _APPROVAL, _HISTORY = range(4)
_ATTENDANCE_COLUMNS: list[ColumnElement[Any]] = [MeetingAttendee.attendance.label("attendance")]
_APPROVAL_COLUMNS: list[ColumnElement[Any]] = [
    # Its user_id is the part's person (`user_id`).
    column.label(f"approval_{column.key}")
    for column in MinutesApproval.__table__.columns
    if column.key != "user_id"
]
_HISTORY_COLUMNS: list[ColumnElement[Any]] = [
    MeetingHistoryEntry.created_at.label("created_at"),
    MeetingHistoryEntry.action.label("action"),
    MeetingHistoryEntry.to_status.label("to_status"),
    MeetingHistoryEntry.comment.label("comment"),
]


def _part(
    part: int,
    seq: ColumnElement[Any] | QueryableAttribute[Any],
    user_id: ColumnElement[Any] | QueryableAttribute[Any],
    *columns: list[ColumnElement[Any]],
) -> Select[Any]:
    """One part's rows: its number, its order, its person, then every part's columns, its
    own or NULL."""
    own = set(map(id, columns))
    values: list[ColumnElement[Any]] = []
    for group in (_ATTENDANCE_COLUMNS, _APPROVAL_COLUMNS, _HISTORY_COLUMNS):
        values += (
            group
            if id(group) in own
            else [cast(null(), column.type).label(column.name) for column in group]
        )
    return select(
        literal_column(str(part), Integer).label("part"),
        seq.label("seq"),
        user_id.label("user_id"),
        *values,
    )


_MEETING_ID = bindparam("meeting_id", type_=Integer)
_NO_USER = cast(null(), Integer)
_BY_NAME = literal_column("0", Integer)  # the roll: ordered by the person's name, outside
_RECORDS = union_all(
    _part(_TAKER, _BY_NAME, Meeting.minute_taker_id).where(
        Meeting.id == _MEETING_ID, Meeting.minute_taker_id.is_not(None)
    ),
    _part(_ROLL, _BY_NAME, MeetingAttendee.user_id, _ATTENDANCE_COLUMNS).where(
        MeetingAttendee.meeting_id == _MEETING_ID
    ),
    _part(
        _APPROVAL,
        func.row_number().over(order_by=(MinutesApproval.approved_at, MinutesApproval.id)),
        MinutesApproval.user_id,
        _APPROVAL_COLUMNS,
    ).where(MinutesApproval.meeting_id == _MEETING_ID),
    _part(_HISTORY, MeetingHistoryEntry.id, _NO_USER, _HISTORY_COLUMNS).where(
        MeetingHistoryEntry.meeting_id == _MEETING_ID
    ),
).subquery("meeting_records")
_RECORD_APPROVAL = aliased(MinutesApproval, _RECORDS)
_MEETING_RECORDS = (
    select(
        _RECORDS.c.part,
        _RECORDS.c.attendance,
        User,
        _RECORD_APPROVAL,
        _RECORDS.c.created_at,
        _RECORDS.c.action,
        _RECORDS.c.to_status,
        _RECORDS.c.comment,
    )
    .select_from(_RECORDS)
    .outerjoin(User, User.id == _RECORDS.c.user_id)
    .order_by(_RECORDS.c.part, _RECORDS.c.seq, User.name, User.id)
)


@dataclass(frozen=True)
class MeetingRecords:
    """What the meeting page shows of a meeting's attendance, approvals and history."""

    roll: Roll
    # The participants' approvals of the minutes with who gave them, oldest first.
    approvals: list[tuple[MinutesApproval, User]]
    # The history's entries (created_at, action, to_status, comment), oldest first.
    history: list[Row[Any]]


def meeting_records(session: Session, meeting: Meeting) -> MeetingRecords:
    """The meeting's roll (as `roll.roll` reads it), its participants' approvals (as
    `attendance.approvals`) and its history (as `operations.history`), in one statement."""
    present: list[User] = []
    absent: list[User] = []
    taker: User | None = None
    approvals: list[tuple[MinutesApproval, User]] = []
    history: list[Row[Any]] = []
    for row in session.execute(_MEETING_RECORDS, {"meeting_id": meeting.id}):
        part, user = row.part, row[2]
        if part == _TAKER:
            taker = user
        elif part == _ROLL:
            (present if row.attendance is Attendance.PRESENT else absent).append(user)
        elif part == _APPROVAL:
            approvals.append((row[3], user))
        else:
            history.append(row)
    return MeetingRecords(Roll(present, absent, taker), approvals, history)
