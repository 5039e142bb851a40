"""Indicators and goals: the registry, yearly values imported from CSV, links to initiatives.

A CSV file holds one value per row: indicator code, year, region or municipality, value.
Semicolon (Danish Excel) or comma separated; decimal comma or point. The whole file is
checked first; if any row is wrong nothing is imported and every wrong row is named.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models import (
    Case,
    Indicator,
    IndicatorDirection,
    IndicatorValue,
    NationalGoal,
    Party,
    PartyKind,
    User,
)
from workflow import policy
from workflow.engine import admin_audit, clock, values
from workflow.engine import core as engine
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.engine.unit_of_work import unit_of_work

# Header names accepted for each column (lower case, Danish first).
COLUMNS: dict[str, tuple[str, ...]] = {
    "indicator": ("indikator", "indicator", "kode"),
    "year": ("år", "aar", "year"),
    "party": ("område", "omraade", "kommune", "enhed", "party", "area"),
    "value": ("værdi", "vaerdi", "value"),
}
COLUMN_NAMES = {"indicator": "indikator", "year": "år", "party": "område", "value": "værdi"}
MIN_YEAR, MAX_YEAR = 1990, 2100
MAX_SHOWN_ERRORS = 20
DIRECTION_LABELS = {
    IndicatorDirection.UP: "Højere er bedre",
    IndicatorDirection.DOWN: "Lavere er bedre",
}
LINK_TRIGGER = "indicator_linked"
UNLINK_TRIGGER = "indicator_unlinked"


@dataclass(frozen=True)
class RowError:
    """What is wrong with one row of the file (row 1 is the header)."""

    row: int
    problem: str

    def __str__(self) -> str:
        return f"Række {self.row}: {self.problem}"


class IndicatorImportError(WorkflowError):
    """The file was refused; nothing was imported. `errors` names every wrong row."""

    def __init__(self, errors: Sequence[RowError]) -> None:
        self.errors = list(errors)
        shown = "; ".join(str(e) for e in self.errors[:MAX_SHOWN_ERRORS])
        more = len(self.errors) - MAX_SHOWN_ERRORS
        if more > 0:
            shown += f"; og {more} fejl mere"
        count = "1 fejl" if len(self.errors) == 1 else f"{len(self.errors)} fejl"
        super().__init__(
            f"Filen blev ikke indlæst – intet er gemt. Ret {count}, og indlæs hele filen igen. "
            f"{shown}.",
            f"The file was not imported; nothing was saved. {len(self.errors)} errors.",
            rule="indicator_values_valid",
        )


@dataclass
class ImportResult:
    """What an import stored."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    indicators: set[str] = field(default_factory=set)
    years: set[int] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return self.created + self.updated + self.unchanged

    def summary(self) -> str:
        """Describe the import in one Danish sentence."""
        years = sorted(self.years)
        span = f"{years[0]}-{years[-1]}" if len(years) > 1 else (str(years[0]) if years else "")
        return (
            f"{self.rows} værdier indlæst for {len(self.indicators)} indikatorer ({span}): "
            f"{self.created} nye, {self.updated} ændrede, {self.unchanged} uændrede."
        )


@dataclass(frozen=True)
class _Row:
    number: int
    indicator: Indicator
    year: int
    party: Party
    value: Decimal


def _party_index(session: Session) -> dict[str, Party]:
    """Index regions and municipalities by code, full name and bare municipality name."""
    index: dict[str, Party] = {}
    parties = session.scalars(
        select(Party).where(Party.kind.in_([PartyKind.REGION, PartyKind.MUNICIPALITY]))
    )
    for party in parties:
        index[party.code.casefold()] = party
        index[party.name.casefold()] = party
        if party.kind == PartyKind.MUNICIPALITY:
            bare = party.name.removesuffix(" Kommune").removesuffix("s Regionskommune")
            index[bare.casefold()] = party
    index.setdefault("region", next(p for p in index.values() if p.kind == PartyKind.REGION))
    return index


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    """Map each needed column to its position; list the columns that are missing."""
    names = [h.strip().lstrip("\ufeff").casefold() for h in header]
    positions: dict[str, int] = {}
    for column, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                positions[column] = names.index(alias)
                break
    missing = [COLUMN_NAMES[c] for c in COLUMNS if c not in positions]
    return positions, missing


def _dialect(text: str) -> str:
    first = text.splitlines()[0] if text else ""
    return ";" if first.count(";") >= first.count(",") else ","


