"""The annual cycle (årshjul) of the implementation plan (seed 004 §1.2).

A year's plan is one case of the process that declares `plan_year = true` in states/
(implementation_plan). Its milestones come from the dates in the process definition
(month_day deadlines relative to the plan year): preparation in TSS, SKU's initial discussion
in Q2 of the year before, dialogue with the municipalities via KKR, adoption at SKU's meeting
at the end of October after the budgets, the plan in effect, and the yearly follow-up. Each
milestone is matched with the body's meeting that will treat it, if planned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from models import (
    Body,
    Case,
    Indicator,
    Meeting,
    MeetingStatus,
    PlanItem,
    User,
)
from workflow import policy
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.calendar import end_of_day, local_date
from workflow.engine.deadlines import material_deadline
from workflow.engine.errors import GuardFailed, NotAllowed
from workflow.engine.formats import format_date, genitive
from workflow.engine.guards import Failure
from workflow.engine.processes import UnknownProcess, registry
from workflow.engine.unit_of_work import unit_of_work
from workflow.web.i18n import label, meeting_title

ITEM_TRIGGER = "plan_item_added"
ITEM_CHANGED_TRIGGER = "plan_item_changed"
# How far before a milestone the meeting that treats it may lie (a quarter).
MEETING_WINDOW_DAYS = 92
# The body that raises the implementation plan, as the process definitions name it; after a
# reorganisation that closes it, its successor (engine.core.body_now).
PLAN_BODY = "TSS"
ADOPTING_BODY = "SKU"  # adopts the plan (its successor after a reorganisation)


@dataclass(frozen=True)
class Milestone:
    """A step of the year's plan: by when, in which body, and the meeting that treats it."""

    state: str
    label: str
    body_code: str
    due: date
    meeting: Meeting | None
    reached: bool
    current: bool


@dataclass(frozen=True)
class CalendarEntry:
    """One dated item of the year's cycle for all bodies."""

    day: date
    kind: str  # "meeting", "material", "milestone"
    body_code: str
    title: str
    case_id: int | None = None
    meeting_id: int | None = None
    # A material deadline's meeting day: the page words the entry in the reader's language.
    meeting_day: date | None = None
    # A milestone's plan year and step, likewise.
    plan_year: int | None = None
    step: str = ""


def plan_process(session: Session) -> str | None:
    """Return the process whose cases are the yearly plans: the one declaring `plan_year`."""
    cached = session.info.get("plan_process")
    if isinstance(cached, str):
        return cached
    for definition in registry.all_latest(session):
        if definition.plan_year:
            session.info["plan_process"] = definition.name
            return definition.name
    return None


def _require_plan_process(session: Session) -> str:
    name = plan_process(session)
    if name is None:
        raise UnknownProcess("Ingen proces i states/ har plan_year = true (implementeringsplanen).")
    return name


def is_plan(case: Case) -> bool:
    """True when the case is a yearly plan (its process declares `plan_year`)."""
    return engine.declarations_of(case).plan_year


def plan_case(session: Session, year: int) -> Case | None:
    """Return the implementation plan case for `year`, if one exists."""
    process = plan_process(session)
    if process is None:
        return None
    return session.scalar(
        select(Case).where(Case.process == process, Case.plan_year == year).order_by(Case.id)
    )


def create_plan(session: Session, year: int, actor: User) -> Case:
    """Open the implementation plan for `year` in TSS (once per year)."""
    existing = plan_case(session, year)
    if existing is not None:
        raise GuardFailed(
            [
                Failure(
                    "one_plan_per_year",
                    f"Der findes allerede en implementeringsplan for {year} (sag nr. "
                    f"{existing.id}). Arbejd videre i den.",
                    f"An implementation plan for {year} already exists (case {existing.id}).",
                )
            ]
        )
    tss = engine.body_now(session, PLAN_BODY)  # or the body that took over from TSS
    return engine.create_case(
        session, process=_require_plan_process(session), title=f"Implementeringsplan {year}",
        originating_body=tss, actor=actor, plan_year=year,
        summary=f"Implementeringsplan for sundhedsaftalen for kalenderåret {year}.",
    )  # fmt: skip


