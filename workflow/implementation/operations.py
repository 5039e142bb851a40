"""Implementation of an approved case, tracked per unit (seed 001: spread to all of the region).

When a case enters the state its process marks `tracks_implementation` (states/*.toml) the
units that must implement it are created from its scope: the municipalities of the chosen
planning areas (by default every municipality that is a party on the day, from the dated party
data: 29, or 46 after a merger), the hospitals and general practice, each with the
samordningsudvalg that answers for it. Units report through a short form; each report is an
audited case event (no state change). Every N months (the process's `follow_up_months`) each
responsible body gets a follow-up deadline with reminders. When every unit has implemented the
case (or is not relevant, with a reason) the case moves on through engine.perform(), by the
state's `completes_implementation` trigger.
"""

from __future__ import annotations

import calendar as month_calendar
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload, object_session

from models import (
    Body,
    BodyKind,
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    ImplementationState,
    ImplementationStatus,
    Party,
    PartyKind,
    PartyPlanningArea,
    PlanningArea,
    User,
)
from workflow import policy
from workflow.engine import clock, formats
from workflow.engine import core as engine
from workflow.engine.calendar import end_of_day, local_date
from workflow.engine.errors import GuardFailed, InvalidTrigger, NotAllowed, WorkflowError
from workflow.engine.guards import Failure
from workflow.engine.localtime import format_date
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import case_conflict, unit_of_work
from workflow.organisation import queries as organisation
from workflow.organisation.queries import valid_on
from workflow.web.i18n import pick

FOLLOW_UP_REMINDER_DAYS = [14, 3]
REPORT_TRIGGER = "implementation_report"
UNITS_TRIGGER = "implementation_units"
# Where a case may name its scope: planning area codes, e.g. "NORD, MIDT" (default: all).
SCOPE_KEY = "implementation_scope"

STATUS_LABELS: dict[ImplementationState, str] = {
    ImplementationState.NOT_STARTED: "Ikke startet",
    ImplementationState.IN_PROGRESS: "I gang",
    ImplementationState.IMPLEMENTED: "Implementeret",
    ImplementationState.NOT_RELEVANT: "Ikke relevant",
}
STATUS_LABELS_EN: dict[ImplementationState, str] = {
    ImplementationState.NOT_STARTED: "Not started",
    ImplementationState.IN_PROGRESS: "In progress",
    ImplementationState.IMPLEMENTED: "Implemented",
    ImplementationState.NOT_RELEVANT: "Not relevant",
}


def status_label(status: ImplementationState) -> str:
    """A unit's status in the reader's language."""
    return pick(STATUS_LABELS[status], STATUS_LABELS_EN[status])


class _ShownLabels(Mapping[ImplementationState, str]):
    """The statuses as pages show them, in the reader's language when asked."""

    def __getitem__(self, status: ImplementationState) -> str:
        return status_label(ImplementationState(status))

    def __iter__(self) -> Iterator[ImplementationState]:
        return iter(ImplementationState)

    def __len__(self) -> int:
        return len(ImplementationState)


SHOWN_LABELS: Mapping[ImplementationState, str] = _ShownLabels()
KIND_ORDER = {PartyKind.MUNICIPALITY: 0, PartyKind.HOSPITAL: 1, PartyKind.GENERAL_PRACTICE: 2}


@dataclass(frozen=True)
class Progress:
    """How far a case's implementation has come, counted per status."""

    total: int
    not_started: int
    in_progress: int
    implemented: int
    not_relevant: int

    @property
    def done(self) -> int:
        return self.implemented + self.not_relevant

    @property
    def complete(self) -> bool:
        return self.total > 0 and self.done == self.total

    @property
    def percent(self) -> int:
        """Share of units done, in whole percent (0 without units)."""
        return round(100 * self.done / self.total) if self.total else 0


@dataclass(frozen=True)
class ReportResult:
    """A unit's audited report and, if it finished the implementation, the case's move on."""

    event: CaseEvent
    completed: CaseEvent | None
    progress: Progress


def implementation_state(case: Case) -> str | None:
    """Return the state in which the case's process tracks implementation, or None."""
    state = engine.declarations_of(case).implementation_state
    return state.name if state else None


def tracks_implementation(case: Case) -> bool:
    """True when the case's process tracks implementation per unit in one of its states."""
    return implementation_state(case) is not None


def completion_trigger(case: Case) -> str | None:
    """Return the trigger that ends the case's implementation tracking, or None."""
    state = engine.declarations_of(case).implementation_state
    return state.completes_implementation if state else None


