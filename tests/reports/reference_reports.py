"""The reports as first written, straightforward and slow: every case and every event loaded as
objects and walked in Python. `test_report_figures` checks the reports' SQL against these."""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, contains_eager, joinedload

from models import Body, Case, CaseEvent, Deadline, Meeting
from workflow.engine import clock
from workflow.engine.calendar import end_of_day, local_date
from workflow.engine.definitions import ProcessDefinition
from workflow.engine.formats import format_date, format_list
from workflow.engine.processes import registry
from workflow.organisation.queries import with_successors
from workflow.reports.queries import (
    DECISION_BODIES,
    KIND_LABELS,
    N_,
    Cell,
    Filters,
    Report,
    title_of,
)
from workflow.web.i18n import _, current_locale, label


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


def status_by_body(session: Session, filters: Filters) -> Report:
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


def status_by_focus_area(session: Session, filters: Filters) -> Report:
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


def overdue(session: Session, filters: Filters) -> Report:
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


def decisions(session: Session, filters: Filters) -> Report:
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


def throughput(session: Session, filters: Filters) -> Report:
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


def time_in_state(session: Session, filters: Filters) -> Report:
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
