"""What happens to the minutes after a meeting is held, and who does it.

The secretariat drafts the minutes (an outcome for every case), the chair approves them, and
the approval publishes them as a frozen version. The names come from the body's memberships,
filtered by the access policy and the meeting's steps (states/meeting.toml), so the page names
exactly the people who may act.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from models import AgendaItem, Meeting, MeetingStatus, User
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


def members(session: Session, meeting: Meeting) -> list[User]:
    """The users with an active membership of the meeting's body (deactivated users too), by
    name; their standings read with them, for the policy's questions about each."""
    return policy.members_with_standings(session, meeting.body_id)


def steps(
    session: Session,
    meeting: Meeting,
    *,
    body_members: list[User] | None = None,
    items: list[AgendaItem] | None = None,
) -> list[MinutesStep]:
    """The minutes' steps once the meeting is held (none before), the current one marked.
    `body_members` (`members`) and `items` (the active items) save reading them again."""
    if meeting.status not in AFTER_THE_MEETING:
        return []
    if body_members is None:
        body_members = members(session, meeting)
    people = [u for u in body_members if u.active]
    # Whom the policy is asked about: their memberships in one statement, not one each (read
    # with the members already when they were read here).
    policy.read_standings(session, people)
    writers = [u.name for u in people if policy.may(u, "write_minutes", meeting, session)]
    approve = meetings.TRANSITIONS["approve_minutes"]
    approvers = [u.name for u in people if meetings.may_take(session, u, meeting, approve)]
    drafted = meeting.status is not MeetingStatus.HELD or not any(
        item.case_id is not None and item.outcome is None
        for item in (items if items is not None else meetings.active_items(meeting))
    )
    approved = meeting.status is not MeetingStatus.HELD
    return [
        MinutesStep("draft", writers, drafted, not drafted),
        MinutesStep("approve", approvers, approved, drafted and not approved),
        MinutesStep("published", [], approved, approved),
    ]