def parse_value(raw: str) -> Decimal:
    """Read '12,5', '12.5' or '1.234,5' as a Decimal; raise ValueError otherwise (also
    for a number the column cannot hold)."""
    text = raw.strip().replace(" ", "").replace("\u00a0", "")
    if "," in text:
        text = text.replace(".", "").replace(",", ".")
    # Within the column (Numeric(14, 4)); a value may be negative (a fall, a difference).
    return values.amount(text, digits=14, places=4, minimum=None)


def _check_row(
    number: int,
    cells: list[str],
    positions: dict[str, int],
    indicators: dict[str, Indicator],
    parties: dict[str, Party],
) -> tuple[_Row | None, list[RowError]]:
    problems: list[str] = []

    def cell(column: str) -> str:
        index = positions[column]
        return cells[index].strip() if index < len(cells) else ""

    code = cell("indicator")
    indicator = indicators.get(code.casefold())
    if not code:
        problems.append("indikatoren mangler")
    elif indicator is None:
        problems.append(f"indikatoren '{code}' findes ikke (opret den først, eller ret koden)")
    year_text = cell("year")
    year: int | None = None
    if not year_text:
        problems.append("året mangler")
    elif not re.fullmatch("[0-9]{4}", year_text) or not MIN_YEAR <= int(year_text) <= MAX_YEAR:
        problems.append(f"året '{year_text}' skal være et årstal mellem {MIN_YEAR} og {MAX_YEAR}")
    else:
        year = int(year_text)
    area = cell("party")
    party = parties.get(area.casefold())
    if not area:
        problems.append("området (regionen eller en kommune) mangler")
    elif party is None:
        problems.append(f"området '{area}' er hverken regionen eller en af aftalens kommuner")
    value_text = cell("value")
    value: Decimal | None = None
    if not value_text:
        problems.append("værdien mangler")
    else:
        try:
            value = parse_value(value_text)
        except ValueError:
            problems.append(f"værdien '{value_text}' er ikke et tal (brug fx 12,5)")
    errors = [RowError(number, problem) for problem in problems]
    if errors or indicator is None or year is None or party is None or value is None:
        return None, errors
    return _Row(number, indicator, year, party, value), []


def read_rows(session: Session, text: str) -> list[_Row]:
    """Parse and check every row of a CSV text; raise IndicatorImportError naming bad rows."""
    if not text.strip():
        raise IndicatorImportError([RowError(1, "filen er tom")])
    reader = csv.reader(io.StringIO(text), delimiter=_dialect(text))
    header = next(reader)
    positions, missing = _header_map(header)
    if missing:
        raise IndicatorImportError(
            [
                RowError(
                    1,
                    f"overskriften mangler kolonnen {', '.join(missing)} (forventet: "
                    "indikator;år;område;værdi)",
                )
            ]
        )
    return _checked_rows(session, enumerate(reader, start=2), positions)


def _checked_rows(
    session: Session, numbered: Iterable[tuple[int, list[str]]], positions: dict[str, int]
) -> list[_Row]:
    """Check every row (number, cells); raise IndicatorImportError naming the bad ones."""
    indicators = {i.code.casefold(): i for i in session.scalars(select(Indicator))}
    parties = _party_index(session)
    rows: list[_Row] = []
    errors: list[RowError] = []
    seen: dict[tuple[int, int, int], int] = {}
    for number, cells in numbered:
        if not any(c.strip() for c in cells):
            continue
        row, row_errors = _check_row(number, cells, positions, indicators, parties)
        errors += row_errors
        if row is None:
            continue
        key = (row.indicator.id, row.year, row.party.id)
        if key in seen:
            errors.append(
                RowError(
                    number,
                    f"samme indikator, år og område som række {seen[key]} – en værdi må kun "
                    "stå én gang",
                )
            )
            continue
        seen[key] = number
        rows.append(row)
    if errors:
        raise IndicatorImportError(errors)
    if not rows:
        raise IndicatorImportError([RowError(2, "filen har ingen værdier under overskriften")])
    return rows


@dataclass(frozen=True)
class ValueInput:
    """One value as a client sends it (the API): the CSV's four columns, as text."""

    indicator: str
    year: str
    area: str
    value: str


def import_values(session: Session, values_in: Sequence[ValueInput], actor: User) -> ImportResult:
    """Store values given one by one by someone who keeps the indicators, checked as the CSV's
    rows are (row N is the Nth value, counted from 1): all or none, every wrong value named."""
    policy.require(actor, "keep_indicators", None, session)
    positions = {"indicator": 0, "year": 1, "party": 2, "value": 3}
    numbered = (
        (number, [v.indicator, v.year, v.area, v.value])
        for number, v in enumerate(values_in, start=1)
    )
    return _store(session, _checked_rows(session, numbered, positions), actor)