def is_implementing(case: Case) -> bool:
    """True while the case is in its process's implementation state."""
    return implementation_state(case) == case.state


def implementing_processes(session: Session) -> dict[str, str]:
    """Return each process that tracks implementation, with the state it does so in."""
    return {
        definition.name: state.name
        for definition in registry.all_latest(session)
        if (state := definition.implementation_state) is not None
    }


def add_months(day: date, months: int) -> date:
    """Return the same day `months` later, clamped to the end of a shorter month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, month_calendar.monthrange(year, month)[1]))


def is_psychiatric(session: Session, case: Case) -> bool:
    """A case raised by a psychiatric samordningsudvalg is implemented through psychiatry."""
    body = session.get(Body, case.originating_body_id)
    return body is not None and "PSYK" in body.code


def parse_scope(raw: object) -> tuple[str, ...]:
    """Read a scope of planning area codes from text ("NORD, MIDT") or a list; () means all."""
    if raw is None:
        return ()
    if isinstance(raw, str):
        items: list[object] = list(raw.replace(";", ",").split(","))
    elif isinstance(raw, list | tuple):
        items = list(raw)
    else:
        items = [raw]
    return tuple(sorted({str(item).strip().upper() for item in items if str(item).strip()}))


def _check_scope(session: Session, areas: Sequence[str]) -> None:
    known = set(session.scalars(select(PlanningArea.code)))
    unknown = sorted(set(areas) - known)
    if unknown:
        raise GuardFailed(
            [
                Failure(
                    "implementation_scope",
                    f"Planområdet {', '.join(unknown)} findes ikke. Brug et af: "
                    f"{', '.join(sorted(known))}.",
                    f"Unknown planning area {', '.join(unknown)}.",
                )
            ]
        )


def scope_parties(session: Session, case: Case, areas: Sequence[str] = ()) -> list[Party]:
    """List the parties that must implement the case: municipalities, hospitals, practice."""
    psychiatric = is_psychiatric(session, case)
    # The parties to the agreement today (a merger's new municipalities from its date on).
    today = local_date(clock.now())
    parties = session.scalars(
        select(Party)
        .options(joinedload(Party.planning_area), *organisation.PARTY_AREAS)
        .where(Party.active.is_(True), valid_on(Party, today))
    ).all()
    chosen: list[Party] = []
    for party in parties:
        # Its planning area today (a plan applied ahead of its date keeps the old area).
        in_area = party.planning_area_on(today)
        area = in_area.code if in_area else None
        in_scope = not areas or area in areas
        if party.kind == PartyKind.MUNICIPALITY and in_scope:
            chosen.append(party)
        elif party.kind == PartyKind.HOSPITAL:
            # Region Hovedstadens Psykiatri has no planning area: it serves every area.
            serves_all = area is None
            if (psychiatric and serves_all) or (not psychiatric and not serves_all and in_scope):
                chosen.append(party)
        elif party.kind == PartyKind.GENERAL_PRACTICE:
            chosen.append(party)
    return sorted(chosen, key=lambda party: unit_sort_key(party, today))


def unit_sort_key(party: Party, day: date | None = None) -> tuple[int, str, str]:
    """Order units: municipalities, hospitals, general practice; then by their planning area
    on `day` (now when none is given) and name."""
    in_area = party.planning_area_on(day)
    area = in_area.code if in_area else "~"
    return KIND_ORDER.get(party.kind, 9), area, party.name


def responsible_body_code(party: Party, psychiatric: bool, day: date | None = None) -> str:
    """Name the body that answers for a unit's implementation (seed 001: the local SU of the
    party's planning area on `day`, now when none is given)."""
    in_area = party.planning_area_on(day)
    area = in_area.code if in_area else None
    if area == "BORNHOLM":
        return "SU-BORNHOLM"
    if area is None:
        # General practice and regional psychiatry span the areas.
        return "SU-PSYK-REG" if psychiatric and party.kind == PartyKind.HOSPITAL else "TSS"
    return f"SU-{area}-{'PSYK' if psychiatric else 'SOM'}"


def _responsible_body_id(
    session: Session, case: Case, bodies: dict[str, Body], party: Party, psychiatric: bool
) -> int | None:
    """The body answering for a unit today: the area's SU by the naming rule, else the
    coordination committee of the party's planning area (an area added by a reorganisation),
    a closed body's successor taking over."""
    today = local_date(clock.now())
    body = bodies.get(responsible_body_code(party, psychiatric, today))
    area = party.planning_area_on(today)
    if body is None and area is not None:
        body = next(
            (
                b
                for b in bodies.values()
                if b.kind == BodyKind.COORDINATION_COMMITTEE
                and b.planning_area_id == area.id
                and b.valid_to is None
            ),
            None,
        )
    return engine.successor_for(session, case, body).id if body is not None else None


