"""Reports for the secretariats and SKU: pure queries that return tables, and their exports.

Every report is a `Report` (title, columns, rows of plain values), so the web page, the CSV
and the XLSX show the same numbers. Filters: a period (Danish calendar dates, both days
included), a process and a body, and the cases the viewer may see (`Filters.visible`, the
access policy's WHERE clause: the views pass `policy.visible_cases`). Durations are in days
(one decimal).
"""

from __future__ import annotations

import io
import math
import statistics
from collections import defaultdict
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Float,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    extract,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased, joinedload

from models import (
    Body,
    Case,
    CaseEvent,
    Deadline,
    FocusArea,
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
from workflow.engine.clock import LOCAL_TZ
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


def _case_scope(
    session: Session, filters: Filters, *, by: str = "current"
) -> list[ColumnElement[bool]] | None:
    """The WHERE clauses on `Case` for the cases a report covers (visible, of the process, held
    by or originating from the body), or None when the chosen body does not exist.

    The reports over every visible case join these clauses instead of binding case ids, so no
    statement binds more parameters than PostgreSQL (65,535) or SQLite (32,766) take.
    """
    clauses: list[ColumnElement[bool]] = [filters.visible]
    if filters.process:
        clauses.append(Case.process == filters.process)
    body_id = _body_id(session, filters.body)
    if filters.body and body_id is None:
        return None
    if body_id is not None:
        column = Case.current_body_id if by == "current" else Case.originating_body_id
        clauses.append(column == body_id)
    return clauses


def _start_of_day(day: date) -> datetime:
    """Midnight Danish time at the start of `day`, as UTC."""
    return datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC)


def _in_period(column: Any, filters: Filters) -> list[ColumnElement[bool]]:
    """WHERE clauses that hold exactly when `filters.contains(column)` (Danish dates)."""
    clauses: list[ColumnElement[bool]] = []
    if filters.start:
        clauses.append(column >= _start_of_day(filters.start))
    if filters.end:
        clauses.append(column < _start_of_day(filters.end + timedelta(days=1)))
    return clauses


