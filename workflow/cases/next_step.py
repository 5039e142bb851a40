"""Who takes a case's next step: the people the process definition allows, by body and role,
the deadline they work to and what the case still lacks (the forecast's checklist)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Case, Deadline, DeadlineKind, Membership, User
from workflow.engine import core as engine
from workflow.engine.definitions import StateSpec, TransitionSpec
from workflow.engine.guards import Failure
from workflow.meetings.forecast import Forecast, forecast

# How a role reads on the page, in Danish and English (the process definitions' vocabulary).
ROLE_NAMES = {
    "chair": ("formandskabet", "the chairs"),
    "vice_chair": ("næstformanden", "the vice chair"),
    "member": ("medlemmerne", "the members"),
    "secretariat": ("sekretariatet", "the secretariat"),
    "observer": ("observatørerne", "the observers"),
}


@dataclass(frozen=True)
class Holder:
    """One body role that may take a next step, with the people who hold it now."""

    body: Body
    role: str
    people: tuple[User, ...]

    @property
    def role_name(self) -> tuple[str, str]:
        return ROLE_NAMES.get(self.role, (self.role, self.role))


@dataclass(frozen=True)
class NextStep:
    """What happens next to a case, and who may do it."""

    state: StateSpec
    transitions: tuple[TransitionSpec, ...]
    holders: tuple[Holder, ...]
    deadline: datetime | None
    missing: tuple[Failure, ...]

    @property
    def recipients(self) -> list[User]:
        """Everyone who may take a next step, once each, by name."""
        seen: dict[int, User] = {}
        for holder in self.holders:
            for person in holder.people:
                seen.setdefault(person.id, person)
        return sorted(seen.values(), key=lambda u: (u.name, u.id))

    @property
    def asks_for_recommendation(self) -> bool:
        """A case still in its own body waits for a recommendation; elsewhere for treatment."""
        return self.state.body == "originating"


def _people(session: Session, body_id: int, role: str) -> tuple[User, ...]:
    roles = engine.ROLE_MATCHES.get(role, frozenset())
    users = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.body_id == body_id,
            Membership.role.in_(list(roles)),
            Membership.active.is_(True),
            User.active.is_(True),
        )
        .distinct()
        .order_by(User.name, User.id)
    )
    return tuple(users)


def _holders(session: Session, case: Case, transitions: list[TransitionSpec]) -> list[Holder]:
    holders: dict[tuple[int, str], Holder] = {}
    for transition in transitions:
        for permission in engine.holders(session, case, transition):
            assert permission.body_id is not None  # administrators are left out
            key = (permission.body_id, permission.role.role)
            if key in holders:
                continue
            body = session.get(Body, permission.body_id)
            assert body is not None  # foreign keys guarantee it
            holders[key] = Holder(body, permission.role.role, _people(session, body.id, key[1]))
    return sorted(
        holders.values(),
        key=lambda h: (h.body.code, engine.ROLE_PRECEDENCE.get(h.role, 9)),
    )


def _open_deadline(session: Session, case: Case) -> datetime | None:
    return session.scalar(
        select(Deadline.due_at)
        .where(
            Deadline.case_id == case.id,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.kind != DeadlineKind.FOLLOW_UP,
        )
        .order_by(Deadline.due_at)
        .limit(1)
    )


def next_step(
    session: Session, case: Case, now: datetime, prognosis: Forecast | None = None
) -> NextStep | None:
    """The case's next step, or None for a closed case (`prognosis`: its forecast, if known)."""
    definition = engine.definition_of(case)
    state = definition.states[case.state]
    if state.final:
        return None
    transitions = [t for t in definition.transitions_from(case.state) if not t.automatic_only]
    prognosis = prognosis or forecast(session, case, now)
    deadline = _open_deadline(session, case)
    if deadline is None and prognosis.steps:
        first = prognosis.steps[0]
        deadline = first.due_by or first.material_deadline
    missing = tuple(failure for _step, failure in prognosis.blockers)
    return NextStep(
        state=state,
        transitions=tuple(transitions),
        holders=tuple(_holders(session, case, transitions)),
        deadline=deadline,
        missing=missing,
    )
