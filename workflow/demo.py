"""`aftaleflow demo`: realistic demo data built through the engine, on the 2020 meeting calendar.

The content lives in data/demo.toml. Users, memberships, meetings, expenses and implementation
statuses are inserted directly; every case is opened with engine.create_case and moved only with
engine.perform (or edit_case), with the clock set to the historical date of each step, so the
timelines read like 2019-2021. Every row has a stable key (e-mail, body and start time, ESDH case
number), so a second run creates nothing, and a run that stopped half-way continues where it
stopped.
"""

from __future__ import annotations

import time as timer
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from itertools import pairwise
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import (
    AdminAuditEntry,
    AgendaItem,
    Body,
    Case,
    CaseEvent,
    CaseExpense,
    Consultation,
    FocusArea,
    ImplementationState,
    ImplementationStatus,
    Indicator,
    ItemKind,
    Meeting,
    MeetingStatus,
    Membership,
    NationalGoal,
    Notification,
    Party,
    PartyKind,
    PlanningArea,
    Role,
    User,
)
from workflow.consultations import operations as consultations
from workflow.engine import admin_audit, clock, formandskab
from workflow.engine import core as engine
from workflow.engine.calendar import local_date
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.core import append_event
from workflow.engine.errors import WorkflowError
from workflow.engine.paths import resource_dir
from workflow.engine.processes import registry
from workflow.engine.unit_of_work import unit_of_work
from workflow.implementation import annual_cycle, indicators
from workflow.meetings import agenda, minutes
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome, trigger_for
from workflow.organisation import operations as organisation
from workflow.organisation import seed

PASSWORD = "aftaleflow-demo"
MAIL_DOMAIN = "demo.aftaleflow.dk"
LOGIN_WORDS = {
    Role.CHAIR: "formand",
    Role.VICE_CHAIR: "naestformand",
    Role.SECRETARIAT: "sekretariat",
    Role.MEMBER: "medlem",
    Role.OBSERVER: "observatoer",
}
ROLE_PHRASES = {
    Role.CHAIR: "Formand for {}",
    Role.VICE_CHAIR: "Næstformand for {}",
    Role.SECRETARIAT: "Sekretariat for {}",
    Role.MEMBER: "Medlem af {}",
    Role.OBSERVER: "Observatør i {}",
}
# Fields a demo case may set besides its key, title and focus area (see engine.EDITABLE_FIELDS).
CASE_FIELDS = engine.EDITABLE_FIELDS - {"title", "focus_area_id", "esdh_case_number"}
DATE_FIELDS = frozenset({"received_on", "sent_on"})
# Notifications of the story are history: older than this before the story's "today" are read.
READ_AFTER = timedelta(days=30)
# Events the agenda and minutes write beside the steps' own: not steps of the script.
AGENDA_RECORDS = ("added_to_agenda", "meeting_outcome")
# Events a consultation round writes: records on the case's timeline, not steps of the script.
CONSULTATION_RECORDS = ("consultation_started", "consultation_answered")
# How a step's trigger is read back as an outcome in the minutes, first match wins.
OUTCOME_PREFERENCE = (
    Outcome.RECOMMENDED, Outcome.NOTED, Outcome.APPROVED,
    Outcome.RETURNED, Outcome.REJECTED, Outcome.POSTPONED,
)  # fmt: skip


class DemoError(Exception):
    """The demo data cannot be built; the message says where and what to do, in Danish."""


@dataclass(frozen=True)
class PersonSpec:
    login: str
    name: str
    party: str
    title: str
    memberships: tuple[tuple[Role, str], ...]
    description: str
    is_admin: bool = False

    @property
    def email(self) -> str:
        return f"{self.login}@{MAIL_DOMAIN}"


@dataclass(frozen=True)
class MeetingSpec:
    body: str
    starts_at: datetime
    ends_at: datetime
    title: str
    location: str
    cancelled: bool
    run_as_meeting: bool = False  # its decisions go through agenda and minutes


@dataclass(frozen=True)
class ImplementationSpec:
    default: ImplementationState
    overrides: tuple[tuple[str, ImplementationState], ...]
    reasons: dict[str, str]
    line: str  # "somatik" or "psykiatri": which SU of a planning area is responsible


@dataclass(frozen=True)
class PlanLineSpec:
    """A line of an implementation plan (`do = "plan_line"`) and the indicators it names."""

    title: str
    purpose: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class IndicatorSpec:
    """An indicator of the registry and the region's yearly values, imported on `imported`."""

    code: str
    name: str
    direction: str
    unit: str
    data_source: str
    imported: datetime
    region_values: dict[int, str]


@dataclass(frozen=True)
class StepSpec:
    action: str
    at: datetime
    at_meeting: bool
    explicit_time: bool
    by: str
    comment: str | None = None
    data: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, Any] = field(default_factory=dict)
    national_goals: tuple[int, ...] | None = None
    implementation: ImplementationSpec | None = None
    plan_line: PlanLineSpec | None = None

    @property
    def audited(self) -> bool:
        """Whether the step leaves an event by its actor on the case's timeline."""
        return self.action != "implementation"


@dataclass(frozen=True)
class ExpenseSpec:
    parties: str  # a party code, a planning area code, or "kommuner" for all municipalities
    amount_dkk: Decimal
    note: str


@dataclass(frozen=True)
class CaseSpec:
    key: str
    process: str
    origin: str
    author: str
    created: datetime
    title: str
    focus_area: str | None
    national_goals: tuple[int, ...]
    fields: dict[str, Any]
    expenses: tuple[ExpenseSpec, ...]
    steps: tuple[StepSpec, ...]
    # What the engine keeps beside the fields: the rhythm's key (`opened_for`, so the scheduler
    # does not open the same year's or period's case again) and an electoral period's end.
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AdHocSpec:
    """An ad hoc group a forum's chair set up (seed 000 l.68-69)."""

    forum: str
    by: str
    on: datetime
    name: str
    task: str
    ends_on: date


@dataclass(frozen=True)
class DemoScript:
    today: datetime
    epoch: datetime
    people: tuple[PersonSpec, ...]
    meetings: tuple[MeetingSpec, ...]
    cases: tuple[CaseSpec, ...]
    ad_hoc_groups: tuple[AdHocSpec, ...] = ()
    indicators: tuple[IndicatorSpec, ...] = ()


