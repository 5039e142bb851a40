"""Meeting calendars and the steps of a meeting's life (not a case process).

A meeting is planned alone or as part of a series; its agenda is drafted, sent to the chairs
for review, published, the meeting is held, its minutes are approved by the chair, and it is
closed (and may be reopened). Those steps, who may take them and their labels are data in
states/meeting.toml, run by the machine of workflow.meetings.lifecycle. Every change is written
to the meeting's history; moving and cancelling go through material_deadlines, which moves the
cases' material deadlines.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session, object_session

from models import (
    AgendaItem,
    Body,
    ItemKind,
    Meeting,
    MeetingHistoryEntry,
    MeetingSeries,
    MeetingStatus,
    Role,
    SeriesFrequency,
    User,
    meeting_series_meetings,
)
from workflow import policy
from workflow.engine import clock
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.core import ROLE_MATCHES, ROLE_WORDS
from workflow.engine.definitions import LifecycleTransition
from workflow.engine.errors import GuardFailed, NotAllowed, WorkflowError
from workflow.meetings import lifecycle
from workflow.meetings.unit import meeting_unit

if TYPE_CHECKING:
    from workflow.meetings.material_deadlines import MeetingChange

APPROVAL_TITLE = "Godkendelse af dagsorden"
MAX_SERIES = 52

# Labels and steps come from states/meeting.toml (read when first asked).
STATUS_LABELS: Mapping[str, str] = lifecycle.StatusLabels()
TRANSITIONS: Mapping[str, LifecycleTransition] = lifecycle.Transitions()
# The states in which the agenda may still change (after publishing: as a new version).
AGENDA_OPEN = frozenset(
    {MeetingStatus.PLANNED, MeetingStatus.AGENDA_REVIEW, MeetingStatus.PUBLISHED}
)


def roles_in(session: Session, actor: User, body_id: int) -> set[Role]:
    """Return the active roles `actor` holds in the body (from the policy's standing, which
    the request has read already)."""
    return {role for held_in, role in policy.standing(session, actor).roles if held_in == body_id}


def record(
    session: Session,
    meeting: Meeting,
    actor: User | None,
    action: str,
    *,
    from_status: MeetingStatus | None = None,
    comment: str = "",
    data: dict[str, Any] | None = None,
) -> MeetingHistoryEntry:
    """Append one entry to the meeting's history (the audit of non-case changes)."""
    entry = MeetingHistoryEntry(
        meeting_id=meeting.id,
        actor_id=actor.id if actor else None,
        action=action,
        from_status=str(from_status) if from_status else None,
        to_status=str(meeting.status),
        comment=comment,
        data=data or {},
        created_at=clock.now(),
    )
    session.add(entry)
    return entry


def _check_times(starts_at: datetime, ends_at: datetime | None) -> None:
    if starts_at.tzinfo is None or (ends_at is not None and ends_at.tzinfo is None):
        raise ValueError("meeting times must be aware datetimes")
    if ends_at is not None and ends_at <= starts_at:
        raise WorkflowError(
            "Mødet skal slutte efter, det er begyndt. Ret sluttidspunktet.",
            "The meeting must end after it starts.",
        )


def _new_meeting(
    session: Session,
    body: Body,
    starts_at: datetime,
    ends_at: datetime | None,
    title: str,
    location: str,
    online_url: str | None,
    actor: User,
) -> Meeting:
    meeting = Meeting(
        body_id=body.id,
        title=title.strip() or f"Møde i {body.name}",
        starts_at=starts_at,
        ends_at=ends_at,
        location=location.strip(),
        online_url=(online_url or "").strip() or None,
        status=lifecycle.initial_status(),
        created_at=clock.now(),
    )
    session.add(meeting)
    session.flush()
    # The first item of every agenda is the approval of the agenda itself.
    session.add(
        AgendaItem(
            meeting_id=meeting.id,
            position=1,
            title=APPROVAL_TITLE,
            kind=ItemKind.DECISION,
            recommendation="Det indstilles, at dagsordenen godkendes.",
        )
    )
    record(session, meeting, actor, "planned", data={"starts_at": starts_at.isoformat()})
    return meeting


