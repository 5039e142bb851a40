"""A formandskab decision in tests: one co-chair proposes, the other consents (seed 000).

`decide()` fires a trigger the way a chair does between meetings: if the engine records the
chair's decision as a proposal, a co-chair of the other side (made here, in the deciding body)
consents by taking the same action, and the decision is taken.
"""

from __future__ import annotations

from datetime import timedelta
from itertools import count
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from models import (
    Body,
    Case,
    CaseEvent,
    Meeting,
    MeetingStatus,
    Membership,
    Party,
    PartyKind,
    Role,
    User,
)
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.formandskab import PROPOSED, pending_proposal, side_of

_numbers = count(1)


def co_chair(session: Session, body_id: int, proposer: User) -> User:
    """A co-chair of the body from the other side than `proposer` (municipal or regional)."""
    other = PartyKind.REGION if side_of(proposer) == "municipal" else PartyKind.MUNICIPALITY
    party = session.scalar(select(Party).where(Party.kind == other).order_by(Party.id).limit(1))
    number = next(_numbers)
    user = User(
        email=f"medformand{number}-{body_id}@test.aftaleflow.dk",
        name=f"Medformand {number}",
        party_id=party.id if party is not None else None,
    )
    session.add(user)
    session.flush()
    session.add(Membership(user_id=user.id, body_id=body_id, role=Role.CHAIR))
    session.flush()
    return user


def decide(
    case: Case,
    trigger: str,
    actor: User,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
    **kwargs: Any,
) -> CaseEvent:
    """Fire `trigger` as `actor`. A chair's decision without a meeting is the chairmanship's:
    a co-chair of the other side proposes it first, and `actor` consents."""
    data = _at_a_meeting_where_the_terms_say(case, trigger, actor, data)
    read = case.version
    proposal = proposed_by_co_chair(case, trigger, actor, comment, data)
    if proposal is not None and kwargs.get("expected_version") == read:
        kwargs["expected_version"] = case.version  # the form was read before the proposal
    return engine.perform(case, trigger, actor, comment=comment, data=data, **kwargs)


def _at_a_meeting_where_the_terms_say(
    case: Case, trigger: str, chair: User, data: dict[str, Any] | None
) -> dict[str, Any] | None:
    """A chair of a body whose terms do not let its chairmanship decide (SKU) decides at a
    meeting of the body: name one that started an hour ago."""
    session = object_session(case)
    assert session is not None
    transition = engine.definition_of(case).transition(trigger)
    if transition is None or not transition.decision or (data or {}).get("meeting_id"):
        return data
    permission = engine.find_permission(session, case, transition, chair)
    if permission is None or not permission.as_chair:
        return data
    body = session.get(Body, engine.deciding_body_id(case, permission))
    if body is None or body.formandskab_decides:
        return data
    return {**(data or {}), "meeting_id": held_meeting_of(session, body).id}


def held_meeting_of(session: Session, body: Body) -> Meeting:
    """A meeting of `body` held an hour ago (flushed, not committed)."""
    meeting = Meeting(
        body_id=body.id,
        title=f"Møde i {body.code}",
        starts_at=clock.now() - timedelta(hours=1),
        status=MeetingStatus.HELD,
    )
    session.add(meeting)
    session.flush()
    return meeting


def proposed_by_co_chair(
    case: Case,
    trigger: str,
    chair: User,
    comment: str | None = None,
    data: dict[str, Any] | None = None,
) -> CaseEvent | None:
    """Where `chair` would take `trigger` as a formandskab decision (no meeting named), let a
    co-chair of the other side propose it first, so that `chair`'s action (through the engine,
    a page or the API) is the consent that takes it. Returns the proposal, or None."""
    session = object_session(case)
    assert session is not None
    transition = engine.definition_of(case).transition(trigger)
    if transition is None or not transition.decision or (data or {}).get("meeting_id"):
        return None
    permission = engine.find_permission(session, case, transition, chair)
    if permission is None or not permission.as_chair:
        return None
    body_id = engine.deciding_body_id(case, permission)
    if pending_proposal(session, case, trigger, body_id) is not None:
        return None  # proposed already: `chair` consents
    proposer = co_chair(session, body_id, chair)
    proposal = engine.perform(case, trigger, proposer, comment=comment, data=data)
    assert proposal.trigger == PROPOSED
    return proposal
