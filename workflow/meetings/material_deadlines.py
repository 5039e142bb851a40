"""Material deadlines follow their meeting: moving a meeting moves them, cancelling removes them.

A material deadline (materialefrist) is the meeting's date minus the body's N calendar or
working days (hverdage, Danish public holidays excluded). When the meeting moves, each open
material deadline for it is closed as re-planned and replaced by one computed from the new
date; when the meeting is cancelled, each case gets the deadline of the body's next meeting
instead (or none, when no meeting is planned yet). Reminders that were written but not yet
delivered for the old deadline are withdrawn; the sweep reminds about the new one in its time.
Each change is recorded in the case's audit trail. Nothing is deleted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, DeadlineKind, Meeting, MeetingStatus, User
from workflow import policy
from workflow.engine import clock
from workflow.engine.core import append_event
from workflow.engine.deadlines import material_deadline, next_meeting
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.engine.mail_text import EMPTY, Text, bilingual, moment
from workflow.engine.outbox import CHAIRS_AND_SECRETARIAT, enqueue, members_of
from workflow.meetings.unit import meeting_unit
from workflow.notifications import delivery as notify

FINISHED = frozenset({MeetingStatus.HELD, MeetingStatus.MINUTES_APPROVED, MeetingStatus.CLOSED})


@dataclass
class MeetingChange:
    """What moving or cancelling a meeting did to the deadlines that hang on it."""

    replaced: list[tuple[Deadline, Deadline]] = field(default_factory=list)  # (old, new)
    removed: list[Deadline] = field(default_factory=list)  # closed without a successor
    withdrawn_reminders: int = 0

    def summary(self) -> str:
        """Describe the change in one Danish line."""
        return (
            f"{len(self.replaced)} materialefrister flyttet, {len(self.removed)} fjernet uden "
            f"nyt møde og {self.withdrawn_reminders} ventende påmindelser trukket tilbage."
        )


def _require_planner(session: Session, meeting: Meeting, actor: User) -> Body:
    body = session.get(Body, meeting.body_id)
    assert body is not None  # foreign keys guarantee it
    if policy.may(actor, "plan", meeting, session):
        return body
    raise NotAllowed(
        f"Kun sekretariatet eller formandskabet for {body.code} eller en administrator kan "
        "flytte eller aflyse organets møder.",
        f"Only the secretariat or chairs of {body.code} or an administrator can move or "
        "cancel the body's meetings.",
        [f"secretariat@{body.code}", f"chair@{body.code}", "admin"],
    )


def _require_open(meeting: Meeting) -> None:
    if meeting.status is MeetingStatus.CANCELLED:
        raise WorkflowError(
            "Mødet er aflyst og kan ikke ændres. Opret et nyt møde i stedet.",
            "The meeting is cancelled and cannot be changed. Create a new meeting instead.",
        )
    if meeting.status in FINISHED:
        raise WorkflowError(
            "Mødet er allerede afholdt og kan hverken flyttes eller aflyses.",
            "The meeting has been held and can be neither moved nor cancelled.",
        )


def _open_material(session: Session, meeting: Meeting) -> list[Deadline]:
    return list(
        session.scalars(
            select(Deadline)
            .where(
                Deadline.meeting_id == meeting.id,
                Deadline.kind == DeadlineKind.MATERIAL,
                Deadline.met_at.is_(None),
                Deadline.cancelled_at.is_(None),
            )
            .order_by(Deadline.id)
        )
    )


def _successor(old: Deadline, meeting: Meeting, body: Body, now: datetime) -> Deadline:
    return Deadline(
        case_id=old.case_id,
        kind=DeadlineKind.MATERIAL,
        state=old.state,
        body_id=old.body_id,
        meeting_id=meeting.id,
        due_at=material_deadline(meeting, body),
        reminder_days=list(old.reminder_days),
        created_at=now,
    )


def _tell(
    session: Session,
    case: Case,
    deadline: Deadline,
    actor: User,
    subject: Text,
    text: Text,
    key: str,
    now: datetime,
) -> None:
    """Tell the responsible body's chairs and secretariat, except whoever made the change."""
    assert deadline.body_id is not None
    for user_id in members_of(session, deadline.body_id, CHAIRS_AND_SECRETARIAT):
        if user_id == actor.id:
            continue
        enqueue(
            session,
            key=f"{key}:{user_id}",
            recipient_id=user_id,
            kind="deadline_changed",
            subject=subject,
            body=text,
            case_id=case.id,
            deadline_id=deadline.id,
            send_after=now,
            created_at=now,
        )