@dataclass
class DemoReport:
    """What the demo created, and how to log in as the demo users."""

    users: int = 0
    memberships: int = 0
    meetings: int = 0
    cases: int = 0
    events: int = 0
    expenses: int = 0
    implementation_statuses: int = 0
    notifications: int = 0
    cases_in_script: int = 0
    seconds: float = 0.0
    logins: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return any(
            (self.users, self.memberships, self.meetings, self.cases, self.events,
             self.expenses, self.implementation_statuses, self.notifications)
        )  # fmt: skip

    def summary(self) -> str:
        """Describe in Danish what the run created."""
        if not self.changed:
            return (
                f"Demodata findes allerede ({self.cases_in_script} sager, "
                f"{len(self.logins)} demobrugere); intet ændret."
            )
        return (
            f"Demodata oprettet: {self.users} brugere, {self.memberships} medlemskaber, "
            f"{self.meetings} møder, {self.cases} sager med {self.events} hændelser, "
            f"{self.expenses} merudgifter og {self.implementation_statuses} "
            f"implementeringsstatusser; {self.notifications} historiske notifikationer er "
            f"markeret som afsendt. Demobrugerne har adgangskoden '{PASSWORD}'."
        )


# --- Reading data/demo.toml -------------------------------------------------------------------


class _Reader:
    """Typed access to the parsed TOML, with errors that name the key."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> DemoError:
        return DemoError(f"{self.source}: {where}: {problem}")

    def table(self, value: Any, where: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(where, "skal være en tabel")
        return value

    def tables(self, value: Any, where: str) -> list[dict[str, Any]]:
        if not isinstance(value, list):
            raise self.fail(where, "skal være en liste af tabeller")
        return [self.table(item, f"{where}[{i}]") for i, item in enumerate(value)]

    def text(self, table: dict[str, Any], key: str, where: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(f"{where}.{key}", "skal være en tekst, der ikke er tom")
        return value.strip()

    def texts(self, table: dict[str, Any], key: str, where: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{where}.{key}", "skal være en liste af tekster")
        return tuple(value)

    def numbers(self, table: dict[str, Any], key: str, where: str) -> tuple[int, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in value
        ):
            raise self.fail(f"{where}.{key}", "skal være en liste af heltal")
        return tuple(value)

    def moment(self, text: str, where: str, default_time: time) -> tuple[datetime, bool]:
        """Read 'ÅÅÅÅ-MM-DD' or 'ÅÅÅÅ-MM-DD TT:MM' in Danish time; say if a time was given."""
        try:
            parsed = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(
                where, f"'{text}' er ikke en dato (ÅÅÅÅ-MM-DD eller ÅÅÅÅ-MM-DD TT:MM)"
            ) from None
        has_time = len(text.strip()) > 10
        if not has_time:
            parsed = datetime.combine(parsed.date(), default_time)
        return parsed.replace(tzinfo=LOCAL_TZ).astimezone(UTC), has_time

    def day(self, text: Any, where: str) -> date:
        try:
            return date.fromisoformat(str(text))
        except ValueError:
            raise self.fail(where, f"'{text}' er ikke en dato (ÅÅÅÅ-MM-DD)") from None


def _read_people(reader: _Reader, raw: dict[str, Any]) -> tuple[PersonSpec, ...]:
    people: list[PersonSpec] = []
    admin = reader.table(raw.get("admin"), "admin")
    people.append(
        PersonSpec(
            login=reader.text(admin, "login", "admin"),
            name=reader.text(admin, "name", "admin"),
            party=reader.text(admin, "party", "admin"),
            title=reader.text(admin, "title", "admin"),
            memberships=(),
            description=reader.text(admin, "description", "admin"),
            is_admin=True,
        )
    )
    for index, group in enumerate(reader.tables(raw.get("bodies"), "bodies")):
        where = f"bodies[{index}]"
        code = reader.text(group, "code", where)
        for number, person in enumerate(reader.tables(group.get("people"), f"{where}.people")):
            at = f"{where}.people[{number}]"
            try:
                role = Role(reader.text(person, "role", at))
            except ValueError:
                raise reader.fail(
                    f"{at}.role", f"kendte roller: {[r.value for r in Role]}"
                ) from None
            login = person.get("login") or f"{LOGIN_WORDS[role]}.{code.lower()}"
            phrase = person.get("role_label") or ROLE_PHRASES[role]
            name = reader.text(person, "name", at)
            title = reader.text(person, "title", at)
            people.append(
                PersonSpec(
                    login=str(login),
                    name=name,
                    party=reader.text(person, "party", at),
                    title=title,
                    memberships=((role, code),),
                    description=f"{str(phrase).format(code)} – {name}, {title}",
                )
            )
    logins = [p.login for p in people]
    duplicates = sorted({login for login in logins if logins.count(login) > 1})
    if duplicates:
        raise reader.fail("bodies", f"login bruges flere gange: {', '.join(duplicates)}")
    return tuple(people)


def _read_meetings(reader: _Reader, raw: dict[str, Any]) -> tuple[MeetingSpec, ...]:
    meetings: list[MeetingSpec] = []
    for code, spec in reader.table(raw.get("meetings"), "meetings").items():
        where = f"meetings.{code}"
        spec = reader.table(spec, where)
        try:
            start = time.fromisoformat(reader.text(spec, "time", where))
            hours = float(spec.get("hours", 2))
        except (TypeError, ValueError):
            raise reader.fail(where, "time skal være TT:MM og hours et tal") from None
        location = reader.text(spec, "location", where)
        online = set(reader.texts(spec, "online", where))
        cancelled = set(reader.texts(spec, "cancelled", where))
        titles = reader.table(spec.get("titles", {}), f"{where}.titles")
        default_title = reader.text(spec, "title", where)
        dates = reader.texts(spec, "dates", where)
        as_meeting = set(reader.texts(spec, "run_as_meeting", where))
        if as_meeting - set(dates):
            raise reader.fail(
                f"{where}.run_as_meeting",
                f"{', '.join(sorted(as_meeting - set(dates)))} står ikke under dates",
            )
        for day in sorted(set(dates) | cancelled):
            starts_at, _ = reader.moment(day, f"{where}.dates", start)
            meetings.append(
                MeetingSpec(
                    body=code,
                    starts_at=starts_at,
                    ends_at=starts_at + timedelta(hours=hours),
                    title=str(titles.get(day, default_title)),
                    location="Virtuelt møde (Microsoft Teams)" if day in online else location,
                    cancelled=day in cancelled,
                    run_as_meeting=day in as_meeting,
                )
            )
    return tuple(meetings)


def _read_implementation(reader: _Reader, spec: dict[str, Any], where: str) -> ImplementationSpec:
    try:
        default = ImplementationState(spec.get("default", "not_started"))
    except ValueError:
        raise reader.fail(f"{where}.default", "ukendt status") from None
    overrides: list[tuple[str, ImplementationState]] = []
    for state in (
        ImplementationState.NOT_STARTED,
        ImplementationState.IN_PROGRESS,
        ImplementationState.IMPLEMENTED,
    ):
        overrides += [(name, state) for name in reader.texts(spec, state.value, where)]
    reasons = reader.table(spec.get("not_relevant", {}), f"{where}.not_relevant")
    for name, reason in reasons.items():
        if not isinstance(reason, str) or not reason.strip():
            raise reader.fail(f"{where}.not_relevant.{name}", "kræver en begrundelse")
        overrides.append((name, ImplementationState.NOT_RELEVANT))
    line = str(spec.get("line", "somatik"))
    if line not in ("somatik", "psykiatri"):
        raise reader.fail(f"{where}.line", "skal være 'somatik' eller 'psykiatri'")
    return ImplementationSpec(
        default, tuple(overrides), {k: str(v) for k, v in reasons.items()}, line
    )


def _field_value(reader: _Reader, key: str, value: Any, where: str) -> Any:
    if key in DATE_FIELDS:
        return reader.day(value, f"{where}.{key}")
    if not isinstance(value, str | bool | int):
        raise reader.fail(f"{where}.{key}", "skal være tekst, heltal eller true/false")
    return value.strip() if isinstance(value, str) else value


def _read_step(reader: _Reader, spec: dict[str, Any], where: str) -> StepSpec:
    action = reader.text(spec, "do", where)
    at, explicit = reader.moment(reader.text(spec, "on", where), f"{where}.on", time(10, 0))
    changes = {
        key: _field_value(reader, key, value, f"{where}.set")
        for key, value in reader.table(spec.get("set", {}), f"{where}.set").items()
    }
    unknown = set(changes) - engine.EDITABLE_FIELDS
    if unknown:
        raise reader.fail(f"{where}.set", f"ukendte felter: {', '.join(sorted(unknown))}")
    goals = reader.numbers(spec, "national_goals", where) if "national_goals" in spec else None
    implementation = None
    if action == "implementation":
        implementation = _read_implementation(reader, spec, where)
    plan_line = None
    if action == "plan_line":
        plan_line = PlanLineSpec(
            reader.text(spec, "title", where),
            reader.text(spec, "purpose", where),
            reader.texts(spec, "indicators", where),
        )
    comment = spec.get("comment")
    return StepSpec(
        action=action,
        at=at,
        at_meeting=bool(spec.get("meeting", False)),
        explicit_time=explicit,
        by="" if action == "implementation" else reader.text(spec, "by", where),
        comment=str(comment).strip() if comment is not None else None,
        data=dict(reader.table(spec.get("data", {}), f"{where}.data")),
        changes=changes,
        national_goals=goals,
        implementation=implementation,
        plan_line=plan_line,
    )


CASE_KEYS = frozenset(
    {"key", "process", "origin", "author", "created", "title", "focus_area", "national_goals",
     "expenses", "steps", "extra"}
)  # fmt: skip


def _read_case(reader: _Reader, spec: dict[str, Any], where: str) -> CaseSpec:
    unknown = set(spec) - CASE_KEYS - CASE_FIELDS
    if unknown:
        raise reader.fail(where, f"ukendte nøgler: {', '.join(sorted(unknown))}")
    expenses: list[ExpenseSpec] = []
    for number, raw in enumerate(reader.tables(spec.get("expenses", []), f"{where}.expenses")):
        at = f"{where}.expenses[{number}]"
        try:
            amount = Decimal(str(raw.get("amount_dkk")))
        except InvalidOperation:
            raise reader.fail(f"{at}.amount_dkk", "skal være et beløb i kroner") from None
        expenses.append(
            ExpenseSpec(reader.text(raw, "parties", at), amount, reader.text(raw, "note", at))
        )
    steps = tuple(
        _read_step(reader, raw, f"{where}.steps[{number}]")
        for number, raw in enumerate(reader.tables(spec.get("steps", []), f"{where}.steps"))
    )
    created, _ = reader.moment(reader.text(spec, "created", where), f"{where}.created", time(9))
    moments = [created, *(s.at for s in steps)]
    if any(later < earlier for earlier, later in pairwise(moments)):
        raise reader.fail(f"{where}.steps", "trinene skal stå i tidsorden efter 'created'")
    focus = spec.get("focus_area")
    return CaseSpec(
        key=reader.text(spec, "key", where),
        process=reader.text(spec, "process", where),
        origin=reader.text(spec, "origin", where),
        author=reader.text(spec, "author", where),
        created=created,
        title=reader.text(spec, "title", where),
        focus_area=str(focus) if focus else None,
        national_goals=reader.numbers(spec, "national_goals", where),
        fields={
            key: _field_value(reader, key, value, where)
            for key, value in spec.items()
            if key in CASE_FIELDS
        },
        expenses=tuple(expenses),
        steps=steps,
        extra={
            key: str(value)
            for key, value in reader.table(spec.get("extra", {}), f"{where}.extra").items()
        },
    )


def _read_ad_hoc(reader: _Reader, spec: dict[str, Any], where: str) -> AdHocSpec:
    on, _ = reader.moment(reader.text(spec, "on", where), f"{where}.on", time(10))
    return AdHocSpec(
        forum=reader.text(spec, "forum", where), by=reader.text(spec, "by", where), on=on,
        name=reader.text(spec, "name", where), task=str(spec.get("task", "")).strip(),
        ends_on=reader.day(spec.get("ends_on"), f"{where}.ends_on"),
    )  # fmt: skip


def _read_indicator(reader: _Reader, spec: dict[str, Any], where: str) -> IndicatorSpec:
    direction = reader.text(spec, "direction", where)
    if direction not in ("up", "down"):
        raise reader.fail(f"{where}.direction", "skal være 'up' eller 'down'")
    imported, _ = reader.moment(reader.text(spec, "imported", where), f"{where}.imported", time(9))
    values = reader.table(spec.get("region_values", {}), f"{where}.region_values")
    if not all(year.isdigit() for year in values):
        raise reader.fail(f"{where}.region_values", "nøglerne skal være årstal")
    return IndicatorSpec(
        code=reader.text(spec, "code", where),
        name=reader.text(spec, "name", where),
        direction=direction,
        unit=reader.text(spec, "unit", where, ""),
        data_source=reader.text(spec, "data_source", where, ""),
        imported=imported,
        region_values={int(year): str(value) for year, value in values.items()},
    )


def load_script(path: Path | None = None) -> DemoScript:
    """Read and check the demo content (data/demo.toml by default)."""
    path = path or resource_dir("data") / "demo.toml"
    reader = _Reader(path.name)
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoError(f"{path}: kan ikke læses: {exc}") from exc
    story = reader.table(raw.get("story"), "story")
    today, _ = reader.moment(reader.text(story, "today", "story"), "story.today", time(12))
    epoch, _ = reader.moment(reader.text(story, "epoch", "story"), "story.epoch", time(8))
    cases = tuple(
        _read_case(reader, spec, f"cases[{i}]")
        for i, spec in enumerate(reader.tables(raw.get("cases"), "cases"))
    )
    keys = [c.key for c in cases]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
        raise reader.fail("cases", f"sagsnummer bruges flere gange: {', '.join(duplicates)}")
    return DemoScript(
        today=today,
        epoch=epoch,
        people=_read_people(reader, raw),
        meetings=_read_meetings(reader, raw),
        cases=cases,
        ad_hoc_groups=tuple(
            _read_ad_hoc(reader, spec, f"ad_hoc_groups[{i}]")
            for i, spec in enumerate(reader.tables(raw.get("ad_hoc_groups", []), "ad_hoc_groups"))
        ),
        indicators=tuple(
            _read_indicator(reader, spec, f"indicators[{i}]")
            for i, spec in enumerate(reader.tables(raw.get("indicators", []), "indicators"))
        ),
    )


# --- Building the data ------------------------------------------------------------------------


@dataclass
class _World:
    """The seeded organisation and the demo's users and meetings, looked up by key."""

    bodies: dict[str, Body]
    parties: dict[str, Party]
    areas: dict[int, str]
    users: dict[str, User] = field(default_factory=dict)
    meetings: dict[tuple[int, date], Meeting] = field(default_factory=dict)
    run_as_meeting: set[int] = field(default_factory=set)  # meeting ids
    indicators: dict[str, Indicator] = field(default_factory=dict)

    def municipalities(self) -> list[Party]:
        found = [p for p in self.parties.values() if p.kind == PartyKind.MUNICIPALITY and p.active]
        return sorted(found, key=lambda p: p.name)

    def area_of(self, party: Party) -> str:
        return self.areas.get(party.planning_area_id or 0, "")