# Built once (every case page of a process that tracks implementation asks it).
_HAS_UNITS = (
    select(ImplementationStatus.id)
    .where(ImplementationStatus.case_id == bindparam("case_id"))
    .limit(1)
)


def has_units(session: Session, case: Case) -> bool:
    """Whether the case has implementation units (without loading them)."""
    return session.scalar(_HAS_UNITS, {"case_id": case.id}) is not None


# A unit with its party's planning area, today's and former (Party.planning_area_on reads
# them): what a table of units shows.
UNIT_WITH_AREAS = (
    joinedload(ImplementationStatus.party).joinedload(Party.planning_area),
    joinedload(ImplementationStatus.party)
    .selectinload(Party.former_planning_areas)
    .joinedload(PartyPlanningArea.planning_area),
)


def units_of(session: Session, case: Case) -> list[ImplementationStatus]:
    """Return the case's units in display order."""
    units = session.scalars(
        select(ImplementationStatus)
        .options(*UNIT_WITH_AREAS)
        .where(ImplementationStatus.case_id == case.id)
    ).all()
    day = organisation.case_day(case)
    return sorted(units, key=lambda u: unit_sort_key(u.party, day))


def progress_of(units: Iterable[ImplementationStatus]) -> Progress:
    """Count the units per status."""
    counts = dict.fromkeys(ImplementationState, 0)
    for unit in units:
        counts[unit.status] += 1
    return Progress(
        total=sum(counts.values()),
        not_started=counts[ImplementationState.NOT_STARTED],
        in_progress=counts[ImplementationState.IN_PROGRESS],
        implemented=counts[ImplementationState.IMPLEMENTED],
        not_relevant=counts[ImplementationState.NOT_RELEVANT],
    )


def create_units(
    session: Session,
    case: Case,
    actor: User | None,
    now: datetime,
    areas: Sequence[str] | None = None,
) -> list[ImplementationStatus]:
    """Create the missing units for the case's scope and their follow-up deadlines (no commit).

    `areas` overrides the scope the case names in `extra['implementation_scope']`.
    """
    scope = parse_scope(case.extra.get(SCOPE_KEY)) if areas is None else parse_scope(areas)
    _check_scope(session, scope)
    psychiatric = is_psychiatric(session, case)
    existing = set(
        session.scalars(
            select(ImplementationStatus.party_id).where(ImplementationStatus.case_id == case.id)
        )
    )
    bodies = {b.code: b for b in session.scalars(select(Body))}
    created: list[ImplementationStatus] = []
    for party in scope_parties(session, case, scope):
        if party.id in existing:
            continue
        unit = ImplementationStatus(
            case_id=case.id,
            party_id=party.id,
            responsible_body_id=_responsible_body_id(session, case, bodies, party, psychiatric),
            status=ImplementationState.NOT_STARTED,
            reason="",
            updated_at=now,
        )
        session.add(unit)
        created.append(unit)
    if not created:
        return []
    session.flush()
    area_text = ", ".join(scope) if scope else "hele regionen"
    engine.append_event(
        session, case, trigger=UNITS_TRIGGER, actor=actor, from_state=case.state,
        comment=f"{len(created)} enheder skal implementere sagen ({area_text}).",
        data={"units": sorted(u.party.code for u in created), "scope": list(scope)}, now=now,
    )  # fmt: skip
    open_follow_ups(session, case, now)
    return created


def _follow_up_months(session: Session, case: Case) -> int:
    return engine.definition_of(case).follow_up_months


def _open_follow_ups(session: Session, case: Case) -> list[Deadline]:
    return list(
        session.scalars(
            select(Deadline).where(
                Deadline.case_id == case.id,
                Deadline.kind == DeadlineKind.FOLLOW_UP,
                Deadline.met_at.is_(None),
                Deadline.cancelled_at.is_(None),
            )
        )
    )


def _follow_up(session: Session, case: Case, body_id: int | None, due: date, now: datetime) -> None:
    session.add(
        Deadline(
            case_id=case.id,
            kind=DeadlineKind.FOLLOW_UP,
            state=case.state,
            body_id=body_id,
            due_at=end_of_day(due),
            reminder_days=list(FOLLOW_UP_REMINDER_DAYS),
            created_at=now,
        )
    )


