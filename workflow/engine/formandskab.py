"""Decisions a body's chairmanship (formandskab) takes on its behalf between meetings.

Seed 000 (l.65-67, l.82-85): a forum has a joint chairmanship of one municipal and one regional
representative, and "Formandskabet kan træffe beslutninger på vegne af samarbejdsforum". So:

- only a body whose terms say so (`Body.formandskab_decides`, from the organisation data) lets
  its chairmanship decide without a meeting; SKU's terms do not, so its approvals are taken at
  its meetings;
- one chair alone is not the chairmanship: the first co-chair's decision is recorded as a
  proposal (the event `formandskab_proposed`, the case stays where it is) and the decision is
  taken when the other co-chair consents by taking the same action. Where the co-chairs' parties
  are known, one is municipal and the other regional.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case, CaseEvent, PartyKind, Role, User
from workflow.engine import formats
from workflow.engine.guards import Failure

PROPOSED = "formandskab_proposed"
CHAIR_ROLES = (Role.CHAIR, Role.VICE_CHAIR)
# The side of the joint chairmanship a co-chair's party stands for.
SIDES = {
    PartyKind.MUNICIPALITY: "municipal",
    PartyKind.REGION: "regional",
    PartyKind.HOSPITAL: "regional",
}
SIDE_WORDS = {"municipal": ("kommunal", "municipal"), "regional": ("regional", "regional")}


@dataclass(frozen=True)
class Proposal:
    """A co-chair's decision awaiting the other co-chair's consent."""

    event_id: int
    user_id: int
    side: str | None


def side_of(user: User) -> str | None:
    """The side (municipal or regional) a co-chair stands for, when the user's party says."""
    return SIDES.get(user.party.kind) if user.party is not None else None


def terms_failure(session: Session, body_id: int) -> Failure | None:
    """The body's terms must let its chairmanship decide on its behalf."""
    body = session.get(Body, body_id)
    assert body is not None  # the deciding body is a stored body
    if not body.formandskab_decides:
        return Failure(
            "formandskab_mandate",
            f"{formats.genitive(body.code)} kommissorium giver ikke formandskabet ret til at "
            f"beslutte på organets vegne. Beslutningen træffes på et møde i {body.code}: angiv "
            "mødet, eller sæt sagen på dagsordenen.",
            f"The terms of {body.code} do not let its chairs decide on its behalf. The decision "
            f"is taken at a meeting of {body.code}: give the meeting, or put the case on the "
            "agenda.",
        )
    return None


def pending_proposal(session: Session, case: Case, trigger: str, body_id: int) -> Proposal | None:
    """The other co-chair's proposal of this decision in the case's current stay in its state."""
    event = session.scalar(
        select(CaseEvent)
        .where(
            CaseEvent.case_id == case.id,
            CaseEvent.trigger == PROPOSED,
            CaseEvent.created_at >= case.state_entered_at,
        )
        .order_by(CaseEvent.seq.desc())
        .limit(1)
    )
    if event is None or event.actor_id is None:
        return None
    data = event.data or {}
    if data.get("proposed_trigger") != trigger or data.get("body_id") != body_id:
        return None
    return Proposal(event.id, event.actor_id, data.get("side"))


def consent_failure(proposal: Proposal, actor: User) -> Failure | None:
    """The consent comes from the other co-chair: another person, from the other side."""
    if proposal.user_id == actor.id:
        return Failure(
            "formandskab_consent",
            "Du har allerede foreslået beslutningen. Den anden medformand skal give sit samtykke, "
            "før formandskabet har besluttet.",
            "You have already proposed the decision. The other co-chair must consent before the "
            "chairmanship has decided.",
        )
    side = side_of(actor)
    if side is not None and side == proposal.side:
        da, en = SIDE_WORDS[side]
        return Failure(
            "formandskab_consent",
            f"Beslutningen er foreslået af en {da} medformand. Formandskabet er en kommunal og en "
            "regional medformand, så samtykket skal komme fra den anden side.",
            f"A {en} co-chair proposed the decision. The chairmanship is one municipal and one "
            "regional co-chair, so the consent must come from the other side.",
        )
    return None