class _Labels:
    """Process titles and state and transition labels in the reader's language, looked up once
    per process version rather than once per row."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._titles: dict[tuple[str, int], str] = {}
        self._states: dict[tuple[str, int, str], str] = {}
        self._transitions: dict[tuple[str, int, str], str] = {}

    def definition(self, process: str, version: int) -> ProcessDefinition:
        return registry.get(self.session, process, version)

    def title(self, process: str, version: int) -> str:
        key = (process, version)
        if key not in self._titles:
            self._titles[key] = title_of(self.definition(process, version))
        return self._titles[key]

    def state(self, process: str, version: int, state: str) -> str:
        key = (process, version, state)
        if key not in self._states:
            self._states[key] = label(self.definition(process, version).states[state])
        return self._states[key]

    def transition(self, process: str, version: int, trigger: str) -> str:
        key = (process, version, trigger)
        if key not in self._transitions:
            transition = self.definition(process, version).transition(trigger)
            assert transition is not None
            self._transitions[key] = label(transition)
        return self._transitions[key]


def _days(delta: timedelta) -> float:
    return round(delta.total_seconds() / 86400, 1)


# --- status ---------------------------------------------------------------------------------


def _overdue_now(now: datetime) -> ColumnElement[bool]:
    return and_(Deadline.met_at.is_(None), Deadline.cancelled_at.is_(None), Deadline.due_at < now)


def status_by_body(session: Session, filters: Filters = Filters()) -> Report:
    """Open cases per body that holds them, process and state, with overdue deadlines."""
    now = clock.now()
    bodies = _bodies(session)
    groups: dict[tuple[str, str, str], list[int]] = defaultdict(lambda: [0, 0])
    scope = _case_scope(session, filters)
    if scope is not None:
        late = select(Deadline.case_id).where(_overdue_now(now)).distinct().subquery()
        query = (
            select(
                Case.process, Case.process_version, Case.state, Case.current_body_id,
                func.count(), func.count(late.c.case_id),
            )
            .outerjoin(late, late.c.case_id == Case.id)
            .where(*scope, *_in_period(Case.created_at, filters))
            .group_by(Case.process, Case.process_version, Case.state, Case.current_body_id)
        )  # fmt: skip
        labels = _Labels(session)
        for process, version, state, body_id, count, overdue_count in session.execute(query):
            if labels.definition(process, version).states[state].final:
                continue
            key = (
                bodies[body_id].code,
                labels.title(process, version),
                labels.state(process, version, state),
            )
            groups[key][0] += count
            groups[key][1] += overdue_count
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
    scope = _case_scope(session, filters, by="originating")
    if scope is not None:
        query = (
            select(FocusArea.name, Case.process, Case.process_version, Case.state, func.count())
            .select_from(Case)
            .outerjoin(FocusArea, FocusArea.id == Case.focus_area_id)
            .where(*scope, *_in_period(Case.created_at, filters))
            .group_by(FocusArea.id, FocusArea.name, Case.process, Case.process_version, Case.state)
        )
        labels = _Labels(session)
        for name, process, version, state, count in session.execute(query):
            area = name if name is not None else "(intet fokusområde)"
            key = (area, labels.title(process, version), labels.state(process, version, state))
            groups[key] += count
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
    body_id = _body_id(session, filters.body)
    if filters.body and body_id is None:
        return _empty_overdue(filters)
    query = (
        select(
            Case.id, Case.title, Case.process, Case.process_version, Deadline.state,
            Deadline.body_id, Deadline.kind, Deadline.due_at,
        )
        .join(Case, Case.id == Deadline.case_id)
        .where(_overdue_now(now), filters.visible, *_in_period(Deadline.due_at, filters))
        .order_by(Deadline.due_at, Deadline.id)
    )  # fmt: skip
    if filters.process:
        query = query.where(Case.process == filters.process)
    if body_id is not None:
        query = query.where(Deadline.body_id == body_id)
    labels = _Labels(session)
    kinds: dict[str, str] = {}
    today = local_date(now)
    rows: list[list[Cell]] = []
    for case_id, title, process, version, state, deadline_body, kind, due_at in session.execute(
        query
    ):
        if kind.value not in kinds:
            kinds[kind.value] = _(KIND_LABELS.get(kind.value, kind.value))
        known = state in labels.definition(process, version).states
        due = local_date(due_at)
        rows.append(
            [
                case_id, title, labels.title(process, version),
                labels.state(process, version, state) if known else state,
                bodies[deadline_body].code if deadline_body in bodies else "",
                kinds[kind.value], due, (today - due).days,
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


def _per_version(name: str, rows: Sequence[tuple[str, int, str, str]]) -> Any:
    """A small table (process, version, name, value) to join, e.g. the decision triggers of each
    process version: a join the database hashes, where a list of row values in IN would be
    compared row by row (PostgreSQL)."""
    selects = [
        select(
            literal(process, String).label("process"), literal(version, Integer).label("version"),
            literal(key, String).label("name"), literal(value, String).label("value"),
        )
        for process, version, key, value in (list(rows) or [("", -1, "", "")])
    ]  # fmt: skip
    return union_all(*selects).subquery(name)


def _decision_triggers(session: Session) -> list[tuple[str, int, str]]:
    """(process, version, trigger) of every transition that is a decision, in every stored
    version, as a WHERE clause can name them."""
    found: list[tuple[str, int, str]] = []
    for (name, version), definition in registry.stored(session).items():
        for trigger in dict.fromkeys(t.trigger for t in definition.transitions):
            transition = definition.transition(trigger)
            if transition is not None and transition.decision:
                found.append((name, version, trigger))
    return found


def _version_key(name: Any) -> ColumnElement[str]:
    """ "process:version:name" for a name (a trigger, a state) in the event's case's version: one
    value to look up in a list. A join to a table of (process, version, name) rows made SQLite
    read an event once per process sharing its trigger's name and PostgreSQL misjudge the rows;
    a list is an index SQLite builds for the statement and a hash for PostgreSQL."""
    key: ColumnElement[str] = Case.process + ":" + cast(Case.process_version, String) + ":" + name
    return key


def _is_decision(session: Session) -> ColumnElement[bool]:
    """The event's trigger is a decision in its case's version (the case joined)."""
    triggers = _decision_triggers(session)
    return and_(
        CaseEvent.trigger.in_(sorted({trigger for _p, _v, trigger in triggers})),
        _version_key(CaseEvent.trigger).in_(sorted(f"{p}:{v}:{t}" for p, v, t in triggers)),
    )


def _recorded_decision_body() -> ColumnElement[str]:
    """The body an event's data says took the decision (`data.decision_body`), or NULL."""
    recorded: ColumnElement[str] = CaseEvent.data["decision_body"].as_string()
    return recorded