def _load_world(session: Session) -> _World:
    bodies = {b.code: b for b in session.scalars(select(Body))}
    if "TSS" not in bodies or "SKU" not in bodies:
        raise DemoError(
            "Organisationen er ikke indlæst. Kør 'aftaleflow seed', før du kører 'aftaleflow demo'."
        )
    return _World(
        bodies=bodies,
        parties={p.code: p for p in session.scalars(select(Party))},
        areas={a.id: a.code for a in session.scalars(select(PlanningArea))},
    )


def _lookup(items: dict[str, Any], code: str, what: str) -> Any:
    try:
        return items[code]
    except KeyError:
        raise DemoError(
            f"{what} '{code}' findes ikke. Kør 'aftaleflow seed', eller ret data/demo.toml."
        ) from None


def _ensure_indicators(session: Session, script: DemoScript, world: _World) -> None:
    """Define the demo's indicators and import the region's yearly values, as the
    secretariat keeps them (the plan's yearly follow-up reads them, seed 004 l.299-300)."""
    keeper = _lookup(world.users, "sekretariat.tss", "Demobrugeren")
    for spec in script.indicators:
        existing = session.scalar(select(Indicator).where(Indicator.code == spec.code))
        if existing is not None:
            world.indicators[spec.code] = existing  # a second run changes nothing
            continue
        world.indicators[spec.code] = indicators.define_indicator(
            session, code=spec.code, name=spec.name, direction=spec.direction, unit=spec.unit,
            data_source=spec.data_source, actor=keeper,
        )  # fmt: skip
        if not spec.region_values:
            continue
        clock.set_time(spec.imported)
        indicators.import_values(
            session,
            [
                indicators.ValueInput(spec.code, str(year), "region", value)
                for year, value in sorted(spec.region_values.items())
            ],
            keeper,
        )


