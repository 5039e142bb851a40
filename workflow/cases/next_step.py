"""Who takes a case's next step: the people the process definition allows, by body and role,
the deadline they work to and what the case still lacks (the forecast's checklist)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, select
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


# Built once: the active people of the listed bodies, by name, with the role they hold there.
_PEOPLE = (
    select(Membership.body_id, Membership.role, User)
    .join(Membership, Membership.user_id == User.id)
    .where(
        Membership.body_id.in_(bindparam("body_ids", expanding=True)),
        Membership.active.is_(True),
        User.active.is_(True),
    )
    .order_by(User.name, User.id)
)


def _people(session: Session, wanted: list[tuple[int, str]]) -> dict[tuple[int, str], list[User]]:
    """The active people holding each (body, role) of `wanted` (a role as the definitions
    name it, matched as the engine matches it), by name, each once: one statement for all."""
    people: dict[tuple[int, str], list[User]] = {key: [] for key in wanted}
    rows = session.execute(_PEOPLE, {"body_ids": sorted({body_id for body_id, _ in wanted})})
    for body_id, held, user in rows:
        for key, found in people.items():
            if (
                key[0] == body_id
                and held in engine.ROLE_MATCHES.get(key[1], frozenset())
                and (not found or found[-1] is not user)
            ):
                found.append(user)
    return people


def _holders(session: Session, case: Case, transitions: list[TransitionSpec]) -> list[Holder]:
    wanted: dict[tuple[int, str], None] = {}
    for transition in transitions:
        for permission in engine.holders(session, case, transition):
            assert permission.body_id is not None  # administrators are left out
            wanted.setdefault((permission.body_id, permission.role.role), None)
    people = _people(session, list(wanted)) if wanted else {}
    holders = []
    for key in wanted:
        body = session.get(Body, key[0])
        assert body is not None  # foreign keys guarantee it
        holders.append(Holder(body, key[1], tuple(people[key])))
    return sorted(
        holders,
        key=lambda h: (h.body.code, engine.ROLE_PRECEDENCE.get(h.role, 9)),
    )


# Built once: the case's nearest open deadline that is not a follow-up.
_OPEN_DEADLINE = (
    select(Deadline.due_at)
    .where(
        Deadline.case_id == bindparam("case_id"),
        Deadline.met_at.is_(None),
        Deadline.cancelled_at.is_(None),
        Deadline.kind != DeadlineKind.FOLLOW_UP,
    )
    .order_by(Deadline.due_at)
    .limit(1)
)


def _open_deadline(session: Session, case: Case) -> datetime | None:
    if case.next_due_at is None:
        return None  # no open deadline at all (kept in step by engine.deadlines)
    return session.scalar(_OPEN_DEADLINE, {"case_id": case.id})


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
