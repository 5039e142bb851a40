"""Reports for the secretariats and SKU: pure queries that return tables, and their exports.

Every report is a `Report` (title, columns, rows of plain values), so the web page, the CSV
and the XLSX show the same numbers. Filters: a period (Danish calendar dates, both days
included), a process and a body, and the cases the viewer may see (`Filters.visible`, the
access policy's WHERE clause: the views pass `policy.visible_cases`). Durations are in days
(one decimal).
"""

from __future__ import annotations

import io
import statistics
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, select, true
from sqlalchemy.orm import Session, contains_eager, joinedload

from models import (
    Body,
    Case,
    CaseEvent,
    Deadline,
    Indicator,
    IndicatorValue,
    Meeting,
    Party,
    PartyKind,
    PlanItem,
)
from workflow import spreadsheets
from workflow.engine import clock
from workflow.engine.calendar import end_of_day, local_date
from workflow.engine.definitions import ProcessDefinition
from workflow.engine.formats import format_date, format_list, format_number
from workflow.engine.processes import registry
from workflow.implementation import annual_cycle
from workflow.implementation import queries as implementation_queries
from workflow.organisation.queries import valid_on, with_successors
from workflow.web.i18n import _, current_locale, label, pick

Cell = str | int | float | Decimal | date | None


def N_(text: str) -> str:
    """Mark a heading for the catalogue (`make translations`); the page translates it."""
    return text


DECISION_BODIES = ("SKU", "TSS")
KIND_LABELS = {
    "state": N_("Frist i tilstanden"),
    "material": N_("Materialefrist"),
    "consultation": N_("Høringsfrist"),
    "follow_up": N_("Opfølgning"),
}


@dataclass(frozen=True)
class Filters:
    """What a report is limited to; None means no limit.

    `visible` is a WHERE clause on `Case` for the cases the viewer may see
    (`workflow.policy.visible_cases`); every report that lists or counts cases applies it.
    The default, every case, is for the command line and tests, never for a viewer.
    """

    start: date | None = None
    end: date | None = None
    process: str | None = None
    body: str | None = None
    visible: ColumnElement[bool] = field(default_factory=true, compare=False, repr=False)

    def contains(self, moment: datetime) -> bool:
        """True when `moment` falls within the period (Danish dates, inclusive)."""
        day = local_date(moment)
        return (self.start is None or day >= self.start) and (self.end is None or day <= self.end)

    def describe(self, locale: str = "da") -> str:
        """Say what the report is limited to, in Danish or (locale 'en') English."""
        english = locale == "en"
        parts: list[str] = []
        if self.start or self.end:
            start = format_date(self.start, locale) if self.start else "…"
            end = format_date(self.end, locale) if self.end else "…"
            parts.append(f"{'period' if english else 'periode'} {start} – {end}")
        if self.process:
            parts.append(f"{'process' if english else 'proces'} {self.process}")
        if self.body:
            parts.append(f"{'body' if english else 'organ'} {self.body}")
        if parts:
            return ", ".join(parts)
        return "all cases" if english else "alle sager"


@dataclass
class Report:
    """A table: its columns and rows hold plain values, in the order shown."""

    key: str
    title: str
    description: str
    columns: list[str]
    rows: list[list[Cell]] = field(default_factory=list)
    filters: Filters = field(default_factory=Filters)
    # Columns holding numbers a total makes sense for (shown in a last row).
    total_columns: tuple[int, ...] = ()
    # Columns holding what people wrote (comments): shown as written, marked as Danish.
    text_columns: tuple[int, ...] = ()

    def totals(self) -> list[Cell] | None:
        """Return the totals row, or None when the report has no summable columns."""
        if not self.total_columns or not self.rows:
            return None
        totals: list[Cell] = [None] * len(self.columns)
        totals[0] = "I alt"
        for index in self.total_columns:
            numbers = [row[index] for row in self.rows]
            totals[index] = sum(n for n in numbers if isinstance(n, int | float | Decimal))
        return totals


def _definition(session: Session, case: Case) -> ProcessDefinition:
    return registry.get(session, case.process, case.process_version)