def plan_meeting(
    session: Session,
    body: Body,
    starts_at: datetime,
    actor: User,
    *,
    ends_at: datetime | None = None,
    title: str = "",
    location: str = "",
    online_url: str | None = None,
) -> Meeting:
    """Plan one meeting of `body` with its agenda's first item; commit."""
    policy.require(actor, "plan_meetings", body, session)
    _check_times(starts_at, ends_at)
    with meeting_unit(session):
        return _new_meeting(session, body, starts_at, ends_at, title, location, online_url, actor)


def occurrences(
    first: datetime, frequency: SeriesFrequency, interval: int, count: int
) -> list[datetime]:
    """Return the start times of a series, keeping the Danish wall-clock time across DST."""
    local = first.astimezone(LOCAL_TZ)
    starts: list[datetime] = []
    for n in range(count):
        if frequency is SeriesFrequency.WEEKLY:
            day = local.date() + timedelta(weeks=n * interval)
        else:
            month_index = local.month - 1 + n * interval
            year, month = local.year + month_index // 12, month_index % 12 + 1
            day = _clamped_day(year, month, local.day)
        moment = datetime.combine(day, local.timetz().replace(tzinfo=None), tzinfo=LOCAL_TZ)
        starts.append(moment.astimezone(first.tzinfo))
    return starts


def _clamped_day(year: int, month: int, day: int) -> Any:
    from calendar import monthrange
    from datetime import date

    return date(year, month, min(day, monthrange(year, month)[1]))


def plan_series(
    session: Session,
    body: Body,
    first_starts_at: datetime,
    actor: User,
    *,
    frequency: SeriesFrequency,
    count: int,
    interval: int = 1,
    duration_minutes: int = 120,
    title: str = "",
    location: str = "",
    online_url: str | None = None,
) -> tuple[MeetingSeries, list[Meeting]]:
    """Plan a recurring series of meetings (every `interval` weeks or months); commit."""
    policy.require(actor, "plan_meetings", body, session)
    _check_times(first_starts_at, None)
    if not 1 <= count <= MAX_SERIES or interval < 1 or duration_minutes < 1:
        raise WorkflowError(
            f"En mødeserie skal have mellem 1 og {MAX_SERIES} møder, et interval på mindst 1 "
            "og en varighed på mindst 1 minut.",
            f"A series needs 1 to {MAX_SERIES} meetings, interval >= 1 and a duration.",
        )
    series = MeetingSeries(
        body_id=body.id,
        title=title.strip(),
        frequency=frequency,
        interval=interval,
        count=count,
        first_starts_at=first_starts_at,
        duration_minutes=duration_minutes,
        location=location.strip(),
        online_url=(online_url or "").strip() or None,
        created_by_id=actor.id,
        created_at=clock.now(),
    )
    meetings = []
    with meeting_unit(session):
        session.add(series)
        session.flush()
        for start in occurrences(first_starts_at, frequency, interval, count):
            end = start + timedelta(minutes=duration_minutes)
            meeting = _new_meeting(session, body, start, end, title, location, online_url, actor)
            session.execute(
                insert(meeting_series_meetings).values(meeting_id=meeting.id, series_id=series.id)
            )
            meetings.append(meeting)
    return series, meetings


def series_of(session: Session, meeting: Meeting) -> MeetingSeries | None:
    """Return the series the meeting was planned in, if any."""
    return session.scalar(
        select(MeetingSeries)
        .join(meeting_series_meetings, meeting_series_meetings.c.series_id == MeetingSeries.id)
        .where(meeting_series_meetings.c.meeting_id == meeting.id)
    )


def update_details(
    session: Session,
    meeting: Meeting,
    actor: User,
    *,
    title: str | None = None,
    location: str | None = None,
    online_url: str | None = None,
    ends_at: datetime | None = None,
) -> None:
    """Change a meeting's title, place or end time (audited); commit."""
    policy.require(actor, "plan", meeting, session)
    _require_not_cancelled(meeting)
    _check_times(meeting.starts_at, ends_at)
    before = {"title": meeting.title, "location": meeting.location, "url": meeting.online_url}
    with meeting_unit(session):
        if title is not None and title.strip():
            meeting.title = title.strip()
        if location is not None:
            meeting.location = location.strip()
        if online_url is not None:
            meeting.online_url = online_url.strip() or None
        if ends_at is not None:
            meeting.ends_at = ends_at
        after = {"title": meeting.title, "location": meeting.location, "url": meeting.online_url}
        record(session, meeting, actor, "details_changed", data={"before": before, "after": after})


