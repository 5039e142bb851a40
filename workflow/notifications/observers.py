"""What observers (KKR Hovedstaden, KKU) are informed of: the decisions that name them."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Case, CaseEvent, User
from workflow import policy
from workflow.engine.processes import registry

OBSERVER_BODIES = ("KKR", "KKU")
FEED_LIMIT = 100


@dataclass(frozen=True)
class InformedDecision:
    """A decision an observer body is to be informed of."""

    event: CaseEvent
    case: Case
    label: str
    process_title: str


def approved_by_sku(session: Session, actor: User) -> list[InformedDecision]:
    """Return, newest first, the decisions whose transition informs KKR or KKU, of the cases
    the actor may see."""
    policy.require(actor, "read_informed", None, session)
    rows = session.execute(
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(CaseEvent.from_state.is_not(None), policy.visible_cases(session, actor))
        .order_by(CaseEvent.created_at.desc(), CaseEvent.id.desc())
    ).all()
    found: list[InformedDecision] = []
    for event, case in rows:
        definition = registry.get(session, case.process, case.process_version)
        transition = definition.transition(event.trigger)
        if transition is None or not set(transition.inform) & set(OBSERVER_BODIES):
            continue
        found.append(InformedDecision(event, case, transition.label, definition.title))
        if len(found) >= FEED_LIMIT:
            break
    return found
