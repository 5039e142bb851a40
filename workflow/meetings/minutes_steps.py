"""What happens to the minutes after a meeting is held, and who does it.

The secretariat drafts the minutes (an outcome for every case), the chair approves them, and
the approval publishes them as a frozen version. The names come from the body's memberships,
filtered by the access policy and the meeting's steps (states/meeting.toml), so the page names
exactly the people who may act.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Meeting, MeetingStatus, Membership, User
from workflow import policy
from workflow.meetings import operations as meetings

AFTER_THE_MEETING = frozenset(
    {MeetingStatus.HELD, MeetingStatus.MINUTES_APPROVED, MeetingStatus.CLOSED}
)


@dataclass(frozen=True)
class MinutesStep:
    """One step of the minutes: `key` is draft, approve or published."""

    key: str
    people: list[str]
    done: bool
    current: bool


def _members(session: Session, meeting: Meeting) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.body_id == meeting.body_id,
                Membership.active.is_(True),
                User.active.is_(True),
            )
            .distinct()
            .order_by(User.name, User.id)
        )
    )


def steps(session: Session, meeting: Meeting) -> list[MinutesStep]:
    """The minutes' steps once the meeting is held (none before), the current one marked."""
    if meeting.status not in AFTER_THE_MEETING:
        return []
    members = _members(session, meeting)
    writers = [u.name for u in members if policy.may(u, "write_minutes", meeting, session)]
    approve = meetings.TRANSITIONS["approve_minutes"]
    approvers = [u.name for u in members if meetings.may_take(session, u, meeting, approve)]
    drafted = meeting.status is not MeetingStatus.HELD or not any(
        item.case_id is not None and item.outcome is None for item in meetings.active_items(meeting)
    )
    approved = meeting.status is not MeetingStatus.HELD
    return [
        MinutesStep("draft", writers, drafted, not drafted),
        MinutesStep("approve", approvers, approved, drafted and not approved),
        MinutesStep("published", [], approved, approved),
    ]