def _bodies(session: Session) -> dict[int, Body]:
    return {b.id: b for b in session.scalars(select(Body))}


def _body_id(session: Session, code: str | None) -> int | None:
    if not code:
        return None
    return session.scalar(select(Body.id).where(Body.code == code))


def _cases(session: Session, filters: Filters, *, by: str = "current") -> list[Case]:
    query = (
        select(Case).options(joinedload(Case.focus_area)).where(filters.visible).order_by(Case.id)
    )
    if filters.process:
        query = query.where(Case.process == filters.process)
    body_id = _body_id(session, filters.body)
    if filters.body and body_id is None:
        return []
    if body_id is not None:
        column = Case.current_body_id if by == "current" else Case.originating_body_id
        query = query.where(column == body_id)
    return list(session.scalars(query))


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 1)


def _is_open(session: Session, case: Case) -> bool:
    return not _definition(session, case).states[case.state].final


# --- status ---------------------------------------------------------------------------------


def _overdue_case_ids(session: Session, now: datetime) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for case_id in session.scalars(
        select(Deadline.case_id).where(
            Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < now
        )
    ):
        counts[case_id] += 1
    return counts


def status_by_body(session: Session, filters: Filters = Filters()) -> Report:
    """Open cases per body that holds them, process and state, with overdue deadlines."""
    now = clock.now()
    bodies = _bodies(session)
    overdue = _overdue_case_ids(session, now)
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    for case in _cases(session, filters):
        if not _is_open(session, case) or not filters.contains(case.created_at):
            continue
        definition = _definition(session, case)
        key = (
            bodies[case.current_body_id].code,
            title_of(definition),
            label(definition.states[case.state]),
        )
        groups[key][0] += 1
        groups[key][1] += 1 if overdue.get(case.id) else 0
    rows: list[list[Cell]] = [[*key, *counts] for key, counts in sorted(groups.items())]
    return Report(
        "status-organ", N_("Status pr. organ"),
        N_(
            "Åbne sager efter det organ, der har dem nu, proces og tilstand. "
            "Perioden afgrænser, hvornår sagen blev oprettet."
        ),
        [N_("Organ"), N_("Proces"), N_("Tilstand"), N_("Sager"), N_("Heraf med overskredet frist")],
        rows, filters, (3, 4),
    )  # fmt: skip


def status_by_focus_area(session: Session, filters: Filters = Filters()) -> Report:
    """Open and closed cases per focus area, process and state."""
    groups: dict[tuple[str, str, str], int] = defaultdict(int)
    for case in _cases(session, filters, by="originating"):
        if not filters.contains(case.created_at):
            continue
        definition = _definition(session, case)
        area = case.focus_area.name if case.focus_area else "(intet fokusområde)"
        groups[(area, title_of(definition), label(definition.states[case.state]))] += 1
    rows: list[list[Cell]] = [[*key, count] for key, count in sorted(groups.items())]
    return Report(
        "status-fokusomraade", N_("Status pr. fokusområde"),
        N_(
            "Alle sager efter fokusområde, proces og tilstand. Organ afgrænser, hvor sagen "
            "stammer fra; perioden, hvornår den blev oprettet."
        ),
        [N_("Fokusområde"), N_("Proces"), N_("Tilstand"), N_("Sager")], rows, filters, (3,),
    )  # fmt: skip


# --- overdue --------------------------------------------------------------------------------