def import_csv(session: Session, text: str, actor: User | None = None) -> ImportResult:
    """Import a CSV text of yearly values in one transaction: all rows or none."""
    return _store(session, read_rows(session, text), actor)


def _store(session: Session, rows: list[_Row], actor: User | None) -> ImportResult:
    """Create or update the checked rows' values, audited, in one unit of work."""
    now = clock.now()
    result = ImportResult()
    existing = {
        (v.indicator_id, v.year, v.party_id): v
        for v in session.scalars(
            select(IndicatorValue).where(
                IndicatorValue.indicator_id.in_({r.indicator.id for r in rows})
            )
        )
    }
    with unit_of_work(session):
        for row in rows:
            current = existing.get((row.indicator.id, row.year, row.party.id))
            if current is None:
                session.add(
                    IndicatorValue(
                        indicator_id=row.indicator.id, year=row.year, party_id=row.party.id,
                        value=row.value, imported_at=now,
                    )
                )  # fmt: skip
                result.created += 1
            elif current.value != row.value:
                current.value = row.value
                current.imported_at = now
                result.updated += 1
            else:
                result.unchanged += 1
            result.indicators.add(row.indicator.code)
            result.years.add(row.year)
        admin_audit.record(
            session,
            actor_id=actor.id if actor else None, action="import_indicator_values",
            object_type="indicator_values", object_id=",".join(sorted(result.indicators)),
            data={"created": result.created, "updated": result.updated,
                  "unchanged": result.unchanged, "years": sorted(result.years)},
            created_at=now,
        )  # fmt: skip
    return result


def define_indicator(
    session: Session,
    *,
    code: str,
    name: str,
    direction: IndicatorDirection | str,
    definition: str = "",
    data_source: str = "",
    unit: str = "",
    national_goal_number: int | None = None,
    actor: User | None = None,
) -> Indicator:
    """Create or update an indicator of the registry (audited) and commit."""
    code = code.strip().upper()
    if not code or not name.strip():
        raise WorkflowError(
            "En indikator skal have en kode og et navn.", "An indicator needs a code and a name."
        )
    goal_id: int | None = None
    if national_goal_number is not None:
        goal_id = session.scalar(
            select(NationalGoal.id).where(NationalGoal.number == national_goal_number)
        )
        if goal_id is None:
            raise WorkflowError(
                f"Der er intet nationalt mål nr. {national_goal_number}; brug 1-8.",
                f"No national goal number {national_goal_number}.",
            )
    # The change and its audit row are one unit: a failure leaves the registry as it was.
    with unit_of_work(session):
        indicator = session.scalar(select(Indicator).where(Indicator.code == code))
        created = indicator is None
        if indicator is None:
            indicator = Indicator(code=code)
            session.add(indicator)
        indicator.name = name.strip()
        indicator.direction = IndicatorDirection(direction)
        indicator.definition = definition.strip()
        indicator.data_source = data_source.strip()
        indicator.unit = unit.strip()
        indicator.national_goal_id = goal_id
        session.flush()
        admin_audit.record(
            session,
            actor_id=actor.id if actor else None,
            action="create_indicator" if created else "update_indicator",
            object_type="indicator", object_id=code,
            data={"name": indicator.name, "direction": indicator.direction.value},
            created_at=clock.now(),
        )  # fmt: skip
    return indicator


def create_indicator(
    session: Session,
    *,
    code: str,
    name: str,
    direction: IndicatorDirection | str,
    definition: str = "",
    data_source: str = "",
    unit: str = "",
    national_goal_number: int | None = None,
    actor: User | None = None,
) -> Indicator:
    """Add a new indicator to the registry (audited) and commit; an existing code is refused."""
    code = code.strip().upper()
    if session.scalar(select(Indicator.id).where(Indicator.code == code)) is not None:
        raise WorkflowError(
            f"Der findes allerede en indikator med koden {code}. Vælg en anden kode, eller ret "
            "den eksisterende indikator.",
            f"An indicator with the code {code} already exists.",
        )
    return define_indicator(
        session, code=code, name=name, direction=direction, definition=definition,
        data_source=data_source, unit=unit, national_goal_number=national_goal_number,
        actor=actor,
    )  # fmt: skip


def linked_indicators(session: Session, case: Case) -> list[Indicator]:
    """Return the indicators a case aims to move."""
    from models import case_indicators

    return list(
        session.scalars(
            select(Indicator)
            .join(case_indicators, case_indicators.c.indicator_id == Indicator.id)
            .where(case_indicators.c.case_id == case.id)
            .order_by(Indicator.code)
        )
    )