def move_meeting(
    session: Session, meeting: Meeting, new_start: datetime, actor: User, *, comment: str = ""
) -> MeetingChange:
    """Move a meeting, its material deadlines and reminders, recorded in its history."""
    # Imported on use: planning and agendas do not depend on the deadline mover.
    from workflow.meetings import material_deadlines as meeting_deadlines

    old_start = meeting.starts_at
    # One unit: the history entry is committed together with the moved deadlines.
    with meeting_unit(session):
        record(
            session, meeting, actor, "moved", comment=comment,
            data={"from": old_start.isoformat(), "to": new_start.isoformat()},
        )  # fmt: skip
        return meeting_deadlines.reschedule_meeting(
            session, meeting, new_start, actor, comment=comment
        )


def cancel_meeting(
    session: Session, meeting: Meeting, actor: User, *, comment: str = ""
) -> MeetingChange:
    """Cancel a meeting (the row stays); its cases' deadlines go to the next meeting."""
    # The step of states/meeting.toml is checked here; the deadline mover sets the status.
    check_step(session, meeting, "cancel", actor, comment=comment, own_operation=True)
    from workflow.meetings import material_deadlines as meeting_deadlines

    from_status = meeting.status
    # One unit: the cancellation, the deadlines it moves and the history entry.
    with meeting_unit(session):
        change = meeting_deadlines.cancel_meeting(session, meeting, actor, comment=comment)
        record(session, meeting, actor, "cancelled", from_status=from_status, comment=comment)
    return change


def step(
    session: Session, meeting: Meeting, name: str, actor: User, *, comment: str = ""
) -> MeetingHistoryEntry:
    """Take one step of the meeting's state machine (`change_status`) as its own unit of work."""
    with meeting_unit(session):
        return change_status(session, meeting, name, actor, comment=comment)


def _body(session: Session, meeting: Meeting) -> Body:
    body = session.get(Body, meeting.body_id)
    assert body is not None  # foreign key
    return body