def overdue(session: Session, filters: Filters = Filters()) -> Report:
    """Open deadlines that have passed, the longest overdue first."""
    now = clock.now()
    bodies = _bodies(session)
    query = (
        select(Deadline)
        .join(Case, Case.id == Deadline.case_id)
        .options(contains_eager(Deadline.case))
        .where(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < now)
        .where(filters.visible)
        .order_by(Deadline.due_at, Deadline.id)
    )
    body_id = _body_id(session, filters.body)
    if filters.body and body_id is None:
        return _empty_overdue(filters)
    if body_id is not None:
        query = query.where(Deadline.body_id == body_id)
    rows: list[list[Cell]] = []
    for deadline in session.scalars(query):
        case: Case = deadline.case
        if filters.process and case.process != filters.process:
            continue
        if not filters.contains(deadline.due_at):
            continue
        definition = _definition(session, case)
        state = definition.states.get(deadline.state)
        rows.append(
            [
                case.id, case.title, title_of(definition),
                label(state) if state else deadline.state,
                bodies[deadline.body_id].code if deadline.body_id in bodies else "",
                _(KIND_LABELS.get(deadline.kind.value, deadline.kind.value)),
                local_date(deadline.due_at), (local_date(now) - local_date(deadline.due_at)).days,
            ]
        )  # fmt: skip
    report = _empty_overdue(filters)
    report.rows = rows
    return report


def _empty_overdue(filters: Filters) -> Report:
    return Report(
        "overskredne", N_("Overskredne frister"),
        N_(
            "Åbne frister, der er overskredet nu. Perioden afgrænser fristens dato; organ det "
            "organ, fristen påhviler."
        ),
        [N_("Sag nr."), N_("Titel"), N_("Proces"), N_("Tilstand"), N_("Organ"), N_("Frist"),
         N_("Forfaldt"), N_("Dage over")],
        [], filters,
    )  # fmt: skip


# --- decisions ------------------------------------------------------------------------------


def _decision_body(
    session: Session, event: CaseEvent, case: Case, definition: ProcessDefinition,
    bodies: dict[int, Body],
) -> str | None:  # fmt: skip
    """Name the body that took a decision event, or None if the event is no decision."""
    transition = definition.transition(event.trigger)
    if transition is None or not transition.decision:
        return None
    recorded = (event.data or {}).get("decision_body")
    if recorded:
        return str(recorded)
    state = definition.states.get(event.from_state or "")
    if state is None:
        return None
    if state.body == "originating":
        return bodies[case.originating_body_id].code
    return state.body


def decisions(session: Session, filters: Filters = Filters()) -> Report:
    """What SKU and TSS (or the chosen body) decided in the period, oldest first."""
    bodies = _bodies(session)
    wanted = (filters.body,) if filters.body else DECISION_BODIES
    # After a reorganisation the bodies that took over decide in their place.
    deciding = with_successors(session, wanted)
    query = (
        select(CaseEvent, Case)
        .join(Case, Case.id == CaseEvent.case_id)
        .where(filters.visible)
        .order_by(CaseEvent.created_at, CaseEvent.id)
    )
    if filters.process:
        query = query.where(Case.process == filters.process)
    if filters.start:
        query = query.where(CaseEvent.created_at >= end_of_day(filters.start - timedelta(days=1)))
    if filters.end:
        query = query.where(CaseEvent.created_at <= end_of_day(filters.end))
    meetings = {m.id: m for m in session.scalars(select(Meeting))}
    rows: list[list[Cell]] = []
    for event, case in session.execute(query).tuples():
        definition = _definition(session, case)
        body = _decision_body(session, event, case, definition, bodies)
        if body is None or body not in deciding or not filters.contains(event.created_at):
            continue
        transition = definition.transition(event.trigger)
        assert transition is not None
        meeting = meetings.get(event.meeting_id) if event.meeting_id else None
        how = (
            _("Møde %(day)s", day=format_date(meeting.starts_at, current_locale()))
            if meeting
            else _("Formandskabet på organets vegne")
        )
        rows.append(
            [
                local_date(event.created_at), body, case.id, case.title, title_of(definition),
                label(transition), label(definition.states[event.to_state]), how, event.comment,
            ]
        )  # fmt: skip
    return Report(
        "beslutninger",
        _("Beslutninger i %(bodies)s", bodies=format_list(wanted, current_locale())),
        N_(
            "Beslutninger truffet i perioden, på møder eller af formandskabet mellem møderne."
        ),
        [N_("Dato"), N_("Organ"), N_("Sag nr."), N_("Titel"), N_("Proces"), N_("Beslutning"),
         N_("Ny tilstand"), N_("Truffet"), N_("Bemærkning")],
        rows, filters, text_columns=(8,),
    )  # fmt: skip


