"""What observers (the observer bodies of the organisation's data: KKR Hovedstaden, KKU …) are
informed of: the decisions that name them."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, BodyKind, Case, CaseEvent, Meeting, User
from workflow import policy
from workflow.engine.processes import registry
from workflow.organisation import queries as organisation
from workflow.web.i18n import label, pick

FEED_LIMIT = 100


@dataclass(frozen=True)
class InformedDecision:
    """A decision an observer body is to be informed of."""

    event: CaseEvent
    case: Case
    label: str
    process_title: str
    # The body that took the decision (the meeting's, else the body the case was before).
    decided_by: Body | None = None
    # The observer bodies the decision's transition informs (`inform = [...]`).
    informs: tuple[str, ...] = ()


def _informing_triggers(session: Session, bodies: Collection[str]) -> set[str]:
    """The triggers that inform one of `bodies` in some stored process version: a cheap first
    filter before each event is checked against its own case's version."""
    found: set[str] = set()
    for definition in registry.stored(session).values():
        for transition in definition.transitions:
            if set(transition.inform) & set(bodies):
                found.add(transition.trigger)
    return found


def _decided_by(session: Session, event: CaseEvent, case: Case, state_body: str) -> Body | None:
    if event.meeting_id is not None:
        meeting = session.get(Meeting, event.meeting_id)
        if meeting is not None:
            return session.get(Body, meeting.body_id)
    if state_body == "originating":
        return case.originating_body
    if state_body == "current":
        return case.current_body
    return session.scalar(select(Body).where(Body.code == state_body))


def observer_codes(session: Session) -> set[str]:
    """The codes of every observer body in the organisation's data (KKR, KKU …), including
    closed ones: process definitions name them in `inform`, and a closed body's decisions
    are still theirs to be informed of."""
    return set(session.scalars(select(Body.code).where(Body.kind == BodyKind.OBSERVER)))


def approved_by_sku(
    session: Session,
    actor: User,
    *,
    bodies: Collection[str] | None = None,
    limit: int = FEED_LIMIT,
) -> list[InformedDecision]:
    """Return, newest first, the decisions whose transition informs one of `bodies` (every
    observer body of the organisation's data by default), of the cases the actor may see."""
    policy.require(actor, "read_informed", None, session)
    # A body that took over from an observer body is informed of what the definitions
    # (naming the old code) inform it of.
    bodies = organisation.with_predecessors(
        session, set(bodies) if bodies is not None else observer_codes(session)
    )
    triggers = _informing_triggers(session, bodies)
    if not triggers:
        return []
    rows = session.execute(
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(
            CaseEvent.from_state.is_not(None),
            CaseEvent.trigger.in_(sorted(triggers)),
            policy.visible_cases(session, actor),
        )
        .order_by(CaseEvent.created_at.desc(), CaseEvent.id.desc())
    ).all()
    found: list[InformedDecision] = []
    for event, case in rows:
        definition = registry.get(session, case.process, case.process_version)
        transition = definition.transition(event.trigger)
        if transition is None or not set(transition.inform) & set(bodies):
            continue
        source = definition.states.get(event.from_state or "")
        found.append(
            InformedDecision(
                event,
                case,
                label(transition),
                pick(definition.title, definition.title_en),
                _decided_by(session, event, case, source.body if source else ""),
                tuple(code for code in transition.inform if code in bodies),
            )
        )
        if len(found) >= limit:
            break
    return found