def _require_not_cancelled(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise WorkflowError(
            "Mødet er aflyst og kan ikke ændres. Planlæg et nyt møde i stedet.",
            "The meeting is cancelled and cannot be changed.",
        )


def may_take(
    session: Session, actor: User | None, meeting: Meeting, transition: LifecycleTransition
) -> bool:
    """Tell whether `actor` holds a role that may take the step in the meeting's body."""
    if actor is None or not actor.active:
        return False
    held: set[Role] | None = None
    for ref in transition.allowed:
        if ref.role == "admin":
            if actor.is_admin:
                return True
            continue
        if held is None:
            held = roles_in(session, actor, meeting.body_id)
        if held & ROLE_MATCHES[ref.role]:
            return True
    return False


def _who_may(transition: LifecycleTransition, code: str) -> tuple[str, str, list[str]]:
    """Say in Danish and English who may take the step in body `code`."""
    danish: list[str] = []
    english: list[str] = []
    refs: list[str] = []
    for ref in transition.allowed:
        if ref.role == "admin":
            danish.append("administratorer")
            english.append("administrators")
            refs.append("admin")
            continue
        da, en = ROLE_WORDS[ref.role]
        danish.append(da.format(code))
        english.append(en.format(code))
        refs.append(f"{ref.role}@{code}")

    def listed(words: list[str], conjunction: str) -> str:
        return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {conjunction} {words[-1]}"

    return listed(danish, "eller"), listed(english, "or"), refs


def available_transitions(session: Session, meeting: Meeting, actor: User) -> list[str]:
    """List the meeting's steps `actor` may take now (not those with their own operation)."""
    return [
        t.trigger
        for t in lifecycle.definition().transitions_from(str(meeting.status))
        if not t.own_operation and may_take(session, actor, meeting, t)
    ]


def check_step(
    session: Session,
    meeting: Meeting,
    name: str,
    actor: User,
    *,
    comment: str = "",
    own_operation: bool = False,
) -> LifecycleTransition:
    """Check that `actor` may take the step `name` of states/meeting.toml now; return it.

    A step marked `own_operation` is checked only by that operation (`own_operation=True`).
    """
    transition = lifecycle.definition().transition(name)
    if transition is None:
        raise WorkflowError(f"Ukendt mødehandling '{name}'.", f"Unknown meeting action '{name}'.")
    body = _body(session, meeting)
    if not may_take(session, actor, meeting, transition):
        who, who_en, refs = _who_may(transition, body.code)
        raise NotAllowed(
            f"Du kan ikke {transition.label.lower()}. Det kan kun {who}.",
            f"You may not do this; only {who_en} may.",
            refs,
        )
    if transition.own_operation and not own_operation:
        raise WorkflowError(
            f"»{transition.label}« har sin egen formular på mødets side; brug den.",
            f"'{transition.label_en}' has its own form on the meeting's page.",
        )
    if str(meeting.status) not in transition.sources:
        raise WorkflowError(
            f"»{transition.label}« er ikke mulig, når mødet har status "
            f"»{STATUS_LABELS[meeting.status]}«.",
            f"'{name}' is not possible in status '{meeting.status}'.",
        )
    if transition.needs_comment and not comment.strip():
        raise WorkflowError(
            "Skriv en begrundelse; den står i mødets historik.", "A reason is required."
        )
    failed = lifecycle.failures(meeting, transition, clock.now())
    if failed:
        raise GuardFailed(failed)
    return transition


def change_status(
    session: Session, meeting: Meeting, name: str, actor: User, *, comment: str = ""
) -> MeetingHistoryEntry:
    """Take one step of the meeting's life (states/meeting.toml), audited, without committing.

    Callers open the unit of work around it and what else belongs to the step (publishing,
    approving minutes); `step` takes it alone.
    """
    transition = check_step(session, meeting, name, actor, comment=comment)
    from_status = meeting.status
    lifecycle.machine().events[transition.trigger].trigger(meeting)
    session.flush()
    return record(session, meeting, actor, name, from_status=from_status, comment=comment)


# Read on every meeting page: built once, with their SQL cache keys.
_HISTORY = (
    select(MeetingHistoryEntry)
    .where(MeetingHistoryEntry.meeting_id == bindparam("meeting_id"))
    .order_by(MeetingHistoryEntry.id)
)
_ACTIVE_ITEMS = (
    select(AgendaItem)
    .where(AgendaItem.meeting_id == bindparam("meeting_id"), AgendaItem.removed_at.is_(None))
    .order_by(AgendaItem.position)
)


def history(session: Session, meeting: Meeting) -> list[MeetingHistoryEntry]:
    """Return the meeting's history, oldest first."""
    return list(session.scalars(_HISTORY, {"meeting_id": meeting.id}))


def active_items(meeting: Meeting) -> list[AgendaItem]:
    """Return the items still on the agenda, in order."""
    session = object_session(meeting)
    if session is None:
        return sorted(
            (item for item in meeting.items if item.removed_at is None), key=lambda i: i.position
        )
    # Query rather than use meeting.items: a long-lived session may hold a stale list.
    return list(session.scalars(_ACTIVE_ITEMS, {"meeting_id": meeting.id}))


def meetings_of(
    session: Session, body_ids: Iterable[int], *, since: datetime | None = None
) -> list[Meeting]:
    """Return the meetings of the bodies (cancelled ones too), by start time."""
    query = select(Meeting).where(Meeting.body_id.in_(list(body_ids)))
    if since is not None:
        query = query.where(Meeting.starts_at >= since)
    return list(session.scalars(query.order_by(Meeting.starts_at)))


def previous_meeting(session: Session, meeting: Meeting) -> Meeting | None:
    """Return the body's last meeting before this one that was not cancelled."""
    return session.scalar(
        select(Meeting)
        .where(
            Meeting.body_id == meeting.body_id,
            Meeting.starts_at < meeting.starts_at,
            Meeting.status != MeetingStatus.CANCELLED,
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


def next_position(session: Session, meeting: Meeting) -> int:
    """Return the position after the agenda's last item."""
    highest = session.scalar(
        select(func.max(AgendaItem.position)).where(AgendaItem.meeting_id == meeting.id)
    )
    return (highest or 0) + 1
