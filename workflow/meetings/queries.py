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
    true,
    union_all,
)
from sqlalchemy.orm import QueryableAttribute, Session, aliased, joinedload

from models import (
    AgendaItem,
    Attendance,
    Body,
    Meeting,
    MeetingAttendee,
    MeetingHistoryEntry,
    Membership,
    MinutesApproval,
    User,
)
from workflow import policy
from workflow.engine.clock import LOCAL_TZ
from workflow.meetings.agenda import DOCUMENT_KINDS, newest_number
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


# The meeting page's reads of a meeting: the meeting with its body and the numbers of its
# newest agenda and minutes versions, its active items, its roll (and minute taker), the
# participants' approvals of the minutes, its history and its body's members with their
# memberships (for the policy's questions about each), in one statement rather than one each
# (every statement is a round trip to PostgreSQL and some 170 Python calls through the ORM;
# the bench's held meeting has none of the records and paid statements for nothing). Each
# part's rows are typed by `part`; the columns a part lacks are NULL, cast to the columns'
# types (PostgreSQL takes two untyped NULLs for text) so that every row's values come back
# as the part's own would. The meeting, the items and the people are joined once, outside
# the parts (a meeting without any parts keeps its one row); each part comes in the order it
# had when read alone: the items by position, the roll and the members by name, the
# approvals by time, the history by id.
_ITEM, _TAKER, _ROLL, _APPROVAL, _HISTORY, _MEMBER = range(6)
_ITEM_COLUMNS: list[ColumnElement[Any]] = [AgendaItem.id.label("item_id")]
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
    for group in (_ITEM_COLUMNS, _ATTENDANCE_COLUMNS, _APPROVAL_COLUMNS, _HISTORY_COLUMNS):
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
_BY_NAME = literal_column("0", Integer)  # the roll and the members: by the person's name, outside
_MEMBERSHIP_OF_BODY = aliased(Membership, name="membership_of_body")
_MEETING_OF_MEMBERS = aliased(Meeting, name="meeting_of_members")
_PARTS = union_all(
    _part(_ITEM, AgendaItem.position, _NO_USER, _ITEM_COLUMNS).where(
        AgendaItem.meeting_id == _MEETING_ID, AgendaItem.removed_at.is_(None)
    ),
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
    # The body's members: once each, however many memberships of the body they hold.
    _part(_MEMBER, _BY_NAME, _MEMBERSHIP_OF_BODY.user_id)
    .join(_MEETING_OF_MEMBERS, _MEETING_OF_MEMBERS.body_id == _MEMBERSHIP_OF_BODY.body_id)
    .where(_MEETING_OF_MEMBERS.id == _MEETING_ID, _MEMBERSHIP_OF_BODY.active.is_(True))
    .distinct(),
).subquery("meeting_parts")
_PART_APPROVAL = aliased(MinutesApproval, _PARTS)
_MEETING_PAGE = policy.with_memberships(
    select(
        Meeting,
        *(newest_number(Meeting.id, kind) for kind in DOCUMENT_KINDS),
        _PARTS.c.part,
        AgendaItem,
        _PARTS.c.attendance,
        User,
        *policy.MEMBERSHIP_COLUMNS,
        _PART_APPROVAL,
        _PARTS.c.created_at,
        _PARTS.c.action,
        _PARTS.c.to_status,
        _PARTS.c.comment,
    )
    .outerjoin_from(Meeting, _PARTS, true())
    .outerjoin_from(_PARTS, AgendaItem, AgendaItem.id == _PARTS.c.item_id)
    .outerjoin_from(_PARTS, User, User.id == _PARTS.c.user_id),
    # Only the members' memberships: a person on the roll is read once.
    only=_PARTS.c.part == literal_column(str(_MEMBER), Integer),
)
# Where the page's columns are in its rows.
_PART_AT = 1 + len(DOCUMENT_KINDS)
_USER_AT = _PART_AT + 3
_MEMBERSHIP_AT = _USER_AT + 1
_APPROVAL_AT = _MEMBERSHIP_AT + len(policy.MEMBERSHIP_COLUMNS)
_MEETING_PAGE = (
    _MEETING_PAGE.where(Meeting.id == _MEETING_ID)
    .options(joinedload(Meeting.body))
    .order_by(_PARTS.c.part, _PARTS.c.seq, User.name, User.id)
)


@dataclass(frozen=True)
class MeetingRecords:
    """What the meeting page shows of a meeting's attendance, approvals and history."""

    roll: Roll
    # The participants' approvals of the minutes with who gave them, oldest first.
    approvals: list[tuple[MinutesApproval, User]]
    # The history's entries (created_at, action, to_status, comment), oldest first.
    history: list[Row[Any]]


@dataclass(frozen=True)
class MeetingPage:
    """What the meeting page reads of a meeting in its one statement."""

    meeting: Meeting
    # The number of the newest version of each document kind ("agenda", "minutes"; a kind
    # not yet frozen is absent).
    versions: dict[str, int]
    # The items still on the agenda, in order (as `operations.active_items` reads them).
    items: list[AgendaItem]
    records: MeetingRecords
    # The users with an active membership of the body (deactivated users too), by name, the
    # active ones' standings kept for the request (as `policy.members_with_standings`).
    members: list[User]


def meeting_page(session: Session, meeting_id: int) -> MeetingPage | None:
    """The meeting (None if there is none), its newest versions' numbers, active items,
    roll (as `roll.roll` reads it), participants' approvals (as `attendance.approvals`),
    history (as `operations.history`) and its body's members (as
    `policy.members_with_standings`), in one statement."""
    rows = session.execute(_MEETING_PAGE, {"meeting_id": meeting_id}).all()
    if not rows:
        return None
    numbers = zip(DOCUMENT_KINDS, rows[0][1:_PART_AT], strict=True)
    items: list[AgendaItem] = []
    present: list[User] = []
    absent: list[User] = []
    taker: User | None = None
    approvals: list[tuple[MinutesApproval, User]] = []
    history: list[Row[Any]] = []
    members = policy.MembersRead()
    for row in rows:
        part, user = row[_PART_AT], row[_USER_AT]
        if part == _MEMBER:
            members.add(user, row[_MEMBERSHIP_AT : _MEMBERSHIP_AT + len(policy.MEMBERSHIP_COLUMNS)])
        elif part == _ITEM:
            items.append(row[_PART_AT + 1])
        elif part == _TAKER:
            taker = user
        elif part == _ROLL:
            (present if row.attendance is Attendance.PRESENT else absent).append(user)
        elif part == _APPROVAL:
            approvals.append((row[_APPROVAL_AT], user))
        elif part == _HISTORY:
            history.append(row)
    return MeetingPage(
        rows[0][0],
        {kind: number for kind, number in numbers if number is not None},
        items,
        MeetingRecords(Roll(present, absent, taker), approvals, history),
        members.kept(),
    )


def meeting_records(session: Session, meeting: Meeting) -> MeetingRecords:
    """The meeting's roll, its participants' approvals and its history, as the meeting page
    reads them (`meeting_page`)."""
    page = meeting_page(session, meeting.id)
    assert page is not None
    return page.records