def _meeting_for(session: Session, body_id: int, due: date) -> Meeting | None:
    """The body's last meeting, not cancelled, in the quarter up to the milestone."""
    return session.scalar(
        select(Meeting)
        .where(
            Meeting.body_id == body_id,
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at <= end_of_day(due),
            Meeting.starts_at > end_of_day(date.fromordinal(due.toordinal() - MEETING_WINDOW_DAYS)),
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )


def milestones(session: Session, year: int) -> list[Milestone]:
    """List the plan's milestones for `year`, from the process definition's dates."""
    case = plan_case(session, year)
    if case is not None:
        definition = engine.definition_of(case)
    else:
        definition = registry.latest(session, _require_plan_process(session))
    bodies = {b.code: b for b in session.scalars(select(Body))}
    order = list(definition.states)
    current_index = order.index(case.state) if case else -1
    result: list[Milestone] = []
    for index, state in enumerate(definition.states.values()):
        rule = state.deadline
        if rule is None or rule.kind != "month_day":
            continue
        month, day = (int(part) for part in rule.month_day.split("-"))
        due = date(year + rule.year_offset, month, day)
        # The body that acts at the milestone: the plan's own (its raising body), or the
        # named body — each its successor once a reorganisation has closed it.
        code = PLAN_BODY if state.body == "originating" else state.body
        body = bodies.get(code)
        if case is not None and state.body == "originating":
            body = case.originating_body
        elif body is not None:
            body = engine.body_now(session, code, case, due)
        code = body.code if body is not None else code
        result.append(
            Milestone(
                state=state.name,
                label=label(state),
                body_code=code,
                due=due,
                meeting=_meeting_for(session, body.id, due) if body else None,
                reached=case is not None and index < current_index,
                current=case is not None and index == current_index,
            )
        )
    return sorted(result, key=lambda m: m.due)


def year_calendar(
    session: Session, year: int, body_codes: Sequence[str] = ()
) -> list[CalendarEntry]:
    """Every body's meetings and material deadlines in `year`, and the plan milestones due in it.

    A calendar year holds the preparation of next year's plan, this year's plan in effect and
    the follow-up on last year's.
    """
    first, last = date(year, 1, 1), date(year, 12, 31)
    entries: list[CalendarEntry] = []
    bodies = {b.id: b for b in session.scalars(select(Body))}
    wanted = {b.id for b in bodies.values() if not body_codes or b.code in body_codes}
    meetings = session.scalars(
        select(Meeting)
        .where(
            Meeting.status != MeetingStatus.CANCELLED,
            Meeting.starts_at >= end_of_day(date(year - 1, 12, 31)),
            Meeting.starts_at <= end_of_day(date(year, 12, 31)),
        )
        .order_by(Meeting.starts_at)
    )
    for meeting in meetings:
        if meeting.body_id not in wanted:
            continue
        body = bodies[meeting.body_id]
        day = local_date(meeting.starts_at)
        if not first <= day <= last:
            continue
        entries.append(
            CalendarEntry(day, "meeting", body.code, meeting_title(meeting),
                          meeting_id=meeting.id)
        )  # fmt: skip
        due = local_date(material_deadline(meeting, body))
        if first <= due <= last:
            entries.append(
                CalendarEntry(due, "material", body.code,
                              f"Materialefrist til {genitive(body.code)} møde {format_date(day)}",
                              meeting_id=meeting.id, meeting_day=day)
            )  # fmt: skip
    for plan_year in (year - 1, year, year + 1):
        case = plan_case(session, plan_year)
        for milestone in milestones(session, plan_year):
            if not first <= milestone.due <= last:
                continue
            if body_codes and milestone.body_code not in body_codes:
                continue
            entries.append(
                CalendarEntry(milestone.due, "milestone", milestone.body_code,
                              f"Implementeringsplan {plan_year}: {milestone.label}",
                              case_id=case.id if case else None, plan_year=plan_year,
                              step=milestone.label)
            )  # fmt: skip
    order = {"milestone": 0, "material": 1, "meeting": 2}
    return sorted(entries, key=lambda e: (e.day, order[e.kind], e.body_code))


def plan_items(session: Session, plan: Case) -> list[PlanItem]:
    """Return the plan's lines in order."""
    return list(
        session.scalars(
            select(PlanItem)
            .options(selectinload(PlanItem.indicators), selectinload(PlanItem.initiative))
            .where(PlanItem.plan_case_id == plan.id)
            .order_by(PlanItem.position, PlanItem.id)
        )
    )


@dataclass(frozen=True)
class PlanLine:
    """What a plan line says (seed 004 §1.2.2): the content of an add or an edit."""

    title: str
    purpose: str
    anchoring: str = ""
    responsible_start: str = ""
    responsible_delivery: str = ""
    starts_on: date | None = None
    ends_on: date | None = None
    economy: str = ""
    economy_dkk: Decimal | None = None
    initiative_case_id: int | None = None
    indicator_ids: tuple[int, ...] = ()


TEXT_FIELDS = ("title", "purpose", "anchoring", "responsible_start", "responsible_delivery",
               "economy")  # fmt: skip
VALUE_FIELDS = ("starts_on", "ends_on", "economy_dkk", "initiative_case_id")


def is_editable(session: Session, plan: Case, actor: User) -> bool:
    """True when `actor` may change the plan's lines now (before SKU adopts it)."""
    return plan_lines_open(plan) and policy.may(actor, "edit_plan", None, session)


def plan_lines_open(plan: Case) -> bool:
    """Whether the plan's lines may still change (`plan_lines_open` on its state: until SKU
    adopts the plan)."""
    state = engine.declarations_of(plan).states.get(plan.state)
    return state is not None and state.plan_lines_open


def _check_line(session: Session, plan: Case, actor: User, line: PlanLine) -> None:
    """Refuse an edit by someone outside TSS/SKU, after adoption, or with a faulty line."""
    if not is_plan(plan):
        raise ValueError("plan must be a case of the plan_year process (implementation_plan)")
    # The bodies as the organisation has them now (after a reorganisation, their successors).
    raising = engine.body_now(session, PLAN_BODY, plan).code
    adopting = engine.body_now(session, ADOPTING_BODY, plan).code
    if not policy.may(actor, "edit_plan", None, session):
        raise NotAllowed(
            f"Kun medlemmer af {raising} og {adopting} kan skrive i implementeringsplanen.",
            f"Only members of {raising} and {adopting} may edit the implementation plan.",
            [f"member@{raising}", f"member@{adopting}"],
            rule="may_edit_plan",
        )
    failures: list[Failure] = []
    if not plan_lines_open(plan):
        failures.append(
            Failure(
                "plan_adopted",
                f"Planen er tiltrådt af {adopting} og kan ikke ændres. Nye indsatser kommer i "
                "næste års plan.",
                "The plan is adopted and can no longer change.",
            )
        )
    if not line.title.strip():
        failures.append(Failure("field:title", "Indsatsen skal have en titel.", "Title needed."))
    if not line.purpose.strip():
        failures.append(
            Failure("field:purpose", "Beskriv indsatsens formål.", "Describe the purpose.")
        )
    if line.starts_on and line.ends_on and line.ends_on < line.starts_on:
        failures.append(
            Failure(
                "field:ends_on",
                "Slutdatoen ligger før startdatoen. Ret tidsplanen.",
                "The end date is before the start date.",
            )
        )
    if line.economy_dkk is not None and line.economy_dkk < 0:
        failures.append(
            Failure("field:economy_dkk", "Beløbet kan ikke være negativt.", "Negative amount.")
        )
    if line.initiative_case_id is not None and session.get(Case, line.initiative_case_id) is None:
        failures.append(
            Failure(
                "field:initiative_case_id",
                f"Der er ingen sag nr. {line.initiative_case_id}. Ret sagsnummeret, eller lad "
                "feltet stå tomt.",
                f"There is no case {line.initiative_case_id}.",
            )
        )
    if failures:
        raise GuardFailed(failures)


def _indicators(session: Session, ids: Sequence[int]) -> list[Indicator]:
    if not ids:
        return []
    return list(session.scalars(select(Indicator).where(Indicator.id.in_(list(ids)))))


def add_plan_item(
    session: Session,
    plan: Case,
    actor: User,
    *,
    title: str,
    purpose: str,
    anchoring: str = "",
    responsible_start: str = "",
    responsible_delivery: str = "",
    starts_on: date | None = None,
    ends_on: date | None = None,
    economy: str = "",
    economy_dkk: Decimal | None = None,
    initiative: Case | None = None,
    indicator_ids: Sequence[int] = (),
) -> PlanItem:
    """Add an initiative to the plan (audited on the plan case) and commit."""
    line = PlanLine(
        title, purpose, anchoring, responsible_start, responsible_delivery, starts_on, ends_on,
        economy, economy_dkk, initiative.id if initiative else None, tuple(indicator_ids),
    )  # fmt: skip
    return add_plan_line(session, plan, actor, line)


def add_plan_line(session: Session, plan: Case, actor: User, line: PlanLine) -> PlanItem:
    """Add a line to the plan (audited on the plan case) and commit."""
    _check_line(session, plan, actor, line)
    now: datetime = clock.now()
    position = len(plan_items(session, plan)) + 1
    with unit_of_work(session):
        item = PlanItem(
            plan_case_id=plan.id, initiative_case_id=line.initiative_case_id,
            position=position, title=line.title.strip(), purpose=line.purpose.strip(),
            anchoring=line.anchoring.strip(), responsible_start=line.responsible_start.strip(),
            responsible_delivery=line.responsible_delivery.strip(), starts_on=line.starts_on,
            ends_on=line.ends_on, economy=line.economy.strip(), economy_dkk=line.economy_dkk,
            created_at=now,
        )  # fmt: skip
        item.indicators = _indicators(session, line.indicator_ids)
        session.add(item)
        session.flush()
        engine.append_event(
            session, plan, trigger=ITEM_TRIGGER, actor=actor, from_state=plan.state,
            comment=f"Indsatsen '{item.title}' er føjet til planen.",
            data={"plan_item": item.id, "initiative": item.initiative_case_id}, now=now,
        )  # fmt: skip
    return item


def _jsonable(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def update_plan_line(
    session: Session, item: PlanItem, actor: User, line: PlanLine
) -> dict[str, tuple[object, object]]:
    """Change a plan line before adoption, audited on the plan case with the old values; commit.

    Returns the changed fields as {name: (old, new)}; nothing is written when none changed.
    """
    plan = session.get(Case, item.plan_case_id)
    assert plan is not None  # a line always belongs to a plan
    _check_line(session, plan, actor, line)
    new: dict[str, object] = {name: str(getattr(line, name)).strip() for name in TEXT_FIELDS}
    new.update({name: getattr(line, name) for name in VALUE_FIELDS})
    changed = {
        name: (getattr(item, name), value)
        for name, value in new.items()
        if getattr(item, name) != value
    }
    old_codes = sorted(i.code for i in item.indicators)
    indicators = _indicators(session, line.indicator_ids)
    new_codes = sorted(i.code for i in indicators)
    if old_codes != new_codes:
        changed["indicators"] = (", ".join(old_codes), ", ".join(new_codes))
    if not changed:
        return {}
    now: datetime = clock.now()
    with unit_of_work(session):
        for name, value in new.items():
            setattr(item, name, value)
        item.indicators = indicators
        session.flush()
        engine.append_event(
            session, plan, trigger=ITEM_CHANGED_TRIGGER, actor=actor, from_state=plan.state,
            comment=f"Indsatsen '{item.title}' i planen er ændret.",
            data={
                "plan_item": item.id,
                "changed": {
                    name: {"old": _jsonable(old), "new": _jsonable(value)}
                    for name, (old, value) in sorted(changed.items())
                },
            },
            now=now,
        )  # fmt: skip
    return changed
