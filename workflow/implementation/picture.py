"""The implementation picture in brief: every initiative's progress and the municipalities'
status in one of them, for the region-wide overview and the observers' dashboard."""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup
from sqlalchemy import ColumnElement
from sqlalchemy.orm import Session

from workflow.implementation import charts
from workflow.implementation import queries as implementation


def grid_groups(
    overview: implementation.SpreadOverview, column: int | None
) -> list[charts.GridGroup]:
    """Municipalities by planning area, with their status in the chosen initiative: the
    planning areas as they were on the initiative's day (a closed one's, else today's)."""
    groups: dict[str, list[charts.GridCell]] = {}
    names: dict[str, str] = {}
    day = overview.columns[column].day if column is not None else None
    for row in overview.rows:
        if row.party.kind != "municipality":
            continue
        cell = row.cells[column] if column is not None else None
        area = row.party.planning_area_on(day)
        code = area.code if area else ""
        groups.setdefault(code, []).append(
            charts.GridCell(row.party.name, cell.status if cell else None)
        )
        names[code] = area.name if area else _("Hele regionen")
    return [charts.GridGroup(names[code], cells) for code, cells in groups.items()]


def municipality_grid(
    chart_id: str, overview: implementation.SpreadOverview, column: int, *, table_below: bool = True
) -> Markup:
    """The municipalities' status in the initiative of `column`, as an accessible chart: the
    parties the initiative was spread to (29 before the 2027 merger, 46 after it)."""
    groups = grid_groups(overview, column)
    description = _(
        "De %(count)d kommuner grupperet efter planområde. Hver kommune viser sin status med "
        "et symbol og et mønster: ✓ implementeret, … i gang, ○ ikke startet, – ikke relevant.",
        count=sum(len(group.cells) for group in groups),
    )
    if table_below:
        description += " " + _("Tabellen nedenfor har de samme oplysninger.")
    return charts.status_grid(
        chart_id,
        _("Kommunernes status for %(title)s", title=overview.columns[column].case.title),
        description,
        groups,
    )


@dataclass(frozen=True)
class Picture:
    """Every visible initiative with units, newest first, and the newest one's grid."""

    columns: list[implementation.SpreadColumn]
    newest: implementation.SpreadColumn | None
    grid: Markup | None


def picture(session: Session, visible: ColumnElement[bool]) -> Picture:
    """The implementation picture of the cases `visible` to the viewer (the access policy's
    clause, `workflow.policy.visible_cases`)."""
    overview = implementation.spread_overview(session, visible=visible)
    if not overview.columns:
        return Picture([], None, None)
    # spread_overview orders by case id: the last column is the newest initiative.
    newest = len(overview.columns) - 1
    return Picture(
        list(reversed(overview.columns)),
        overview.columns[newest],
        municipality_grid("implementering-kort", overview, newest, table_below=False),
    )