def _ensure_people(session: Session, script: DemoScript, world: _World, report: DemoReport) -> None:
    with unit_of_work(session):
        emails = [p.email for p in script.people]
        existing = {u.email: u for u in session.scalars(select(User).where(User.email.in_(emails)))}
        password_hash: str | None = None
        for person in script.people:
            user = existing.get(person.email)
            if user is None:
                # One hash for the shared, published demo password keeps the demo fast.
                password_hash = password_hash or PasswordHasher().hash(PASSWORD)
                user = User(
                    email=person.email,
                    name=person.name,
                    password_hash=password_hash,
                    is_admin=person.is_admin,
                    party_id=_lookup(world.parties, person.party, "Parten").id,
                    created_at=script.epoch,
                )
                session.add(user)
                report.users += 1
            world.users[person.login] = user
        session.flush()
        held = set(
            session.execute(
                select(Membership.user_id, Membership.body_id, Membership.role).where(
                    Membership.user_id.in_([u.id for u in world.users.values()])
                )
            ).tuples()
        )
        for person in script.people:
            user = world.users[person.login]
            for role, code in person.memberships:
                body = _lookup(world.bodies, code, "Organet")
                if (user.id, body.id, role) not in held:
                    session.add(
                        Membership(
                            user_id=user.id, body_id=body.id, role=role,
                            since=local_date(script.epoch), active=True,
                        )
                    )  # fmt: skip
                    report.memberships += 1


# One consultation respondent (høringsansvarlig) per municipality, so each of the 29 can answer
# a consultation. Fictional names, dealt out in the municipalities' alphabetical order.
RESPONDENT_FIRST_NAMES = (
    "Anne", "Bjarne", "Camilla", "Dorte", "Esben", "Frida", "Gitte", "Henrik", "Inge", "Jakob",
    "Karen", "Lars", "Maja", "Niels", "Oda", "Peter", "Rasmus", "Sofie", "Thomas", "Ulrik",
    "Vera", "William", "Yvonne", "Asger", "Birgit", "Carsten", "Ditte", "Emil", "Freja",
)  # fmt: skip
RESPONDENT_SURNAMES = (
    "Bach", "Dahl", "Eskildsen", "Friis", "Gram", "Holst", "Iversen", "Juhl", "Krogh", "Lund",
    "Mikkelsen", "Nygaard", "Overgaard", "Pedersen", "Qvist", "Rosenberg", "Skov", "Thrane",
    "Vestergaard", "Winther", "Abildgaard", "Bruun", "Clausen", "Degn", "Elmer", "Falk",
    "Grønbech", "Hald", "Ibsen",
)  # fmt: skip


def respondent_login(party: Party) -> str:
    """The demo respondent's login for a municipality, e.g. hoering.albertslund."""
    return "hoering." + party.code.removeprefix("KOM-").lower()