def open_follow_ups(session: Session, case: Case, now: datetime) -> None:
    """Give each responsible body with unfinished units a follow-up deadline N months out."""
    months = _follow_up_months(session, case)
    covered = {d.body_id for d in _open_follow_ups(session, case)}
    pending = {u.responsible_body_id for u in units_of(session, case) if not u.is_done}
    for body_id in sorted(pending - covered, key=lambda b: b or 0):
        _follow_up(session, case, body_id, add_months(local_date(now), months), now)


def close_follow_ups(session: Session, case: Case, now: datetime) -> None:
    """Meet every open follow-up deadline of the case."""
    for deadline in _open_follow_ups(session, case):
        deadline.met_at = now


def _advance_follow_up(
    session: Session, case: Case, unit: ImplementationStatus, now: datetime
) -> None:
    """Meet a body's follow-up when all its units reported this round; open the next round."""
    body_units = [
        u for u in units_of(session, case) if u.responsible_body_id == unit.responsible_body_id
    ]
    current = next(
        (d for d in _open_follow_ups(session, case) if d.body_id == unit.responsible_body_id), None
    )
    if current is None:
        return
    if all(u.is_done for u in body_units):
        current.met_at = now
        return
    reported = set(
        session.scalars(
            select(CaseEvent.data["unit"].as_string()).where(
                CaseEvent.case_id == case.id,
                CaseEvent.trigger == REPORT_TRIGGER,
                CaseEvent.created_at >= current.created_at,
            )
        )
    )
    if all(u.is_done or u.party.code in reported for u in body_units):
        current.met_at = now
        months = _follow_up_months(session, case)
        _follow_up(
            session, case, unit.responsible_body_id,
            add_months(local_date(current.due_at), months), now,
        )  # fmt: skip


def _report_failures(
    status: ImplementationState,
    reason: str,
    started_on: date | None,
    implemented_on: date | None,
    today: date,
) -> list[Failure]:
    failures: list[Failure] = []
    if status == ImplementationState.NOT_RELEVANT and not reason.strip():
        failures.append(
            Failure(
                "not_relevant_reason",
                "Skriv en begrundelse, når enheden meldes 'ikke relevant'.",
                "Give a reason when the unit is reported 'not relevant'.",
            )
        )
    for name, what, value in (
        ("started_on", "Startdatoen", started_on),
        ("implemented_on", "Implementeringsdatoen", implemented_on),
    ):
        if value is not None and value > today:
            failures.append(
                Failure(
                    f"field:{name}",
                    f"{what} ({format_date(value)}) ligger i fremtiden. Meld status, når "
                    "det er sket.",
                    f"The date {formats.format_date(value, 'en')} is in the future.",
                )
            )
    if started_on and implemented_on and implemented_on < started_on:
        failures.append(
            Failure(
                "field:implemented_on",
                "Implementeringsdatoen ligger før startdatoen. Ret en af datoerne.",
                "The implementation date is before the start date.",
            )
        )
    return failures