# --- implementation -------------------------------------------------------------------------


def implementation_spread(session: Session, filters: Filters = Filters()) -> Report:
    """Per initiative with units: how many units have implemented it."""
    overview = implementation_queries.spread_overview(
        session,
        processes=(filters.process,) if filters.process else (),
        body_id=_body_id(session, filters.body) if filters.body else None,
        visible=filters.visible,
    )
    rows: list[list[Cell]] = []
    for column in overview.columns:
        if filters.body and _body_id(session, filters.body) is None:
            break
        p = column.progress
        rows.append(
            [
                column.case.id, column.case.title, title_of(_definition(session, column.case)),
                column.state_label, p.total, p.implemented, p.not_relevant, p.in_progress,
                p.not_started, p.percent,
            ]
        )  # fmt: skip
    return Report(
        "implementering", N_("Implementering og udbredelse"),
        N_(
            "Enheder (kommuner, hospitaler, almen praksis) pr. indsats. Organ afgrænser, hvor "
            "indsatsen stammer fra. 'Færdige' tæller implementerede og ikke relevante."
        ),
        [N_("Sag nr."), N_("Indsats"), N_("Proces"), N_("Tilstand"), N_("Enheder"),
         N_("Implementeret"), N_("Ikke relevant"), N_("I gang"), N_("Ikke startet"),
         N_("Færdige (pct.)")],
        rows, filters, (4, 5, 6, 7, 8),
    )  # fmt: skip


# --- throughput and waiting time -------------------------------------------------------------


def _state_events(events: Iterable[CaseEvent]) -> list[CaseEvent]:
    """The events that put a case in a state: its creation and every change of state."""
    return [
        e
        for e in events
        if e.trigger == "create" or (e.from_state is not None and e.from_state != e.to_state)
    ]


# Case ids bound per statement: PostgreSQL takes at most 65,535 parameters and SQLite 32,766,
# and a report over every visible case (100,000 in the bench data) names more.
IDS_PER_STATEMENT = 10_000


def _id_batches(case_ids: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(case_ids), IDS_PER_STATEMENT):
        yield case_ids[start : start + IDS_PER_STATEMENT]


def _events_by_case(session: Session, case_ids: Sequence[int]) -> dict[int, list[CaseEvent]]:
    by_case: dict[int, list[CaseEvent]] = defaultdict(list)
    for batch in _id_batches(case_ids):
        for event in session.scalars(
            select(CaseEvent).where(CaseEvent.case_id.in_(batch)).order_by(CaseEvent.seq)
        ):
            by_case[event.case_id].append(event)
    return by_case


def _submission_and_sku_decision(
    session: Session, case: Case, events: list[CaseEvent], bodies: dict[int, Body]
) -> tuple[CaseEvent, CaseEvent] | None:
    """The case's first move out of its initial state, and SKU's first decision after it."""
    definition = _definition(session, case)
    submitted = next(
        (e for e in events if e.from_state == definition.initial and e.to_state != e.from_state),
        None,
    )
    if submitted is None:
        return None
    decided = next(
        (
            e
            for e in events
            if e.seq > submitted.seq
            and _decision_body(session, e, case, definition, bodies) == "SKU"
        ),
        None,
    )
    return (submitted, decided) if decided is not None else None