def _ensure_respondents(session: Session, world: _World, report: DemoReport) -> None:
    """Give every active municipality a consultation respondent: a user of its party, without
    memberships, who answers the consultations the municipality is asked in."""
    municipalities = world.municipalities()
    emails = {f"{respondent_login(p)}@{MAIL_DOMAIN}": p for p in municipalities}
    with unit_of_work(session):
        existing = set(session.scalars(select(User.email).where(User.email.in_(list(emails)))))
        password_hash: str | None = None
        for number, (email, party) in enumerate(emails.items()):
            first = RESPONDENT_FIRST_NAMES[number % len(RESPONDENT_FIRST_NAMES)]
            last = RESPONDENT_SURNAMES[number % len(RESPONDENT_SURNAMES)]
            name = f"{first} {last}"
            report.logins.append((email, PASSWORD, f"Høringsansvarlig for {party.name} – {name}"))
            if email in existing:
                continue
            password_hash = password_hash or PasswordHasher().hash(PASSWORD)
            session.add(
                User(
                    email=email, name=name, password_hash=password_hash, party_id=party.id,
                    created_at=clock.now(),  # the demo epoch: the run freezes the clock there
                )
            )  # fmt: skip
            report.users += 1


def _ensure_consultation_rounds(session: Session, script: DemoScript, world: _World) -> None:
    """Send every case that rests in its consultation state to the 29 municipalities, on the day
    it entered that state, so the demo respondents have a consultation to answer."""
    for spec in script.cases:
        step = next((s for s in reversed(spec.steps) if s.action == "start_consultation"), None)
        case = session.scalar(select(Case).where(Case.esdh_case_number == spec.key))
        if step is None or case is None or not consultations.runs_consultation(case):
            continue
        if session.scalar(select(Consultation.id).where(Consultation.case_id == case.id)):
            continue
        with clock.frozen_at(step.at + timedelta(minutes=5)):
            consultations.start(
                session, case, _lookup(world.users, step.by, "Demobrugeren"),
                title=case.title, parties=world.municipalities(), bodies=[],
                draft="Udkastet er vedhæftet sagen. Svar gerne samlet for kommunen.",
            )  # fmt: skip


def _meeting_status(spec: MeetingSpec, today: datetime) -> MeetingStatus:
    if spec.cancelled:
        return MeetingStatus.CANCELLED
    if spec.starts_at < today:
        return MeetingStatus.CLOSED
    if spec.starts_at < today + timedelta(days=14):
        return MeetingStatus.PUBLISHED
    return MeetingStatus.PLANNED


def _ensure_meetings(
    session: Session, script: DemoScript, world: _World, report: DemoReport
) -> None:
    with unit_of_work(session):
        body_ids = {_lookup(world.bodies, m.body, "Organet").id for m in script.meetings}
        existing = {
            (m.body_id, m.starts_at): m
            for m in session.scalars(select(Meeting).where(Meeting.body_id.in_(body_ids)))
        }
        for spec in script.meetings:
            body = world.bodies[spec.body]
            meeting = existing.get((body.id, spec.starts_at))
            if meeting is None:
                # A meeting run through agenda and minutes starts as a draft agenda.
                status = (
                    MeetingStatus.PLANNED
                    if spec.run_as_meeting and not spec.cancelled
                    else _meeting_status(spec, script.today)
                )
                meeting = Meeting(
                    body_id=body.id,
                    title=spec.title,
                    starts_at=spec.starts_at,
                    ends_at=spec.ends_at,
                    location=spec.location,
                    status=status,
                    # A year's calendar is laid in December of the year before.
                    created_at=datetime(spec.starts_at.year - 1, 12, 1, 8, tzinfo=UTC),
                )
                session.add(meeting)
                existing[(body.id, spec.starts_at)] = meeting
                report.meetings += 1
                if status in (MeetingStatus.PLANNED, *RELEASED):
                    _start_agenda(session, meeting)
                if status in RELEASED:
                    _release_agenda(session, meeting)
            if spec.run_as_meeting:
                world.run_as_meeting.add(meeting.id)
    for meeting in existing.values():
        if meeting.status != MeetingStatus.CANCELLED:
            world.meetings[(meeting.body_id, local_date(meeting.starts_at))] = meeting


def _start_agenda(session: Session, meeting: Meeting) -> None:
    """Give a new draft meeting its first item and history entry, as plan_meeting does."""
    session.flush()
    session.add(
        AgendaItem(
            meeting_id=meeting.id, position=1, title=meetings.APPROVAL_TITLE,
            kind=ItemKind.DECISION, recommendation="Det indstilles, at dagsordenen godkendes.",
        )
    )  # fmt: skip
    with clock.frozen_at(meeting.created_at):
        meetings.record(
            session, meeting, None, "planned", data={"starts_at": meeting.starts_at.isoformat()}
        )


# A meeting in these states has sent out its agenda, so it has a released (frozen) version.
RELEASED = (MeetingStatus.PUBLISHED, MeetingStatus.CLOSED)


def _release_agenda(session: Session, meeting: Meeting) -> None:
    """Freeze the agenda a week ahead (and a held meeting's minutes), as publishing does."""
    session.flush()
    released_at = max(meeting.created_at, meeting.starts_at - timedelta(days=7))
    with clock.frozen_at(released_at):
        agenda.freeze(session, meeting, None, "agenda")
        meetings.record(session, meeting, None, "publish", from_status=MeetingStatus.AGENDA_REVIEW)
    if meeting.status is MeetingStatus.CLOSED:
        with clock.frozen_at(meeting.starts_at + timedelta(days=1)):
            agenda.freeze(session, meeting, None, "minutes")
            meetings.record(session, meeting, None, "close", from_status=MeetingStatus.HELD)


def _audited_events(session: Session, case: Case) -> int:
    """Count the events users made after the case was created (edits and transitions)."""
    return (
        session.scalar(
            select(func.count()).where(
                CaseEvent.case_id == case.id,
                CaseEvent.actor_id.is_not(None),
                CaseEvent.trigger != "create",
                CaseEvent.trigger.not_in(
                    AGENDA_RECORDS + CONSULTATION_RECORDS + (formandskab.PROPOSED,)
                ),
            )
        )
        or 0
    )


def _expense_parties(world: _World, selector: str) -> list[Party]:
    if selector == "kommuner":
        return world.municipalities()
    in_area = [p for p in world.municipalities() if world.area_of(p) == selector]
    return in_area or [_lookup(world.parties, selector, "Parten")]


def _ensure_expenses(
    session: Session, case: Case, spec: CaseSpec, world: _World, report: DemoReport
) -> None:
    with unit_of_work(session):
        present = {e.party_id for e in case.expenses}
        for expense in spec.expenses:
            for party in _expense_parties(world, expense.parties):
                if party.id not in present:
                    case.expenses.append(
                        CaseExpense(party=party, amount_dkk=expense.amount_dkk, note=expense.note)
                    )
                    present.add(party.id)
                    report.expenses += 1