def report_unit(
    session: Session,
    unit_id: int,
    actor: User,
    *,
    status: ImplementationState | str,
    reason: str = "",
    started_on: date | None = None,
    implemented_on: date | None = None,
) -> ReportResult:
    """Record a unit's status as an audited event; when all are done, move the case on in the
    same transaction.

    Raises NotAllowed, InvalidTrigger (the case is not being implemented) or GuardFailed.
    """
    unit = session.get(ImplementationStatus, unit_id)
    if unit is None:
        raise LookupError(f"Enheden {unit_id} findes ikke.")
    case = session.get(Case, unit.case_id)
    assert case is not None  # a unit always belongs to a case
    if not is_implementing(case):
        raise InvalidTrigger(
            "Sagen er ikke under implementering, så enhedernes status kan ikke ændres nu.",
            "The case is not being implemented; units cannot report now.",
            [],
            rule="case_implementing",
        )
    if not policy.may(actor, "report", unit, session):
        body = session.get(Body, unit.responsible_body_id) if unit.responsible_body_id else None
        who = body.code if body else "det ansvarlige organ"
        raise NotAllowed(
            f"Kun medlemmer af {who} eller sekretariatet for sagen kan melde status for "
            f"{unit.party.name}.",
            f"Only members of {who} or the case's secretariat may report for {unit.party.name}.",
            [f"member@{who}"],
            rule="may_report",
        )
    status = ImplementationState(status)
    now = clock.now()
    today = local_date(now)
    reason = reason.strip()
    if status == ImplementationState.IN_PROGRESS:
        started_on = started_on or unit.started_on or today
    if status == ImplementationState.IMPLEMENTED:
        started_on = started_on or unit.started_on
        implemented_on = implemented_on or today
    failures = _report_failures(status, reason, started_on, implemented_on, today)
    if failures:
        raise GuardFailed(failures)
    previous = unit.status
    try:
        # One unit of work: the report and, when it was the last, the transition it completes.
        with unit_of_work(session, case_conflict(session, case.id, case.version)):
            unit.status = status
            unit.reason = reason
            unit.started_on = started_on if status != ImplementationState.NOT_STARTED else None
            unit.implemented_on = (
                implemented_on if status == ImplementationState.IMPLEMENTED else None
            )
            unit.updated_at = now
            session.flush()
            comment = f"{unit.party.name}: {STATUS_LABELS[status]}"
            if reason:
                comment += f" – {reason}"
            event = engine.append_event(
                session, case, trigger=REPORT_TRIGGER, actor=actor, from_state=case.state,
                comment=comment,
                data={
                    "unit": unit.party.code,
                    "status": status.value,
                    "previous": previous.value,
                    "reason": reason,
                    "started_on": unit.started_on.isoformat() if unit.started_on else None,
                    "implemented_on": (
                        unit.implemented_on.isoformat() if unit.implemented_on else None
                    ),
                },
                now=now,
            )  # fmt: skip
            _advance_follow_up(session, case, unit, now)
            progress = progress_of(units_of(session, case))
            completed = None
            if progress.complete:
                close_follow_ups(session, case, now)
                completed = complete_if_done(case, actor)
    except IntegrityError:
        raise WorkflowError(
            "En anden meldte status på sagen samtidig. Genindlæs siden, og meld igen.",
            "Someone else reported on the case at the same time. Reload and try again.",
        ) from None
    return ReportResult(event, completed, progress)


def complete_if_done(case: Case, actor: User | None) -> CaseEvent | None:
    """Fire the process's completion trigger when every unit is done and `actor` may do so.

    Returns None when the trigger needs someone else, a meeting or more fields: the
    implementation page then tells the responsible body to move the case on.
    """
    trigger = completion_trigger(case)
    session = object_session(case)
    if trigger is None or session is None or actor is None or not is_implementing(case):
        return None
    transition = engine.definition_of(case).transition(trigger)
    if transition is None or transition.decision or any(f.required for f in transition.fields):
        return None
    if engine.find_permission(session, case, transition, actor) is None:
        return None
    if engine.check(case, trigger, actor):
        return None
    return engine.perform(case, trigger, actor)


def ensure_units(session: Session, case: Case, actor: User) -> list[ImplementationStatus]:
    """Create missing units for a case already in implementation (committed); for cases that
    reached the state before units were created automatically."""
    if not is_implementing(case):
        raise InvalidTrigger(
            "Enheder oprettes, når sagen er under implementering.",
            "Units are created when the case is being implemented.",
            [],
            rule="case_implementing",
        )
    if not policy.may(actor, "create_units", case, session):
        tss = engine.body_now(session, "TSS", case).code  # or its successor
        raise NotAllowed(
            f"Kun sekretariatet eller formandskabet for sagen eller {tss} kan oprette enhederne.",
            f"Only the case's secretariat or chairs, or {tss}'s, may create the units.",
            ["secretariat@originating", f"secretariat@{tss}"],
            rule="may_create_units",
        )
    with unit_of_work(session):
        return create_units(session, case, actor, clock.now())


INDICATOR_VALUES_TRIGGER = "indicator_values_recorded"


def record_indicator_values(session: Session, case: Case, now: datetime) -> None:
    """Append the plan's indicators and the region's values for the plan year to the case's
    audit trail (the yearly follow-up's record; seed 004 l.299-300). Recorded by the system,
    as the values stood when SKU's decision was taken (the decision names its actor)."""
    from workflow.implementation.indicators import plan_indicator_values

    values = [
        {
            "code": row.indicator.code,
            "name": row.indicator.name,
            "unit": row.indicator.unit,
            "value": None if row.value is None else str(row.value.normalize()),
        }
        for row in plan_indicator_values(session, case)
    ]
    engine.append_event(
        session, case, trigger=INDICATOR_VALUES_TRIGGER, actor=None, from_state=case.state,
        comment="", data={"plan_year": case.plan_year, "indicator_values": values}, now=now,
    )  # fmt: skip
