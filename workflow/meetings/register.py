"""The decision register's rows for one reader: the follow-ups of the bodies whose templates the
reader keeps (every body for an administrator) and those the reader owns, on cases the reader
may open. The page, its PDF and the API list the same rows."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, FollowUpItem, Meeting, User
from workflow import policy
from workflow.engine import clock
from workflow.meetings import minutes

# The register lists the latest done follow-ups, not all of them.
DONE_SHOWN = 50


@dataclass(frozen=True)
class Register:
    """The follow-ups a reader's register lists, and the cases, owners and meetings they name."""

    open_items: list[FollowUpItem]
    done_items: list[FollowUpItem]
    cases: dict[int, Case | None]
    owners: dict[int, User | None]
    meetings_by_id: dict[int | None, Meeting | None]


def _with_own(
    session: Session, user: User, items: list[FollowUpItem], *, done: bool
) -> list[FollowUpItem]:
    """Add the follow-ups the user owns in other bodies to the register's rows."""
    owned = session.scalars(
        select(FollowUpItem).where(
            FollowUpItem.owner_id == user.id,
            FollowUpItem.done_at.is_not(None) if done else FollowUpItem.done_at.is_(None),
        )
    )
    rows = {f.id: f for f in items} | {f.id: f for f in owned}
    if done:
        return sorted(rows.values(), key=lambda f: f.done_at or clock.now(), reverse=True)
    return sorted(rows.values(), key=lambda f: (f.due_on, f.id))


def register_of(session: Session, user: User) -> Register:
    """Follow-ups of the user's bodies and those the user owns, on cases the user may open."""
    # Keepers of every body's templates (admins) see every body's follow-ups.
    every_body = policy.may(user, "keep_templates", None, session)
    body_ids = (
        None if every_body else [b.id for b in policy.bodies_where(session, user, "keep_templates")]
    )
    open_items = _with_own(session, user, minutes.follow_ups(session, body_ids), done=False)
    done_items = _with_own(
        session, user, minutes.follow_ups(session, body_ids, done=True), done=True
    )[:DONE_SHOWN]
    cases = {f.case_id: session.get(Case, f.case_id) for f in open_items + done_items}
    # Only follow-ups on cases the user may open are listed (their titles link to the case).
    seen = {i for i, c in cases.items() if c and policy.may(user, "view", c, session)}
    open_items = [f for f in open_items if f.case_id in seen]
    done_items = [f for f in done_items if f.case_id in seen]
    shown = open_items + done_items
    return Register(
        open_items=open_items,
        done_items=done_items,
        cases=cases,
        owners={f.owner_id: session.get(User, f.owner_id) for f in shown},
        meetings_by_id={f.meeting_id: session.get(Meeting, f.meeting_id) for f in shown},
    )


def may_read(session: Session, user: User, follow_up: FollowUpItem) -> bool:
    """Whether `follow_up` is one of the rows the user's register can list (open or done)."""
    case = session.get(Case, follow_up.case_id)
    if case is None or not policy.may(user, "view", case, session):
        return False
    if follow_up.owner_id == user.id or policy.may(user, "keep_templates", None, session):
        return True
    meeting = session.get(Meeting, follow_up.meeting_id) if follow_up.meeting_id else None
    keeps = {b.id for b in policy.bodies_where(session, user, "keep_templates")}
    return meeting is not None and meeting.body_id in keeps