def throughput(session: Session, filters: Filters = Filters()) -> Report:
    """Days from submission to SKU's decision, per process and originating body."""
    bodies = _bodies(session)
    cases = _cases(session, filters, by="originating")
    events = _events_by_case(session, [c.id for c in cases])
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    for case in cases:
        pair = _submission_and_sku_decision(session, case, events[case.id], bodies)
        if pair is None or not filters.contains(pair[1].created_at):
            continue
        submitted, decided = pair
        key = (title_of(_definition(session, case)), bodies[case.originating_body_id].code)
        groups[key].append(_days(decided.created_at - submitted.created_at))
    rows: list[list[Cell]] = [
        [process, body, len(days), round(statistics.fmean(days), 1),
         round(statistics.median(days), 1), min(days), max(days)]
        for (process, body), days in sorted(groups.items())
    ]  # fmt: skip
    return Report(
        "gennemloebstid", N_("Gennemløbstid fra indstilling til SKU's beslutning"),
        N_(
            "Dage fra sagen forlod sin første tilstand (indstillingen) til SKU's første "
            "beslutning. Perioden afgrænser beslutningens dato; organ det organ, sagen stammer "
            "fra."
        ),
        [N_("Proces"), N_("Stammer fra"), N_("Sager"), N_("Gennemsnit (dage)"), N_("Median (dage)"),
         N_("Korteste (dage)"), N_("Længste (dage)")],
        rows, filters, (2,),
    )  # fmt: skip


@dataclass(frozen=True)
class _Stay:
    case: Case
    state: str
    body_code: str
    entered: datetime
    left: datetime | None


def _stays(
    session: Session, case: Case, events: list[CaseEvent], bodies: dict[int, Body]
) -> list[_Stay]:
    definition = _definition(session, case)
    moves = _state_events(events)
    stays: list[_Stay] = []
    for index, event in enumerate(moves):
        state = definition.states.get(event.to_state)
        if state is None or state.final:
            continue
        owner = state.body
        code = bodies[case.originating_body_id].code if owner == "originating" else owner
        left = moves[index + 1].created_at if index + 1 < len(moves) else None
        stays.append(_Stay(case, event.to_state, code, event.created_at, left))
    return stays


def _overdue_by_state(
    session: Session, case_ids: Sequence[int], now: datetime
) -> dict[tuple[int, str], int]:
    """Count per case and state the deadlines that were (or are) overdue."""
    counts: dict[tuple[int, str], int] = defaultdict(int)
    for batch in _id_batches(case_ids):
        for deadline in session.scalars(select(Deadline).where(Deadline.case_id.in_(batch))):
            if deadline.cancelled_at is not None:
                continue
            finished = deadline.met_at or now
            if finished > deadline.due_at:
                counts[(deadline.case_id, deadline.state)] += 1
    return counts


def time_in_state(session: Session, filters: Filters = Filters()) -> Report:
    """Days cases spend in each state, per body that holds them then, with overdue counts.

    A stay still going on counts until now. The period limits when the case entered the state;
    the body filter the body that held it.
    """
    now = clock.now()
    bodies = _bodies(session)
    cases = _cases(session, replace(filters, start=None, end=None, body=None))
    events = _events_by_case(session, [c.id for c in cases])
    late = _overdue_by_state(session, [c.id for c in cases], now)
    groups: dict[tuple[str, str, str], list[tuple[float, int]]] = defaultdict(list)
    counted: set[tuple[int, str]] = set()
    for case in cases:
        definition = _definition(session, case)
        for stay in _stays(session, case, events[case.id], bodies):
            if filters.body and stay.body_code != filters.body:
                continue
            if not filters.contains(stay.entered):
                continue
            key = (stay.body_code, title_of(definition), label(definition.states[stay.state]))
            # Overdue deadlines belong to the case's state, not one stay: count them once.
            overdue_count = 0 if (case.id, stay.state) in counted else late[(case.id, stay.state)]
            counted.add((case.id, stay.state))
            groups[key].append((_days((stay.left or now) - stay.entered), overdue_count))
    rows: list[list[Cell]] = []
    for (body, process, state), stays in sorted(groups.items()):
        days = [d for d, _ in stays]
        rows.append(
            [body, process, state, len(stays), round(statistics.fmean(days), 1),
             round(max(days), 1), sum(o for _, o in stays)]
        )  # fmt: skip
    return Report(
        "ventetid", N_("Tid i hver tilstand pr. organ"),
        N_(
            "Hvor sagerne venter: dage i hver tilstand hos det organ, der havde sagen. Et ophold, "
            "der stadig varer, tæller til nu. Overskredne frister tæller frister i tilstanden, "
            "der blev eller er overskredet."
        ),
        [N_("Organ"), N_("Proces"), N_("Tilstand"), N_("Ophold"), N_("Gennemsnit (dage)"),
         N_("Længste (dage)"), N_("Overskredne frister")],
        rows, filters, (3, 6),
    )  # fmt: skip