def reschedule_meeting(
    session: Session, meeting: Meeting, new_start: datetime, actor: User, *, comment: str = ""
) -> MeetingChange:
    """Move a meeting and the material deadlines of the cases planned for it; commit."""
    if new_start.tzinfo is None:
        raise ValueError("new_start must be an aware datetime")
    body = _require_planner(session, meeting, actor)
    _require_open(meeting)
    now = clock.now()
    change = MeetingChange()
    old_start = meeting.starts_at
    with meeting_unit(session):
        meeting.starts_at = new_start
        if meeting.ends_at is not None:
            meeting.ends_at += new_start - old_start
        session.flush()
        why = " " + bilingual("Begrundelse: %(comment)s", comment=comment) if comment else EMPTY
        for old in _open_material(session, meeting):
            case = session.get(Case, old.case_id)
            assert case is not None
            old.cancelled_at = now
            new = _successor(old, meeting, body, now)
            session.add(new)
            session.flush()
            change.replaced.append((old, new))
            change.withdrawn_reminders += notify.cancel_pending(
                session, deadline_ids=[old.id], reason="mødet er flyttet, og fristen med det."
            )
            # The audit trail's comment is the notice's Danish.
            notice = bilingual(
                "Mødet i %(body)s er flyttet fra %(old)s til %(new)s. Materialefristen for "
                "'%(title)s' er derfor flyttet fra %(old_due)s til %(new_due)s.",
                body=body.code, old=moment(old_start), new=moment(new_start), title=case.title,
                old_due=moment(old.due_at), new_due=moment(new.due_at),
            ) + why  # fmt: skip
            append_event(
                session, case, trigger="material_deadline_moved", actor=actor,
                from_state=case.state, comment=notice.da, now=now, meeting_id=meeting.id,
                data={"old_deadline_id": old.id, "deadline_id": new.id,
                      "from": old.due_at.isoformat(), "to": new.due_at.isoformat()},
            )  # fmt: skip
            _tell(
                session, case, new, actor,
                bilingual("Materialefristen er flyttet: %(title)s", title=case.title),
                notice, f"deadline_moved:{new.id}", now,
            )  # fmt: skip
    return change


def cancel_meeting(
    session: Session, meeting: Meeting, actor: User, *, comment: str = ""
) -> MeetingChange:
    """Cancel a meeting; its cases get the next meeting's material deadline, or none; commit."""
    body = _require_planner(session, meeting, actor)
    _require_open(meeting)
    now = clock.now()
    change = MeetingChange()
    with meeting_unit(session):
        meeting.status = MeetingStatus.CANCELLED
        session.flush()
        why = " " + bilingual("Begrundelse: %(comment)s", comment=comment) if comment else EMPTY
        cancelled = bilingual(
            "Mødet i %(body)s %(start)s er aflyst.", body=body.code, start=moment(meeting.starts_at)
        )
        for old in _open_material(session, meeting):
            case = session.get(Case, old.case_id)
            assert case is not None
            old.cancelled_at = now
            change.withdrawn_reminders += notify.cancel_pending(
                session, deadline_ids=[old.id], reason="mødet er aflyst."
            )
            following = next_meeting(session, meeting.body_id, max(meeting.starts_at, now))
            if following is None:
                change.removed.append(old)
                notice = bilingual(
                    "Der er ikke planlagt et nyt møde, så '%(title)s' har ingen "
                    "materialefrist, før sekretariatet planlægger det næste møde.",
                    title=case.title,
                )
                data = {"old_deadline_id": old.id, "deadline_id": None}
                told = old
            else:
                new = _successor(old, following, body, now)
                session.add(new)
                session.flush()
                change.replaced.append((old, new))
                notice = bilingual(
                    "'%(title)s' behandles i stedet på mødet %(start)s, og materialefristen er "
                    "nu %(due)s.",
                    title=case.title, start=moment(following.starts_at), due=moment(new.due_at),
                )  # fmt: skip
                data = {"old_deadline_id": old.id, "deadline_id": new.id,
                        "meeting_id": following.id}  # fmt: skip
                told = new
            # The audit trail's comment is the notice's Danish.
            notice = cancelled + " " + notice + why
            append_event(
                session, case, trigger="material_deadline_moved", actor=actor,
                from_state=case.state, comment=notice.da, data=data, now=now,
                meeting_id=meeting.id,
            )  # fmt: skip
            _tell(
                session, case, told, actor,
                bilingual("Mødet er aflyst: %(title)s", title=case.title),
                notice, f"meeting_cancelled:{meeting.id}:{old.id}", now,
            )  # fmt: skip
    return change