def _open_case(session: Session, spec: CaseSpec, world: _World, report: DemoReport) -> Case:
    focus_id = None
    if spec.focus_area:
        focus_id = session.scalar(select(FocusArea.id).where(FocusArea.code == spec.focus_area))
        if focus_id is None:
            raise DemoError(f"Demosag {spec.key}: fokusområdet '{spec.focus_area}' findes ikke.")
    goal_ids = list(
        session.scalars(select(NationalGoal.id).where(NationalGoal.number.in_(spec.national_goals)))
    )
    fields = dict(spec.fields)
    fields.setdefault("received_on", local_date(spec.created))
    definition = registry.latest(session, spec.process)
    fields.setdefault("journal_description", f"{definition.title}: {spec.title}"[:300])
    with clock.frozen_at(spec.created):
        try:
            case = engine.create_case(
                session,
                process=spec.process,
                title=spec.title,
                originating_body=_lookup(world.bodies, spec.origin, "Organet"),
                actor=_lookup(world.users, spec.author, "Demobrugeren"),
                national_goal_ids=goal_ids,
                focus_area_id=focus_id,
                esdh_case_number=spec.key,
                extra=spec.extra,
                **fields,
            )
        except WorkflowError as exc:
            raise DemoError(f"Demosag {spec.key} «{spec.title}» kan ikke oprettes: {exc}") from exc
    report.cases += 1
    return case


def _responsible_body(world: _World, party: Party, line: str) -> Body | None:
    area = world.area_of(party)
    if area == "BORNHOLM":
        return world.bodies.get("SU-BORNHOLM")
    suffix = "PSYK" if line == "psykiatri" else "SOM"
    return world.bodies.get(f"SU-{area}-{suffix}")


def _register_implementation(
    session: Session,
    case: Case,
    spec: ImplementationSpec,
    at: datetime,
    world: _World,
    report: DemoReport,
) -> None:
    """Record where each municipality stands; rows that exist are left as they are."""
    municipalities = world.municipalities()
    # The short names the demo uses ("København") are the data file's, not the official ones.
    by_code = {p.code: p for p in municipalities}
    by_name = {name: by_code[code] for name, code in seed.municipality_codes().items()
               if code in by_code}  # fmt: skip
    states = {p.id: spec.default for p in municipalities}
    # Planning areas first, so a municipality named on its own overrides its area.
    for name, state in sorted(spec.overrides, key=lambda item: item[0] in by_name):
        if name in by_name:
            states[by_name[name].id] = state
        elif name in world.areas.values():
            for party in municipalities:
                if world.area_of(party) == name:
                    states[party.id] = state
        else:
            raise DemoError(f"Demosag {case.esdh_case_number}: kender ikke kommunen '{name}'.")
    # Approval created the units (the on_enter action); the demo records their reports.
    present = {
        unit.party_id: unit
        for unit in session.scalars(
            select(ImplementationStatus).where(ImplementationStatus.case_id == case.id)
        )
    }
    unknown = sorted(set(spec.reasons) - set(by_name))
    if unknown:
        raise DemoError(
            f"Demosag {case.esdh_case_number}: 'ikke relevant' gælder én kommune ad gangen med "
            f"sin egen begrundelse; ret {', '.join(unknown)}."
        )
    reasons = {by_name[name].id: reason for name, reason in spec.reasons.items()}
    day = local_date(at)
    with unit_of_work(session):
        reported = 0
        for party_id in sorted(set(present) | set(states)):
            state = states.get(party_id, spec.default)
            started = day if state in (
                ImplementationState.IN_PROGRESS, ImplementationState.IMPLEMENTED
            ) else None  # fmt: skip
            implemented = day if state == ImplementationState.IMPLEMENTED else None
            unit = present.get(party_id)
            if unit is None:
                unit_party = session.get(Party, party_id)
                assert unit_party is not None
                body = _responsible_body(world, unit_party, spec.line)
                unit = ImplementationStatus(
                    case_id=case.id,
                    party_id=party_id,
                    responsible_body_id=body.id if body else None,
                    status=ImplementationState.NOT_STARTED,
                )
                session.add(unit)
                report.implementation_statuses += 1
            elif unit.status != ImplementationState.NOT_STARTED:
                continue  # reported before: a second run changes nothing
            if state == ImplementationState.NOT_STARTED:
                continue
            unit.status = state
            unit.reason = reasons.get(party_id, "")
            unit.started_on = started
            unit.implemented_on = implemented
            unit.updated_at = at
            reported += 1
        report.implementation_statuses += reported
        if reported:
            session.flush()
            append_event(
                session, case, trigger="implementation_report", actor=None, from_state=case.state,
                comment=f"Demodata: status for {reported} enheder registreret.",
                data={"units": reported, "demo": True}, now=at,
            )  # fmt: skip


def _step_time(step: StepSpec, meeting: Meeting | None, previous: datetime) -> datetime:
    """The step's moment: an hour into its meeting unless a time is given, after the last step."""
    at = step.at
    if meeting is not None and not step.explicit_time:
        at = meeting.starts_at + timedelta(hours=1)
    return max(at, previous + timedelta(minutes=1))


def _meeting_for(
    session: Session, case: Case, actor: User, step: StepSpec, number: int, world: _World
) -> Meeting:
    """Find the meeting that day of the body deciding: the case's current body, or the actor's."""
    day = local_date(step.at)
    held = session.scalars(select(Membership.body_id).where(Membership.user_id == actor.id))
    for body_id in (case.current_body_id, *held):
        meeting = world.meetings.get((body_id, day))
        if meeting is not None:
            return meeting
    body = session.get(Body, case.current_body_id)
    raise DemoError(
        f"Demosag {case.esdh_case_number}, trin {number}: {body.code if body else '?'} har intet "
        f"møde den {day.isoformat()}; tilføj det under [meetings] i data/demo.toml."
    )


def _perform_step(
    session: Session, case: Case, step: StepSpec, number: int, world: _World, previous: datetime
) -> datetime:
    actor = _lookup(world.users, step.by, "Demobrugeren")
    meeting = _meeting_for(session, case, actor, step, number, world) if step.at_meeting else None
    at = _step_time(step, meeting, previous)
    clock.set_time(at)
    try:
        if step.plan_line is not None:
            line = step.plan_line
            ids = [_lookup(world.indicators, code, "Indikatoren").id for code in line.indicators]
            annual_cycle.add_plan_line(
                session, case, actor,
                annual_cycle.PlanLine(line.title, line.purpose, indicator_ids=tuple(ids)),
            )  # fmt: skip
        elif step.action == "edit":
            event = engine.edit_case(case, actor, step.changes, national_goal_ids=(
                _goal_ids(session, step.national_goals) if step.national_goals else None
            ))  # fmt: skip
            if event is None:
                raise DemoError(f"Demosag {case.esdh_case_number}, trin {number}: ændrer intet.")
        else:
            data = dict(step.data)
            if meeting is not None:
                data["meeting_id"] = meeting.id
            event = engine.perform(
                case, step.action, actor, comment=step.comment, data=data or None
            )
            if event.trigger == formandskab.PROPOSED:
                # A formandskab decision: the other co-chair consents a minute later.
                at += timedelta(minutes=1)
                clock.set_time(at)
                co_chair = _co_chair(session, world, int(event.data["body_id"]), actor)
                engine.perform(case, step.action, co_chair, comment=step.comment, data=data or None)
    except WorkflowError as exc:
        raise DemoError(
            f"Demosag {case.esdh_case_number} «{case.title}», trin {number} ({step.action}): "
            f"{exc.message}"
        ) from exc
    return at