# --- registry and export --------------------------------------------------------------------

REPORTS: dict[str, Callable[[Session, Filters], Report]] = {
    "status-organ": status_by_body,
    "status-fokusomraade": status_by_focus_area,
    "overskredne": overdue,
    "beslutninger": decisions,
    "implementering": implementation_spread,
    "gennemloebstid": throughput,
    "ventetid": time_in_state,
}


def to_csv(report: Report) -> str:
    """Render a report as CSV for Danish Excel: semicolons, decimal commas, a BOM, and no
    text a spreadsheet would run as a formula."""
    totals = report.totals()
    return spreadsheets.to_csv([report.columns, *report.rows, *([totals] if totals else [])])


def _sheet_title(title: str, used: set[str]) -> str:
    cleaned = "".join(c for c in title if c not in "[]:*?/\\")[:31]
    name, number = cleaned, 2
    while name in used:
        suffix = f" {number}"
        name, number = cleaned[: 31 - len(suffix)] + suffix, number + 1
    used.add(name)
    return name


def to_xlsx(reports: Sequence[Report], title: str = "Aftaleflow") -> bytes:
    """Render reports as an XLSX workbook, one sheet each, numbers kept as numbers and text
    stored as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    workbook.properties.title = title
    workbook.properties.creator = "Aftaleflow"
    used: set[str] = set()
    first = True
    for report in reports:
        sheet = workbook.active if first else workbook.create_sheet()
        assert sheet is not None
        first = False
        sheet.title = _sheet_title(report.title, used)
        spreadsheets.append_row(sheet, [report.title])
        sheet["A1"].font = Font(bold=True, size=14)
        spreadsheets.append_row(
            sheet, [f"{report.description} Afgrænsning: {report.filters.describe()}."]
        )
        spreadsheets.append_row(sheet, [])
        spreadsheets.append_row(sheet, report.columns)
        for cell in sheet[4]:
            cell.font = Font(bold=True)
        for row in report.rows:
            spreadsheets.append_row(sheet, row)
        totals = report.totals()
        if totals:
            spreadsheets.append_row(sheet, totals)
            for cell in sheet[sheet.max_row]:
                cell.font = Font(bold=True)
        for index, column in enumerate(report.columns, start=1):
            widest = max(
                [len(column)]
                + [len(spreadsheets.plain_text(r[index - 1])) for r in report.rows[:200]]
            )
            sheet.column_dimensions[get_column_letter(index)].width = min(max(10, widest + 2), 60)
        for row_cells in sheet.iter_rows(min_row=5):
            for cell in row_cells:
                if isinstance(cell.value, date):
                    cell.number_format = "yyyy-mm-dd"
        sheet.freeze_panes = "A5"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- the yearly follow-up for SKU ------------------------------------------------------------


def indicator_follow_up(session: Session, year: int) -> Report:
    """Each indicator in the region: this year's and last year's value and the direction."""
    # The region that was a party in the year (Region Østdanmark after the 2027 merger).
    region = session.scalar(
        select(Party)
        .where(Party.kind == PartyKind.REGION, valid_on(Party, date(year, 12, 31)))
        .order_by(Party.id)
        .limit(1)
    )
    values = {
        (v.indicator_id, v.year): v.value
        for v in session.scalars(
            select(IndicatorValue).where(
                IndicatorValue.party_id == (region.id if region else -1),
                IndicatorValue.year.in_([year - 1, year]),
            )
        )
    }
    rows: list[list[Cell]] = []
    for indicator in session.scalars(
        select(Indicator).where(Indicator.active.is_(True)).order_by(Indicator.code)
    ):
        before, now_value = values.get((indicator.id, year - 1)), values.get((indicator.id, year))
        verdict = _("Ingen data")
        if before is not None and now_value is not None:
            better = now_value > before if indicator.direction == "up" else now_value < before
            verdict = _("Forbedret") if better else _("Forværret")
            if now_value == before:
                verdict = _("Uændret")
        rows.append(
            [indicator.code, indicator.name, indicator.unit,
             _("Højere er bedre") if indicator.direction == "up" else _("Lavere er bedre"),
             before, now_value, verdict, indicator.data_source]
        )  # fmt: skip
    return Report(
        "indikatorer", _("Indikatorer %(year)s", year=year),
        _(
            "Regionens værdi for %(before)s og %(year)s og udviklingen i den ønskede retning.",
            before=year - 1, year=year,
        ),
        [N_("Kode"), N_("Indikator"), N_("Enhed"), N_("Retning"), str(year - 1), str(year),
         N_("Udvikling"), N_("Datakilde")],
        rows, Filters(date(year, 1, 1), date(year, 12, 31)),
    )  # fmt: skip


def plan_report(session: Session, year: int, filters: Filters = Filters()) -> Report:
    """The lines of the implementation plan for `year` (seed 004 §1.2.2), if the viewer may
    see the plan's case (`filters.visible`)."""
    plan_ids = select(Case.id).where(
        Case.process == annual_cycle.plan_process(session), Case.plan_year == year, filters.visible
    )
    items = session.scalars(
        select(PlanItem)
        .options(joinedload(PlanItem.indicators))
        .where(PlanItem.plan_case_id.in_(plan_ids))
        .order_by(PlanItem.position, PlanItem.id)
    ).unique()
    rows: list[list[Cell]] = [
        [item.title, item.purpose, item.anchoring, item.responsible_start,
         item.responsible_delivery, item.starts_on, item.ends_on, item.economy,
         item.economy_dkk, ", ".join(i.code for i in item.indicators)]
        for item in items
    ]  # fmt: skip
    return Report(
        "plan", f"Implementeringsplan {year}",
        N_(
            "Indsatserne i årets plan: formål, forankring, ansvar, tidsplan, økonomi og de "
            "indikatorer, de skal påvirke."
        ),
        [N_("Indsats"), N_("Formål"), N_("Organisatorisk forankring"),
         N_("Ansvar for igangsættelse"), N_("Ansvar for gennemførelse"), N_("Start"), N_("Slut"),
         N_("Økonomi"), N_("Økonomi (kr.)"), N_("Indikatorer")],
        rows, Filters(date(year, 1, 1), date(year, 12, 31)), (8,),
    )  # fmt: skip