def _state_bodies(session: Session) -> list[tuple[str, int, str, str]]:
    """(process, version, state, body) of every state with a body, in every stored version: the
    body that holds a case in the state, a code or "originating"."""
    return [
        (name, version, state.name, state.body)
        for (name, version), definition in registry.stored(session).items()
        for state in definition.states.values()
        if state.body
    ]


def _decision_body_of(
    definition: ProcessDefinition, from_state: str | None, recorded: str | None,
    originating_code: str,
) -> str | None:  # fmt: skip
    """The body that took a decision (an event whose trigger `_decision_triggers` names): the
    one the event recorded, else the one that held the state the case left; None if unknown.
    `_decided_by` says the same in SQL."""
    if recorded:
        return str(recorded)
    state = definition.states.get(from_state or "")
    if state is None:
        return None
    if state.body == "originating":
        return originating_code
    return state.body


def _decided_by(session: Session, deciding: Collection[str]) -> ColumnElement[bool]:
    """A decision event's deciding body (`_decision_body_of`) is one of `deciding`, in SQL.

    The state the case left is looked up by its `_version_key`.
    """
    held = _state_bodies(session)
    by_state = sorted(f"{p}:{v}:{state}" for p, v, state, body in held if body in deciding)
    by_originating = sorted(
        f"{p}:{v}:{state}" for p, v, state, body in held if body == "originating"
    )
    originating_ids = session.scalars(select(Body.id).where(Body.code.in_(deciding))).all()
    left_state = _version_key(CaseEvent.from_state)
    recorded = func.nullif(_recorded_decision_body(), "")
    return or_(
        recorded.in_(sorted(deciding)),
        and_(
            recorded.is_(None),
            or_(
                left_state.in_(by_state),
                and_(left_state.in_(by_originating), Case.originating_body_id.in_(originating_ids)),
            ),
        ),
    )


def _decisions_where(
    session: Session, filters: Filters
) -> tuple[list[ColumnElement[bool]], tuple[str, ...]]:
    """Which events the decisions report lists (on events joined with their cases), filtered by
    their deciding body in SQL, so a page can count and read only its rows; and the bodies the
    report is about."""
    wanted = (filters.body,) if filters.body else DECISION_BODIES
    # After a reorganisation the bodies that took over decide in their place.
    deciding = with_successors(session, wanted)
    clauses = [filters.visible, _is_decision(session), _decided_by(session, deciding)]
    if filters.process:
        clauses.append(Case.process == filters.process)
    if filters.start:
        clauses.append(CaseEvent.created_at >= _start_of_day(filters.start))
    if filters.end:
        # Up to 23:59 of the last day, as the report has always counted.
        clauses.append(CaseEvent.created_at <= end_of_day(filters.end))
    return clauses, wanted


