"""The organisation as of a date: which bodies, parties and planning areas existed, and the name
a body had then.

Everything in the organisation is dated (valid_from/valid_to, both inclusive, NULL open-ended);
nothing is deleted. Pages, reports, documents and the implementation picture ask here for the
organisation on the day in question (a case's creation or decision date, a report's period).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from models import Body, BodySuccession, Case, Party, PartyKind, PartyPlanningArea, PlanningArea
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.calendar import local_date

# Load a party's former planning areas with it (Party.planning_area_on reads them).
PARTY_AREAS = (
    selectinload(Party.former_planning_areas).joinedload(PartyPlanningArea.planning_area),
)


def valid_on(model: Any, day: date) -> ColumnElement[bool]:
    """SQL condition: a row of a dated model (`valid_from`/`valid_to`) exists on `day`."""
    return and_(
        or_(model.valid_from.is_(None), model.valid_from <= day),
        or_(model.valid_to.is_(None), model.valid_to >= day),
    )


def exists_on(row: Any, day: date) -> bool:
    """Whether a dated row exists on `day` (the Python twin of valid_on)."""
    return (row.valid_from is None or row.valid_from <= day) and (
        row.valid_to is None or row.valid_to >= day
    )


def as_day(moment: date | datetime) -> date:
    """A date from a date or an aware UTC datetime (its Danish calendar day)."""
    return local_date(moment) if isinstance(moment, datetime) else moment


def today() -> date:
    """The Danish calendar day now (the engine's clock)."""
    return local_date(clock.now())


def case_day(case: Case) -> date:
    """The day a case's pages show the organisation as of: the day a closed case reached its
    final state (a case decided in 2021 keeps the parents and planning areas of 2021), else
    today."""
    if engine.definition_of(case).states[case.state].final:
        return as_day(case.state_entered_at)
    return today()


@dataclass(frozen=True)
class Organisation:
    """The bodies, parties and planning areas that existed on one day."""

    day: date
    bodies: list[Body]
    parties: list[Party]
    planning_areas: list[PlanningArea]

    def parent(self, body: Body) -> Body | None:
        """The body `body` was placed under on the day."""
        return body.parent_on(self.day)

    def planning_area(self, party: Party) -> PlanningArea | None:
        """The planning area `party` belonged to on the day."""
        return party.planning_area_on(self.day)

    @property
    def municipalities(self) -> list[Party]:
        return [p for p in self.parties if p.kind == PartyKind.MUNICIPALITY]

    def body(self, code: str) -> Body | None:
        return next((b for b in self.bodies if b.code == code), None)


def organisation_as_of(session: Session, moment: date | datetime) -> Organisation:
    """The organisation on `moment`'s day."""
    day = as_day(moment)
    bodies = session.scalars(
        select(Body)
        .where(valid_on(Body, day))
        .options(joinedload(Body.parent), selectinload(Body.former_parents))
        .order_by(Body.code)
    ).all()
    parties = session.scalars(
        select(Party)
        .where(valid_on(Party, day), Party.active)
        .options(joinedload(Party.planning_area), *PARTY_AREAS)
        .order_by(Party.name)
    ).all()
    areas = session.scalars(
        select(PlanningArea).where(valid_on(PlanningArea, day)).order_by(PlanningArea.id)
    ).all()
    return Organisation(day, list(bodies), list(parties), list(areas))


def municipalities_as_of(session: Session, moment: date | datetime) -> list[Party]:
    """The municipalities that were parties to the agreement on `moment`'s day, by name."""
    day = as_day(moment)
    return list(
        session.scalars(
            select(Party)
            .where(Party.kind == PartyKind.MUNICIPALITY, Party.active, valid_on(Party, day))
            .options(joinedload(Party.planning_area), *PARTY_AREAS)
            .order_by(Party.name)
        )
    )


def body_name(body: Body, moment: date | datetime | None, *, english: bool = False) -> str:
    """The name `body` had on `moment`'s day (its current name when none is given)."""
    if moment is not None:
        day = as_day(moment)
        for former in body.former_names:
            if exists_on(former, day):
                return (former.name_en or former.name) if english else former.name
    return (body.name_en or body.name) if english else body.name


def successors(session: Session, body: Body) -> list[BodySuccession]:
    """The bodies that took over from `body` (empty while it exists unchanged)."""
    return list(
        session.scalars(
            select(BodySuccession)
            .where(BodySuccession.predecessor_id == body.id)
            .options(joinedload(BodySuccession.successor))
            .order_by(BodySuccession.id)
        )
    )


def predecessors(session: Session, body: Body) -> list[BodySuccession]:
    """The bodies `body` took over from."""
    return list(
        session.scalars(
            select(BodySuccession)
            .where(BodySuccession.successor_id == body.id)
            .options(joinedload(BodySuccession.predecessor))
            .order_by(BodySuccession.id)
        )
    )


def with_successors(session: Session, codes: tuple[str, ...] | list[str]) -> set[str]:
    """The codes and the codes of every body that took over from them, through any number of
    reorganisations (a report on SKU's decisions includes its sundhedsråd's)."""
    found = set(codes)
    links = session.execute(
        select(Body.code, BodySuccession.successor_id).join(
            BodySuccession, BodySuccession.predecessor_id == Body.id
        )
    ).all()
    if not links:
        return found
    code_of = dict(session.execute(select(Body.id, Body.code)).tuples().all())
    by_code: dict[str, list[str]] = {}
    for predecessor, successor_id in links:
        by_code.setdefault(predecessor, []).append(code_of[successor_id])
    todo = list(found)
    while todo:
        for successor in by_code.get(todo.pop(), []):
            if successor not in found:
                found.add(successor)
                todo.append(successor)
    return found


def with_predecessors(session: Session, codes: tuple[str, ...] | list[str] | set[str]) -> set[str]:
    """The codes and the codes of every body they took over from, through any number of
    reorganisations (a process definition that informs KKR informs the body that took over
    from KKR)."""
    found = set(codes)
    links = session.execute(
        select(Body.code, BodySuccession.predecessor_id).join(
            BodySuccession, BodySuccession.successor_id == Body.id
        )
    ).all()
    if not links:
        return found
    code_of = dict(session.execute(select(Body.id, Body.code)).tuples().all())
    by_code: dict[str, list[str]] = {}
    for successor, predecessor_id in links:
        by_code.setdefault(successor, []).append(code_of[predecessor_id])
    todo = list(found)
    while todo:
        for predecessor in by_code.get(todo.pop(), []):
            if predecessor not in found:
                found.add(predecessor)
                todo.append(predecessor)
    return found