def yearly_follow_up(session: Session, year: int, seen: Filters = Filters()) -> list[Report]:
    """The reports of SKU's yearly follow-up on the agreement for `year`, of the cases
    `seen.visible` lets the viewer see."""
    every = Filters(visible=seen.visible)
    period = replace(every, start=date(year, 1, 1), end=date(year, 12, 31))
    return [
        plan_report(session, year, every),
        implementation_spread(session, every),
        indicator_follow_up(session, year),
        decisions(session, replace(period, body="SKU")),
        decisions(session, replace(period, body="TSS")),
        throughput(session, period),
        overdue(session, every),
    ]


def yearly_follow_up_xlsx(session: Session, year: int, seen: Filters = Filters()) -> bytes:
    """The yearly follow-up as one workbook SKU's secretariat can hand out."""
    return to_xlsx(yearly_follow_up(session, year, seen), title=follow_up_title(year))


def title_of(definition: ProcessDefinition) -> str:
    """A process's title in the reader's language (Danish outside a request)."""
    return pick(definition.title, definition.title_en)


def document_text(value: Cell) -> str:
    """A cell as a Word reader sees it: Danish dates and amounts ('13. november 2020',
    '2.400.000'), whole numbers as they are."""
    if isinstance(value, date):
        return format_date(value)
    if isinstance(value, float | Decimal):
        return format_number(value)
    return spreadsheets.plain_text(value)


def follow_up_title(year: int) -> str:
    """The yearly follow-up's title, the same on the workbook, the PDF and the Word document."""
    return f"Årlig opfølgning på sundhedsaftalen {year}"