def _co_chair(session: Session, world: _World, body_id: int, proposer: User) -> User:
    """The body's other co-chair: from the other side (municipal or regional) where known."""
    chairs = session.scalars(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.body_id == body_id,
            Membership.role.in_(formandskab.CHAIR_ROLES),
            Membership.active.is_(True),
            User.id != proposer.id,
        )
        .order_by(User.id)
    ).all()
    side = formandskab.side_of(proposer)
    other = next((u for u in chairs if formandskab.side_of(u) != side), None)
    if other is None:
        body = session.get(Body, body_id)
        raise DemoError(
            f"{body.code if body else '?'} har ingen medformand fra den anden side til at give "
            "samtykke til formandskabets beslutning; tilføj en i data/demo.toml."
        )
    return other


def _goal_ids(session: Session, numbers: Iterable[int]) -> list[int]:
    return list(
        session.scalars(select(NationalGoal.id).where(NationalGoal.number.in_(list(numbers))))
    )


@dataclass
class _CaseRun:
    """A case being played: the next step, and where a meeting's minutes are awaited."""

    spec: CaseSpec
    case: Case
    done: int  # audited steps the case had taken before this run
    previous: datetime
    index: int = 0
    seen: int = 0


def _start_case(session: Session, spec: CaseSpec, world: _World, report: DemoReport) -> _CaseRun:
    """Open the case if needed and count the steps it has already taken."""
    case = session.scalar(
        select(Case).where(Case.esdh_case_number == spec.key).order_by(Case.id).limit(1)
    )
    if case is None:
        case = _open_case(session, spec, world, report)
    _ensure_expenses(session, case, spec, world, report)
    return _CaseRun(spec, case, _audited_events(session, case), spec.created)


def _awaits_minutes(session: Session, run: _CaseRun, world: _World) -> Meeting | None:
    """Return the meeting whose minutes are to decide the next step, if it is run as a meeting."""
    step = run.spec.steps[run.index]
    if not step.at_meeting or step.action == "edit":
        return None
    actor = _lookup(world.users, step.by, "Demobrugeren")
    meeting = _meeting_for(session, run.case, actor, step, run.index + 1, world)
    if meeting.id not in world.run_as_meeting:
        return None
    on_agenda = session.scalar(
        select(AgendaItem.id).where(
            AgendaItem.meeting_id == meeting.id,
            AgendaItem.case_id == run.case.id,
            AgendaItem.removed_at.is_(None),
            AgendaItem.event_id.is_(None),
        )
    )
    if meeting.status not in meetings.AGENDA_OPEN and on_agenda is None:
        # The minutes are written (e.g. a case added to the script later): decide directly.
        return None
    where = f"Demosag {run.spec.key}, trin {run.index + 1} ({step.action})"
    if step.data:
        raise DemoError(f"{where}: et referat kan ikke give data med; fjern 'data' fra trinnet.")
    if _outcome_for(run.case, step.action) is None:
        raise DemoError(
            f"{where}: intet udfald i referatet giver denne overgang; lad trinnet ske uden "
            f"for mødet, eller fjern mødet fra run_as_meeting i data/demo.toml."
        )
    return meeting


def _outcome_for(case: Case, trigger: str) -> Outcome | None:
    return next((o for o in OUTCOME_PREFERENCE if trigger_for(case, o) == trigger), None)


def _advance(session: Session, run: _CaseRun, world: _World, report: DemoReport) -> Meeting | None:
    """Play the case's steps until one awaits a meeting's minutes (returned) or all are done."""
    steps = run.spec.steps
    while run.index < len(steps):
        step = steps[run.index]
        if not step.audited:
            assert step.implementation is not None  # the only unaudited step
            _register_implementation(session, run.case, step.implementation, step.at, world, report)
        elif run.seen < run.done:
            run.seen += 1
            run.previous = step.at
        else:
            meeting = _awaits_minutes(session, run, world)
            if meeting is not None:
                return meeting
            run.previous = _perform_step(
                session, run.case, step, run.index + 1, world, run.previous
            )
            run.seen += 1
        run.index += 1
    return None


def _body_user(session: Session, world: _World, body_id: int, role: Role) -> User:
    """Return the first demo user holding `role` in the body."""
    held = set(
        session.scalars(
            select(Membership.user_id).where(
                Membership.body_id == body_id,
                Membership.role == role,
                Membership.active.is_(True),
            )
        )
    )
    for user in world.users.values():
        if user.id in held:
            return user
    body = session.get(Body, body_id)
    raise DemoError(f"{body.code if body else '?'} har ingen demobruger med rollen {role}.")


def _run_meeting(session: Session, meeting: Meeting, runs: list[_CaseRun], world: _World) -> None:
    """Run a meeting as its secretariat does: agenda, review, publishing, minutes, approval."""
    secretariat = _body_user(session, world, meeting.body_id, Role.SECRETARIAT)
    chair = _body_user(session, world, meeting.body_id, Role.CHAIR)
    steps = [run.spec.steps[run.index] for run in runs]
    decided = [
        _step_time(step, meeting, run.previous) for step, run in zip(steps, runs, strict=True)
    ]
    decided_at = max(decided, default=meeting.starts_at + timedelta(hours=1))
    # The material goes on the agenda ten days ahead, or as soon as the last case is ready.
    agenda_at = max(
        meeting.starts_at - timedelta(days=10),
        max((r.previous for r in runs), default=meeting.starts_at) + timedelta(minutes=1),
    )
    lead = max(min(timedelta(days=1), (meeting.starts_at - agenda_at) / 3), timedelta(0))
    held_at = max(meeting.starts_at, decided_at - timedelta(minutes=3))
    decided_at = max(decided_at, held_at + timedelta(minutes=2))
    items: dict[int, AgendaItem] = {
        item.case_id: item for item in meetings.active_items(meeting) if item.case_id
    }
    try:
        if meeting.status in meetings.AGENDA_OPEN:
            clock.set_time(agenda_at)
            for run in runs:
                if run.case.id not in items:
                    items[run.case.id] = agenda.add_case(session, meeting, run.case, secretariat)
        if meeting.status is MeetingStatus.PLANNED:
            clock.set_time(agenda_at + lead)
            meetings.step(session, meeting, "send_for_review", secretariat)
        if meeting.status is MeetingStatus.AGENDA_REVIEW:
            clock.set_time(agenda_at + 2 * lead)
            agenda.publish(session, meeting, chair)
        if meeting.status is MeetingStatus.PUBLISHED:
            clock.set_time(held_at)
            meetings.step(session, meeting, "hold", secretariat)
        if meeting.status is MeetingStatus.HELD:
            clock.set_time(held_at + timedelta(minutes=1))
            for step, run in zip(steps, runs, strict=True):
                outcome = _outcome_for(run.case, step.action)
                assert outcome is not None  # checked when the case stopped at the meeting
                minutes.record_outcome(
                    session, items[run.case.id], secretariat, outcome, step.comment or ""
                )
            clock.set_time(decided_at)
            result = minutes.approve_minutes(session, meeting, chair)
            if result.refused:
                problems = "; ".join(f"»{i.title}«: {i.transition_error}" for i in result.refused)
                raise DemoError(f"Referatet fra {meeting.title} kunne ikke gennemføres: {problems}")
        if meeting.status is MeetingStatus.MINUTES_APPROVED:
            clock.set_time(decided_at + timedelta(minutes=1))
            meetings.step(session, meeting, "close", secretariat)
    except WorkflowError as exc:
        raise DemoError(
            f"{meeting.title} ({local_date(meeting.starts_at)}): {exc.message}"
        ) from exc
    for run in runs:
        run.previous = decided_at
        run.seen += 1
        run.index += 1


