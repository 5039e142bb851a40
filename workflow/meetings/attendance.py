"""Attendance at a meeting (deltagere, afbud, referent) and participants' »Godkend referat«.

The chair's approval of the minutes (states/meeting.toml, `approve_minutes`) is the one that
publishes them and fires the decisions. A participant's approval is recorded beside it, as
boards know from FirstAgenda: it tells the chair and the secretariat who has read and accepted
the draft, but it neither blocks nor replaces the chair's approval.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete, select
from sqlalchemy.orm import Session

from models import (
    Attendance,
    Meeting,
    MeetingAttendee,
    MeetingStatus,
    MinutesApproval,
    User,
)
from workflow import policy
from workflow.engine import clock
from workflow.engine.errors import WorkflowError
from workflow.meetings import agenda
from workflow.meetings import operations as meetings
from workflow.meetings.roll import roll
from workflow.meetings.unit import meeting_unit

# Participants approve the draft while the chair has not yet approved it, and may still add
# their approval after.
APPROVABLE = frozenset({MeetingStatus.HELD, MeetingStatus.MINUTES_APPROVED})


def record_attendance(
    session: Session,
    meeting: Meeting,
    actor: User,
    *,
    present: Iterable[User],
    absent: Iterable[User],
    minute_taker: User | None,
) -> None:
    """Replace the meeting's attendance (before or after it is held); audited; commit."""
    policy.require(actor, "record_attendance", meeting, session)
    if meeting.status is MeetingStatus.CANCELLED:
        raise WorkflowError(
            "Mødet er aflyst; der er intet fremmøde at registrere.",
            "The meeting is cancelled; there is no attendance to record.",
        )
    present_ids = {user.id for user in present}
    absent_ids = {user.id for user in absent}
    both = present_ids & absent_ids
    if both:
        names = ", ".join(
            sorted(u.name for u in session.scalars(select(User).where(User.id.in_(both))))
        )
        raise WorkflowError(
            f"{names} står både som deltager og med afbud. Vælg det ene for hver person.",
            "A person cannot both attend and send apologies. Choose one for each person.",
        )
    with meeting_unit(session):
        session.execute(delete(MeetingAttendee).where(MeetingAttendee.meeting_id == meeting.id))
        now = clock.now()
        for ids, kind in ((present_ids, Attendance.PRESENT), (absent_ids, Attendance.ABSENT)):
            for user_id in sorted(ids):
                session.add(
                    MeetingAttendee(
                        meeting_id=meeting.id, user_id=user_id, attendance=kind, recorded_at=now
                    )
                )
        meeting.minute_taker_id = minute_taker.id if minute_taker else None
        meetings.record(
            session, meeting, actor, "attendance_recorded",
            data={"present": sorted(present_ids), "absent": sorted(absent_ids),
                  "minute_taker": meeting.minute_taker_id},
        )  # fmt: skip
        if meeting.status is MeetingStatus.PUBLISHED:
            # A published agenda prints the attendance: a change is sent out as a new version.
            session.flush()
            agenda.freeze(session, meeting, actor, "agenda")


# Read on every meeting page: built once, with its SQL cache key.
_APPROVALS = (
    select(MinutesApproval, User)
    .join(User, User.id == MinutesApproval.user_id)
    .where(MinutesApproval.meeting_id == bindparam("meeting_id"))
    .order_by(MinutesApproval.approved_at, MinutesApproval.id)
)


def approvals(session: Session, meeting: Meeting) -> list[tuple[MinutesApproval, User]]:
    """Return the participants' approvals of the minutes, oldest first."""
    rows = session.execute(_APPROVALS, {"meeting_id": meeting.id}).all()
    return [(approval, user) for approval, user in rows]


def may_read_draft(session: Session, meeting: Meeting, user: User | None) -> bool:
    """Participants read the minutes draft they are asked to approve."""
    return meeting.status in APPROVABLE and policy.may(
        user, "approve_minutes_as_participant", meeting, session
    )


def may_approve(
    session: Session,
    meeting: Meeting,
    user: User | None,
    *,
    present: list[User] | None = None,
    given: list[tuple[MinutesApproval, User]] | None = None,
) -> bool:
    """Whether `user` may press »Godkend referat« now (and has not already). `present` (the
    roll's) and `given` (`approvals`) save reading them again."""
    if user is None or meeting.status not in APPROVABLE:
        return False
    if not policy.may(user, "approve_minutes_as_participant", meeting, session):
        return False
    if present is None:
        present = roll(session, meeting).present
    if present and user.id not in {p.id for p in present}:
        return False
    if given is None:
        given = approvals(session, meeting)
    return all(u.id != user.id for _a, u in given)


def approve_as_participant(session: Session, meeting: Meeting, actor: User) -> MinutesApproval:
    """Record a participant's approval of the minutes draft (audited); commit."""
    policy.require(actor, "approve_minutes_as_participant", meeting, session)
    if meeting.status not in APPROVABLE:
        raise WorkflowError(
            "Referatet kan først godkendes, når mødet er afholdt, og sekretariatet har skrevet "
            "udkastet.",
            "The minutes can be approved once the meeting is held and the draft written.",
        )
    present = roll(session, meeting).present
    if present and actor.id not in {p.id for p in present}:
        raise WorkflowError(
            "Du står ikke som deltager i mødet og kan derfor ikke godkende referatet. Bed "
            "sekretariatet rette fremmødet, hvis du deltog.",
            "You are not recorded as a participant; ask the secretariat to correct the attendance.",
        )
    if any(u.id == actor.id for _a, u in approvals(session, meeting)):
        raise WorkflowError(
            "Du har allerede godkendt referatet.", "You have already approved the minutes."
        )
    latest = agenda.latest_version(session, meeting, "minutes")
    with meeting_unit(session):
        approval = MinutesApproval(
            meeting_id=meeting.id,
            user_id=actor.id,
            minutes_version=latest.number if latest else None,
            approved_at=clock.now(),
        )
        session.add(approval)
        meetings.record(session, meeting, actor, "participant_approved_minutes")
    return approval