def _decision_rows() -> Select[Any]:
    """What a row of the decisions report shows, oldest first."""
    return (
        select(
            CaseEvent.created_at, CaseEvent.trigger, CaseEvent.from_state, CaseEvent.to_state,
            CaseEvent.comment, _recorded_decision_body(), Meeting.starts_at, Case.id,
            Case.title, Case.process, Case.process_version, Case.originating_body_id,
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .outerjoin(Meeting, Meeting.id == CaseEvent.meeting_id)
        .order_by(CaseEvent.created_at, CaseEvent.id)
    )  # fmt: skip


def decisions_count(session: Session, filters: Filters = Filters()) -> int:
    """How many rows `decisions` has for these filters, counted in SQL."""
    clauses, _wanted = _decisions_where(session, filters)
    counted = select(func.count()).select_from(CaseEvent).join(Case, Case.id == CaseEvent.case_id)
    return session.scalar(counted.where(*clauses)) or 0


def decisions(
    session: Session, filters: Filters = Filters(), window: tuple[int, int] | None = None
) -> Report:
    """What SKU and TSS (or the chosen body) decided in the period, oldest first; with `window`
    (offset, limit) only those rows, as a page of the report shows them."""
    clauses, wanted = _decisions_where(session, filters)
    if window is None:
        query = _decision_rows().where(*clauses)
    else:
        # The window's events first, sorted by two narrow columns: sorting every matching row
        # with its texts to skip most of them cost seconds at the last pages.
        shown = session.scalars(
            select(CaseEvent.id)
            .join(Case, Case.id == CaseEvent.case_id)
            .where(*clauses)
            .order_by(CaseEvent.created_at, CaseEvent.id)
            .offset(window[0])
            .limit(window[1])
        ).all()
        query = _decision_rows().where(CaseEvent.id.in_(shown))
    locale = current_locale()
    between_meetings = _("Formandskabet på organets vegne")
    bodies = _bodies(session)
    labels = _Labels(session)
    rows: list[list[Cell]] = []
    for (
        created_at, trigger, from_state, to_state, comment, recorded, meeting_starts, case_id,
        title, process, version, originating_body_id,
    ) in session.execute(query):  # fmt: skip
        definition = labels.definition(process, version)
        body = _decision_body_of(definition, from_state, recorded, bodies[originating_body_id].code)
        held = (
            between_meetings
            if meeting_starts is None
            else _("Møde %(day)s", day=format_date(meeting_starts, locale))
        )
        rows.append(
            [
                local_date(created_at), body, case_id, title, labels.title(process, version),
                labels.transition(process, version, trigger),
                labels.state(process, version, to_state), held, comment,
            ]
        )  # fmt: skip
    return Report(
        "beslutninger",
        _("Beslutninger i %(bodies)s", bodies=format_list(wanted, locale)),
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
#
# Both read the events of every visible case (a million at 100,000 cases): the statements
# below leave the reading to the database and hand back a row per case (throughput) or per
# group of equally long stays (waiting time), never an event object or its JSON.


def _state_change() -> ColumnElement[bool]:
    """The events that put a case in a state: its creation and every change of state."""
    return or_(
        CaseEvent.trigger == "create",
        and_(CaseEvent.from_state.is_not(None), CaseEvent.from_state != CaseEvent.to_state),
    )


def throughput(session: Session, filters: Filters = Filters()) -> Report:
    """Days from submission to SKU's decision, per process and originating body."""
    bodies = _bodies(session)
    labels = _Labels(session)
    groups: dict[tuple[str, str], list[float]] = defaultdict(list)
    scope = _case_scope(session, filters, by="originating")
    if scope is not None:
        for process, version, body_id, submitted_at, decided_at in session.execute(
            _throughput_query(session, scope)
        ):
            if not filters.contains(decided_at):
                continue
            key = (labels.title(process, version), bodies[body_id].code)
            groups[key].append(_days(decided_at - submitted_at))
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


def _throughput_query(session: Session, scope: list[ColumnElement[bool]]) -> Any:
    """Per case of `scope`: its process title, originating body, when it left its initial state
    (the submission) and when SKU first decided after that, for the cases SKU decided on."""
    stored = registry.stored(session)
    initial = _per_version(
        "initial_states", [(name, version, d.initial, "") for (name, version), d in stored.items()]
    )
    submitted = (
        select(CaseEvent.case_id, func.min(CaseEvent.seq).label("seq"))
        .join(Case, Case.id == CaseEvent.case_id)
        .join(
            initial,
            and_(
                initial.c.process == Case.process,
                initial.c.version == Case.process_version,
                initial.c.name == CaseEvent.from_state,
            ),
        )
        .where(*scope, CaseEvent.to_state != CaseEvent.from_state)
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    decided = (
        select(CaseEvent.case_id, func.min(CaseEvent.seq).label("seq"))
        .join(Case, Case.id == CaseEvent.case_id)
        .join(submitted, submitted.c.case_id == CaseEvent.case_id)
        .where(
            CaseEvent.seq > submitted.c.seq,
            _is_decision(session),
            _decided_by(session, ("SKU",)),  # SKU's decisions, as the decisions report says
        )
        .group_by(CaseEvent.case_id)
        .subquery()
    )
    submission, decision = aliased(CaseEvent), aliased(CaseEvent)
    return (
        select(Case.process, Case.process_version, Case.originating_body_id,
               submission.created_at, decision.created_at)
        .join(submitted, submitted.c.case_id == Case.id)
        .join(decided, decided.c.case_id == Case.id)
        .join(submission, and_(submission.case_id == Case.id, submission.seq == submitted.c.seq))
        .join(decision, and_(decision.case_id == Case.id, decision.seq == decided.c.seq))
    )  # fmt: skip


def _overdue_by_state(session: Session, scope: list[ColumnElement[bool]], now: datetime) -> Any:
    """Per case of `scope` and state: the deadlines that were (or are) overdue."""
    finished = func.coalesce(Deadline.met_at, literal(now, Deadline.due_at.type))
    return (
        select(Deadline.case_id, Deadline.state, func.count().label("late"))
        .join(Case, Case.id == Deadline.case_id)
        .where(*scope, Deadline.cancelled_at.is_(None), finished > Deadline.due_at)
        .group_by(Deadline.case_id, Deadline.state)
        .subquery()
    )


def time_in_state(session: Session, filters: Filters = Filters()) -> Report:
    """Days cases spend in each state, per body that holds them then, with overdue counts.

    A stay still going on counts until now. The period limits when the case entered the state;
    the body filter the body that held it.
    """
    now = clock.now()
    bodies = _bodies(session)
    labels = _Labels(session)
    stays: dict[tuple[str, str, str], _Lengths] = defaultdict(_Lengths)
    late: dict[tuple[str, str, str], int] = defaultdict(int)
    scope = _case_scope(session, replace(filters, start=None, end=None, body=None))

    def group(process: str, version: int, state: str, body_id: int) -> tuple[str, str, str] | None:
        spec = labels.definition(process, version).states.get(state)
        if spec is None or spec.final:
            return None
        code = bodies[body_id].code if spec.body == "originating" else spec.body
        if filters.body and code != filters.body:
            return None
        return (code, labels.title(process, version), labels.state(process, version, state))

    if scope is not None:
        for (
            process,
            version,
            state,
            origin,
            count,
            tenths,
            longest,
            entered,
            left,
        ) in session.execute(_stays_query(session, scope, filters, now)):
            key = group(process, version, state, origin)
            if key is None:
                continue
            lengths = stays[key]
            lengths.sources.append((process, version, state, origin))
            if entered is None:
                lengths.count += count
                lengths.tenths += int(tenths)
                lengths.longest = max(lengths.longest, int(longest) / 10)
            else:  # near half a tenth: rounded as `_days` rounds it
                lengths.exact.extend([_days(left - entered)] * count)
        for process, version, state, origin, overdue_count in session.execute(
            _late_stays_query(session, scope, filters, now)
        ):
            key = group(process, version, state, origin)
            if key is not None:
                late[key] += overdue_count
    rows: list[list[Cell]] = []
    for (body, process, state), lengths in sorted(stays.items()):
        mean = lengths.mean()
        if mean is None:  # the mean lies on half a tenth: sum the stays one by one
            mean = _exact_mean(session, scope or [], filters, now, lengths)
        rows.append(
            [body, process, state, lengths.count + len(lengths.exact), mean,
             round(max([lengths.longest, *lengths.exact]), 1), late[(body, process, state)]]
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


@dataclass
class _Lengths:
    """The stays of a row of `time_in_state`: how many and their days summed in whole tenths,
    and apart, each stay whose length lies near half a tenth, rounded one by one."""

    count: int = 0
    tenths: int = 0
    longest: float = float("-inf")
    exact: list[float] = field(default_factory=list)
    sources: list[tuple[str, int, str, int | None]] = field(default_factory=list)

    def mean(self) -> float | None:
        """The mean in days rounded to a tenth, as `round(statistics.fmean(days), 1)` gives it,
        or None when the exact mean lies on half a tenth, where the floats' rounding decides.

        Each stay's days are a float near its tenths; summed exactly, as `fmean` sums, they
        differ from the exact sum of tenths by far less than a mean can lie from half a
        tenth unless it lies there exactly."""
        total = len(self.exact) + self.count
        exact = Fraction(self.tenths, 10) + sum((Fraction(d) for d in self.exact), Fraction(0))
        doubled = exact * 20 / total  # twice the mean in tenths: odd on half a tenth
        odd = 2 * math.floor(doubled / 2) + 1
        if abs(doubled - odd) < Fraction(1, 10**7):
            return None
        return math.floor(exact * 10 / total + Fraction(1, 2)) / 10


def _exact_mean(
    session: Session, scope: list[ColumnElement[bool]], filters: Filters, now: datetime,
    lengths: _Lengths,
) -> float:  # fmt: skip
    """The mean of a row's stays summed one by one, as `statistics.fmean` sums them."""
    days = list(lengths.exact)
    for tenths, count in session.execute(
        _stays_query(session, scope, filters, now, only=lengths.sources)
    ):
        days.extend([int(tenths) / 10] * count)
    return round(statistics.fmean(days), 1)


def _originating_states(session: Session) -> list[str]:
    """The states some process version leaves with the body a case stems from."""
    return sorted(
        {
            name
            for definition in registry.stored(session).values()
            for name, state in definition.states.items()
            if state.body == "originating"
        }
    )


def _day_number(session: Session, moment: Any) -> ColumnElement[Any]:
    """A moment as a count of days (a float), spelt per dialect: differences are exact to a
    millisecond or so, and `time_in_state` recomputes any stay near half a tenth in Python."""
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.julianday(moment), Float)
    return cast(extract("epoch", moment), Float) / 86400.0


def _stays_query(
    session: Session, scope: list[ColumnElement[bool]], filters: Filters, now: datetime,
    only: Sequence[tuple[str, int, str, int | None]] = (),
) -> Any:  # fmt: skip
    """Per process, state and origin: how many stays, their lengths summed in tenths of a day
    and the longest; a stay whose length lies near half a tenth (or is negative) comes alone
    with its start and end. With `only`, those groups' stays counted per length in tenths."""
    entered_day = _day_number(session, CaseEvent.created_at)
    now_day = _day_number(session, literal(now, CaseEvent.created_at.type))
    following: dict[str, Any] = {"partition_by": CaseEvent.case_id, "order_by": CaseEvent.seq}
    # The stay's length in tenths of a day, worked out once per stay (a window's subquery is
    # never merged into the statement around it).
    length = (func.coalesce(func.lead(entered_day).over(**following), now_day) - entered_day) * 10
    moves = (
        select(
            Case.process, Case.process_version, CaseEvent.to_state,
            # The body a stay belongs to, where it depends on the case: grouped by it only then.
            case(
                (CaseEvent.to_state.in_(_originating_states(session)), Case.originating_body_id),
                else_=None,
            ).label("origin"),
            CaseEvent.created_at.label("entered"),
            func.lead(CaseEvent.created_at).over(**following).label("left"),
            length.label("tenths"),
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*scope, _state_change())
        .subquery()
    )  # fmt: skip
    tenths = moves.c.tenths
    whole = func.floor(tenths + 0.5)
    near = or_(tenths < 0, func.abs(tenths - func.floor(tenths) - 0.5) < 0.001)
    key = (moves.c.process, moves.c.process_version, moves.c.to_state, moves.c.origin)
    period = _in_period(moves.c.entered, filters)
    if only:
        return (
            select(whole, func.count())
            .where(
                *period,
                ~near,
                or_(
                    *(
                        and_(
                            *(
                                column.is_(None) if value is None else column == value
                                for column, value in zip(key, group, strict=True)
                            )
                        )
                        for group in dict.fromkeys(only)
                    )
                ),
            )
            .group_by(whole)
        )
    until = func.coalesce(moves.c.left, literal(now, CaseEvent.created_at.type))
    exact_entered = case((near, moves.c.entered), else_=None)
    exact_left = case((near, until), else_=None)
    return (
        select(
            *key, func.count(), func.sum(case((near, 0), else_=whole)),
            func.max(case((near, None), else_=whole)), exact_entered, exact_left,
        )
        .where(*period)
        .group_by(*key, exact_entered, exact_left)
    )  # fmt: skip


def _late_stays_query(
    session: Session, scope: list[ColumnElement[bool]], filters: Filters, now: datetime
) -> Any:
    """Per process, state and origin: the overdue deadlines of the (case, state)s with a stay
    begun in the period. Overdue deadlines belong to the case's state, not one stay: each
    counts once however often the case came back to the state."""
    origin = case(
        (CaseEvent.to_state.in_(_originating_states(session)), Case.originating_body_id),
        else_=None,
    )
    stayed = (
        select(
            Case.process, Case.process_version, CaseEvent.case_id, CaseEvent.to_state,
            origin.label("origin"),
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(*scope, _state_change(), *_in_period(CaseEvent.created_at, filters))
        .distinct()
        .subquery()
    )  # fmt: skip
    late = _overdue_by_state(session, scope, now)
    return (
        select(
            stayed.c.process, stayed.c.process_version, stayed.c.to_state, stayed.c.origin,
            func.sum(late.c.late),
        )
        .join(late, and_(late.c.case_id == stayed.c.case_id, late.c.state == stayed.c.to_state))
        .group_by(
            stayed.c.process, stayed.c.process_version, stayed.c.to_state, stayed.c.origin
        )
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


@dataclass(frozen=True)
class Paged:
    """A report a page reads a window of rows from (offset, limit), and how to count them all.
    Such a report has no totals row: it would sum only the window."""

    count: Callable[[Session, Filters], int]
    window: Callable[[Session, Filters, tuple[int, int]], Report]


# The reports too long to build whole for each page; the others are built whole.
PAGED: dict[str, Paged] = {"beslutninger": Paged(decisions_count, decisions)}


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
