"""Reads of the implementation: the region-wide overview of where every approved initiative
stands in every unit (the implementation page, the picture's charts and the reports)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models import Case, ImplementationStatus, Party
from workflow.engine import core as engine
from workflow.implementation.operations import (
    UNIT_WITH_AREAS,
    Progress,
    implementing_processes,
    progress_of,
    unit_sort_key,
)
from workflow.organisation import queries as organisation
from workflow.web.i18n import label


@dataclass(frozen=True)
class SpreadColumn:
    """An initiative in the region-wide overview."""

    case: Case
    state_label: str
    progress: Progress
    # The day the case shows the organisation as of (organisation.queries.case_day): its
    # municipalities are grouped by the planning areas of that day.
    day: date


@dataclass(frozen=True)
class SpreadRow:
    """A unit in the region-wide overview with its status per initiative (None: not in scope)."""

    party: Party
    area_code: str
    area_name: str  # "" for a unit outside every planning area (the page names the region)
    cells: list[ImplementationStatus | None]


@dataclass(frozen=True)
class SpreadOverview:
    """Units × initiatives: where every approved initiative stands in every unit."""

    columns: list[SpreadColumn]
    rows: list[SpreadRow]


def spread_overview(
    session: Session,
    *,
    processes: Sequence[str] = (),
    body_id: int | None = None,
    include_closed: bool = True,
    visible: ColumnElement[bool] | None = None,
) -> SpreadOverview:
    """Build the overview of every case with implementation units (among the `visible` ones:
    the access policy's clause for the viewer, `workflow.policy.visible_cases`)."""
    query = (
        select(Case)
        .where(Case.id.in_(select(ImplementationStatus.case_id).distinct()))
        .order_by(Case.id)
    )
    if visible is not None:
        query = query.where(visible)
    if processes:
        query = query.where(Case.process.in_(list(processes)))
    if body_id is not None:
        query = query.where(Case.originating_body_id == body_id)
    if not include_closed:
        query = query.where(Case.state.in_(sorted(set(implementing_processes(session).values()))))
    cases = list(session.scalars(query))
    units = session.scalars(
        select(ImplementationStatus)
        .options(*UNIT_WITH_AREAS)
        .where(ImplementationStatus.case_id.in_([c.id for c in cases]))
    ).all()
    by_case: dict[int, list[ImplementationStatus]] = {}
    parties: dict[int, Party] = {}
    for unit in units:
        by_case.setdefault(unit.case_id, []).append(unit)
        parties[unit.party_id] = unit.party
    columns = [
        SpreadColumn(
            case,
            label(engine.definition_of(case).states[case.state]),
            progress_of(by_case.get(case.id, [])),
            organisation.case_day(case),
        )
        for case in cases
    ]
    cell = {(u.case_id, u.party_id): u for u in units}
    # The overview is today's: each unit under its planning area today.
    today = organisation.today()
    rows = []
    for party in sorted(parties.values(), key=lambda p: unit_sort_key(p, today)):
        area = party.planning_area_on(today)
        rows.append(
            SpreadRow(
                party,
                area.code if area else "",
                area.name if area else "",
                [cell.get((case.id, party.id)) for case in cases],
            )
        )
    return SpreadOverview(columns, rows)