def _build_cases(
    session: Session,
    script: DemoScript,
    world: _World,
    report: DemoReport,
    say: Callable[[str], None],
) -> list[int]:
    """Play every case; steps at a meeting run as a meeting wait for that meeting's minutes."""
    waiting: dict[int, list[_CaseRun]] = {}
    current_process = ""
    case_ids: list[int] = []

    def advance(run: _CaseRun) -> None:
        meeting = _advance(session, run, world, report)
        if meeting is not None:
            waiting.setdefault(meeting.id, []).append(run)

    for spec in script.cases:
        if spec.process != current_process:
            current_process = spec.process
            count = sum(1 for c in script.cases if c.process == spec.process)
            title = registry.latest(session, spec.process).title
            say(f"{title}: {count} sager …")
        run = _start_case(session, spec, world, report)
        case_ids.append(run.case.id)
        advance(run)
    # Earliest meeting first: every case deciding there has played its earlier steps by then.
    while waiting:
        meeting = min(
            session.scalars(select(Meeting).where(Meeting.id.in_(list(waiting)))),
            key=lambda m: m.starts_at,
        )
        runs = waiting.pop(meeting.id)
        say(
            f"{meeting.title} ({local_date(meeting.starts_at).isoformat()}): dagsorden og referat …"
        )
        _run_meeting(session, meeting, runs, world)
        for run in runs:
            advance(run)
    return case_ids


def _ensure_ad_hoc_groups(session: Session, script: DemoScript, world: _World) -> None:
    """Each ad hoc group, set up by the forum's chair on its day (once: by forum and name)."""
    for spec in script.ad_hoc_groups:
        forum = _lookup(world.bodies, spec.forum, "Forummet")
        exists = session.scalar(
            select(Body.id).where(Body.parent_id == forum.id, Body.name == spec.name)
        )
        if exists is not None:
            continue
        with clock.frozen_at(spec.on):
            group = organisation.set_up_ad_hoc_group(
                session, _lookup(world.users, spec.by, "Demobrugeren"), forum, name=spec.name,
                ends_on=spec.ends_on, task=spec.task,
            )  # fmt: skip
        world.bodies[group.code] = group


def _settle_notifications(
    session: Session, case_ids: list[int], after_id: int, today: datetime, report: DemoReport
) -> None:
    """Mark this run's notifications as sent, so the story mails no one; old ones are read."""
    with unit_of_work(session):
        pending = session.scalars(
            select(Notification).where(
                Notification.id > after_id,
                Notification.case_id.in_(case_ids),
                Notification.sent_at.is_(None),
                Notification.failed_at.is_(None),
            )
        )
        for notification in pending:
            notification.sent_at = notification.created_at
            if notification.created_at < today - READ_AFTER:
                notification.read_at = notification.created_at
            report.notifications += 1


def story_today(session: Session) -> datetime | None:
    """Return the demo's "today" if the database holds demo data (its audited build), else None.

    Whatever runs on the clock (the scheduler) must run on this date here, not the real one.
    """
    built = session.scalar(
        select(AdminAuditEntry)
        .where(AdminAuditEntry.action == "demo", AdminAuditEntry.object_type == "demo")
        .order_by(AdminAuditEntry.seq.desc())
        .limit(1)
    )
    if built is None:
        return None
    recorded = (built.data or {}).get("today")
    # A demo built before its date was recorded: the script's date is the story's.
    return datetime.fromisoformat(recorded) if recorded else load_script().today


def _count_events(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(CaseEvent)) or 0


def run(
    session: Session,
    progress: Callable[[str], None] | None = None,
    script: DemoScript | None = None,
) -> DemoReport:
    """Build the demo users, meetings and cases (idempotently) and report what was created."""
    say = progress or (lambda _message: None)
    started = timer.perf_counter()
    script = script or load_script()
    report = DemoReport(
        cases_in_script=len(script.cases),
        logins=[(p.email, PASSWORD, p.description) for p in script.people],
    )
    world = _load_world(session)
    events_before = _count_events(session)
    # Only the notifications this run writes are history; later real ones must still be sent.
    last_notification = session.scalar(select(func.max(Notification.id))) or 0
    with clock.frozen_at(script.epoch):
        say("Demobrugere og medlemskaber …")
        _ensure_people(session, script, world, report)
        _ensure_respondents(session, world, report)
        say("Mødekalender 2019-2021 …")
        _ensure_meetings(session, script, world, report)
        say("Indikatorer og regionens værdier …")
        _ensure_indicators(session, script, world)
        case_ids = _build_cases(session, script, world, report, say)
        say("Ad hoc-grupper under samarbejdsfora …")
        _ensure_ad_hoc_groups(session, script, world)
        say("Høringer hos kommunerne …")
        _ensure_consultation_rounds(session, script, world)
        say("Historiske notifikationer markeres som afsendt …")
        _settle_notifications(session, case_ids, last_notification, script.today, report)
    report.events = _count_events(session) - events_before
    if report.changed:
        with unit_of_work(session):
            admin_audit.record(
                session,
                action="demo", object_type="demo", object_id="data/demo.toml",
                data={"users": report.users, "meetings": report.meetings,
                      "cases": report.cases, "events": report.events,
                      "today": script.today.isoformat()},
            )  # fmt: skip
    report.seconds = timer.perf_counter() - started
    return report