def linked_cases(
    session: Session, indicator: Indicator, visible: ColumnElement[bool] | None = None
) -> list[Case]:
    """Return the initiatives that aim to move an indicator (with `visible`, the access
    policy's clause for the reader, only those the reader may see)."""
    from models import case_indicators

    query = (
        select(Case)
        .join(case_indicators, case_indicators.c.case_id == Case.id)
        .where(case_indicators.c.indicator_id == indicator.id)
        .order_by(Case.id)
    )
    if visible is not None:
        query = query.where(visible)
    return list(session.scalars(query))


def set_link(session: Session, case: Case, indicator: Indicator, actor: User, linked: bool) -> bool:
    """Link (or unlink) an initiative and an indicator, audited on the case; commit.

    Returns False when nothing changed.
    """
    from models import case_indicators

    if not policy.may(actor, "link_indicators", case, session):
        raise NotAllowed(
            "Kun medlemmer af det organ, der har sagen, kan knytte indikatorer til den.",
            "Only members of a body that holds the case may link indicators to it.",
            ["member@originating", "member@current"],
        )
    present = indicator in linked_indicators(session, case)
    if present == linked:
        return False
    now: datetime = clock.now()
    with unit_of_work(session):
        if linked:
            session.execute(
                case_indicators.insert().values(case_id=case.id, indicator_id=indicator.id)
            )
        else:
            session.execute(
                case_indicators.delete().where(
                    case_indicators.c.case_id == case.id,
                    case_indicators.c.indicator_id == indicator.id,
                )
            )
        verb = "knyttet til" if linked else "fjernet fra"
        engine.append_event(
            session, case, trigger=LINK_TRIGGER if linked else UNLINK_TRIGGER, actor=actor,
            from_state=case.state, comment=f"Indikatoren {indicator.code} {verb} sagen.",
            data={"indicator": indicator.code}, now=now,
        )  # fmt: skip
    return True


@dataclass(frozen=True)
class Series:
    """An indicator's values over the years for one area."""

    party: Party
    points: list[tuple[int, Decimal]]


def series_for(
    session: Session, indicator: Indicator, party_codes: Sequence[str] = ()
) -> list[Series]:
    """Return the indicator's yearly values per area (the region first), oldest year first."""
    query = (
        select(IndicatorValue)
        .join(Party, Party.id == IndicatorValue.party_id)
        .where(IndicatorValue.indicator_id == indicator.id)
        .order_by(IndicatorValue.year)
    )
    if party_codes:
        query = query.where(Party.code.in_(list(party_codes)))
    by_party: dict[int, Series] = {}
    for value in session.scalars(query):
        series = by_party.setdefault(value.party_id, Series(value.party, []))
        series.points.append((value.year, value.value))
    return sorted(by_party.values(), key=lambda s: (s.party.kind != PartyKind.REGION, s.party.name))


@dataclass(frozen=True)
class PlanIndicatorValue:
    """One indicator a plan's lines aim to move, with the region's value in the plan year."""

    indicator: Indicator
    value: Decimal | None


def plan_indicator_values(session: Session, plan: Case) -> list[PlanIndicatorValue]:
    """The indicators the plan's lines name, each with the region's value for the plan year
    (the value the yearly follow-up for SKU reads; None where none has been imported)."""
    from models import PlanItem, plan_item_indicators
    from workflow.organisation.queries import valid_on

    indicators = session.scalars(
        select(Indicator)
        .join(plan_item_indicators, plan_item_indicators.c.indicator_id == Indicator.id)
        .join(PlanItem, PlanItem.id == plan_item_indicators.c.plan_item_id)
        .where(PlanItem.plan_case_id == plan.id)
        .distinct()
        .order_by(Indicator.code)
    ).all()
    if not indicators or plan.plan_year is None:
        return [PlanIndicatorValue(indicator, None) for indicator in indicators]
    # The region that was a party in the plan year (Region Østdanmark after the 2027 merger).
    region = session.scalar(
        select(Party)
        .where(Party.kind == PartyKind.REGION, valid_on(Party, date(plan.plan_year, 12, 31)))
        .order_by(Party.id)
        .limit(1)
    )
    found: dict[int, Decimal] = {}
    if region is not None:
        rows = session.execute(
            select(IndicatorValue.indicator_id, IndicatorValue.value).where(
                IndicatorValue.party_id == region.id,
                IndicatorValue.year == plan.plan_year,
                IndicatorValue.indicator_id.in_([i.id for i in indicators]),
            )
        )
        found = {indicator_id: value for indicator_id, value in rows}
    return [PlanIndicatorValue(i, found.get(i.id)) for i in indicators]
