"""A reorganisation plan (data/reorganisations/<name>.toml): read, validated, previewed.

A plan names its effective date, the organisation data set that is new from that date (new
bodies, parties and planning areas), the bodies that close the day before (each with its
successors), the surviving bodies placed under a new parent, optional moves of a process's
cases to another successor, what happens to the closing bodies' memberships and the meeting
series that start. `preview()` works out exactly what applying it would do and every gap that
would leave a case, a deadline or a membership without a home; `operations.apply_plan()`
applies a plan without gaps. Nothing here writes.
"""

from __future__ import annotations

import enum
import hashlib
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session, joinedload

from models import (
    Body,
    BodyKind,
    Case,
    Deadline,
    DeadlineKind,
    ImplementationStatus,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Party,
    PartyKind,
    PlanningArea,
    Reorganisation,
    Role,
    SeriesFrequency,
    User,
)
from workflow.cases import queries as case_queries
from workflow.engine import clock, deadlines
from workflow.engine import core as engine
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.errors import WorkflowError
from workflow.engine.paths import resource_dir
from workflow.engine.processes import registry
from workflow.meetings.operations import occurrences

PLAN_KEYS = {
    "name",
    "title",
    "effective",
    "approved",
    "approved_by",
    "organisation",
    "note",
    "close",
    "reparent",
    "moves",
    "memberships",
    "meeting_series",
    "rename",
    "end_parties",
    "end_planning_areas",
    "party_areas",
    "versions",
}
SERIES_KEYS = {"body", "first", "frequency", "interval", "count", "duration_minutes", "location"}
# Meetings not yet held: a closing body's ones on or after the effective date are cancelled.
OPEN_MEETING_STATUSES = (
    MeetingStatus.PLANNED,
    MeetingStatus.AGENDA_REVIEW,
    MeetingStatus.PUBLISHED,
)


class PlanError(WorkflowError):
    """A plan that cannot be read or applied; every problem is named, in Danish and English."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__(
            "Planen kan ikke bruges:\n" + "\n".join(f"- {da}" for da, _en in problems),
            "The plan cannot be used:\n" + "\n".join(f"- {en}" for _da, en in problems),
        )


@dataclass(frozen=True)
class CloseSpec:
    body: str
    successors: tuple[str, ...]


@dataclass(frozen=True)
class MoveRule:
    from_body: str
    to_body: str
    process: str | None = None
    planning_area: str | None = None


@dataclass(frozen=True)
class MembershipRule:
    from_body: str
    to_body: str | None  # None: the memberships end
    roles: tuple[Role, ...] = ()  # empty: every role

    def covers(self, role: Role) -> bool:
        return not self.roles or role in self.roles


@dataclass(frozen=True)
class VersionRule:
    """The in-flight cases of `process` move to its newest stored version; `states` maps a
    state to its name there (a state not listed keeps its name)."""

    process: str
    states: dict[str, str]


@dataclass(frozen=True)
class SeriesSpec:
    body: str
    first: datetime
    frequency: SeriesFrequency
    count: int
    interval: int = 1
    duration_minutes: int = 120
    location: str = ""


@dataclass(frozen=True)
class RenameSpec:
    body: str
    name: str
    name_en: str | None


@dataclass(frozen=True)
class Plan:
    """A reorganisation plan as read from its file."""

    name: str
    title: str
    effective: date
    approved: bool
    organisation: dict[str, Any]
    closes: tuple[CloseSpec, ...]
    reparent: dict[str, str]  # body code -> new parent code
    moves: tuple[MoveRule, ...]
    memberships: tuple[MembershipRule, ...]
    series: tuple[SeriesSpec, ...]
    renames: tuple[RenameSpec, ...]
    end_parties: tuple[str, ...]
    end_planning_areas: tuple[str, ...]
    digest: str
    source: str
    approved_by: str | None = None  # the admin the scheduler applies an approved plan as
    # party code -> the planning area it belongs to from the effective date
    party_areas: dict[str, str] = field(default_factory=dict)
    versions: tuple[VersionRule, ...] = ()

    @property
    def last_day(self) -> date:
        """The last day of the closing bodies."""
        return self.effective - timedelta(days=1)

    @property
    def closing(self) -> set[str]:
        return {spec.body for spec in self.closes}

    def new_codes(self, kind: str) -> set[str]:
        return {spec["code"] for spec in self.organisation.get(kind, [])}


def plans_dir() -> Path:
    return resource_dir("data") / "reorganisations"


def _problem(problems: list[tuple[str, str]], da: str, en: str) -> None:
    problems.append((da, en))


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def load_plan(path: Path) -> Plan:
    """Read and check a plan file's shape; raise PlanError naming every problem."""
    problems: list[tuple[str, str]] = []
    name = path.name
    try:
        raw_bytes = path.read_bytes()
        raw = tomllib.loads(raw_bytes.decode("utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise PlanError(
            [
                (
                    f"{name}: filen kan ikke læses ({error})",
                    f"{name}: the file cannot be read ({error})",
                )
            ]
        ) from error

    def need(key: str, kind: type, where: dict[str, Any], at: str) -> Any:
        value = where.get(key)
        if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
            _problem(
                problems,
                f"{name}: {at}{key} mangler eller har forkert type",
                f"{name}: {at}{key} is missing or has the wrong type",
            )
            return None
        return value

    for key in sorted(set(raw) - PLAN_KEYS):
        _problem(problems, f"{name}: ukendt nøgle '{key}'", f"{name}: unknown key '{key}'")
    plan_name = need("name", str, raw, "")
    effective = need("effective", date, raw, "")
    if isinstance(effective, datetime):
        _problem(
            problems,
            f"{name}: effective skal være en dato (fx 2027-01-01)",
            f"{name}: effective must be a date (e.g. 2027-01-01)",
        )
    organisation: dict[str, Any] = {}
    if "organisation" in raw:
        org_name = need("organisation", str, raw, "")
        if org_name:
            org_path = (path.parent / org_name).resolve()
            try:
                organisation = tomllib.loads(org_path.read_text("utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                _problem(
                    problems,
                    f"{name}: organisationen {org_name} kan ikke læses ({error})",
                    f"{name}: the organisation {org_name} cannot be read ({error})",
                )
            raw_bytes += org_path.read_bytes() if organisation else b""
    _check_organisation(name, organisation, problems)
    closes = []
    for index, spec in enumerate(_list(raw.get("close"))):
        body = need("body", str, spec, f"close[{index}].")
        successors = spec.get("successors", [])
        if not isinstance(successors, list) or not all(isinstance(c, str) for c in successors):
            _problem(
                problems,
                f"{name}: close[{index}].successors skal være en liste af koder",
                f"{name}: close[{index}].successors must be a list of codes",
            )
            successors = []
        if body:
            closes.append(CloseSpec(body, tuple(successors)))
    reparent: dict[str, str] = {}
    for index, spec in enumerate(_list(raw.get("reparent"))):
        parent = need("parent", str, spec, f"reparent[{index}].")
        for code in spec.get("bodies", []):
            if parent:
                reparent[str(code)] = parent
    party_areas: dict[str, str] = {}
    for index, spec in enumerate(_list(raw.get("party_areas"))):
        area = need("planning_area", str, spec, f"party_areas[{index}].")
        codes = spec.get("parties", [])
        if not isinstance(codes, list) or not all(isinstance(c, str) for c in codes):
            _problem(
                problems,
                f"{name}: party_areas[{index}].parties skal være en liste af koder",
                f"{name}: party_areas[{index}].parties must be a list of codes",
            )
            continue
        for code in codes:
            if area:
                party_areas[code] = area
    versions = []
    for index, spec in enumerate(_list(raw.get("versions"))):
        process = need("process", str, spec, f"versions[{index}].")
        state_map = spec.get("states", {})
        if not isinstance(state_map, dict) or not all(
            isinstance(value, str) for value in state_map.values()
        ):
            _problem(
                problems,
                f"{name}: versions[{index}].states skal være en tabel af tilstande",
                f"{name}: versions[{index}].states must be a table of states",
            )
            continue
        if process:
            versions.append(VersionRule(process, dict(state_map)))
    moves = []
    for index, spec in enumerate(_list(raw.get("moves"))):
        source, target = (
            need("from", str, spec, f"moves[{index}]."),
            need("to", str, spec, f"moves[{index}]."),
        )
        if source and target:
            moves.append(MoveRule(source, target, spec.get("process"), spec.get("planning_area")))
    memberships = []
    for index, spec in enumerate(_list(raw.get("memberships"))):
        source = need("from", str, spec, f"memberships[{index}].")
        target = spec.get("to")
        if (target is None) == (spec.get("end") is not True):
            _problem(
                problems,
                f'{name}: memberships[{index}] skal have enten to = "KODE" '
                "(videreføres) eller end = true (ophører)",
                f'{name}: memberships[{index}] needs either to = "CODE" (carried over) '
                "or end = true (ended)",
            )
            continue
        roles = []
        for role in spec.get("roles", []):
            try:
                roles.append(Role(role))
            except ValueError:
                _problem(
                    problems,
                    f"{name}: memberships[{index}]: ukendt rolle '{role}'",
                    f"{name}: memberships[{index}]: unknown role '{role}'",
                )
        if source:
            memberships.append(MembershipRule(source, target, tuple(roles)))
    series = []
    for index, spec in enumerate(_list(raw.get("meeting_series"))):
        at = f"meeting_series[{index}]."
        for key in sorted(set(spec) - SERIES_KEYS):
            _problem(problems, f"{name}: {at}{key} er ukendt", f"{name}: {at}{key} is unknown")
        body, first = need("body", str, spec, at), need("first", datetime, spec, at)
        count = need("count", int, spec, at)
        try:
            frequency = SeriesFrequency(spec.get("frequency", "monthly"))
        except ValueError:
            _problem(
                problems,
                f"{name}: {at}frequency skal være weekly eller monthly",
                f"{name}: {at}frequency must be weekly or monthly",
            )
            continue
        if body and first and count:
            if first.tzinfo is None:
                first = first.replace(tzinfo=LOCAL_TZ)
            series.append(
                SeriesSpec(
                    body,
                    first,
                    frequency,
                    count,
                    int(spec.get("interval", 1)),
                    int(spec.get("duration_minutes", 120)),
                    str(spec.get("location", "")),
                )
            )
    renames = []
    for index, spec in enumerate(_list(raw.get("rename"))):
        body, new_name = (
            need("body", str, spec, f"rename[{index}]."),
            need("name", str, spec, f"rename[{index}]."),
        )
        if body and new_name:
            renames.append(RenameSpec(body, new_name, spec.get("name_en")))
    ended: dict[str, tuple[str, ...]] = {}
    for key in ("end_parties", "end_planning_areas"):
        value = raw.get(key, [])
        if not isinstance(value, list) or not all(isinstance(c, str) for c in value):
            _problem(
                problems,
                f"{name}: {key} skal være en liste af koder",
                f"{name}: {key} must be a list of codes",
            )
            value = []
        ended[key] = tuple(value)
    approved_by = raw.get("approved_by")
    if raw.get("approved", False) not in (True, False):
        _problem(
            problems,
            f"{name}: approved skal være true eller false",
            f"{name}: approved must be true or false",
        )
    elif raw.get("approved") is True and not (isinstance(approved_by, str) and "@" in approved_by):
        _problem(
            problems,
            f'{name}: en godkendt plan skal have approved_by = "E-MAIL" (den administrator, '
            "som planlæggeren gennemfører planen som)",
            f'{name}: an approved plan needs approved_by = "E-MAIL" (the administrator the '
            "scheduler applies it as)",
        )
    if problems:
        raise PlanError(problems)
    assert isinstance(plan_name, str) and isinstance(effective, date)
    return Plan(
        name=plan_name,
        title=str(raw.get("title", plan_name)),
        effective=effective,
        approved=raw.get("approved") is True,
        organisation=organisation,
        closes=tuple(closes),
        reparent=reparent,
        moves=tuple(moves),
        memberships=tuple(memberships),
        series=tuple(series),
        renames=tuple(renames),
        end_parties=ended["end_parties"],
        end_planning_areas=ended["end_planning_areas"],
        digest=hashlib.sha256(raw_bytes).hexdigest(),
        source=str(path),
        approved_by=approved_by.strip().lower() if isinstance(approved_by, str) else None,
        party_areas=party_areas,
        versions=tuple(versions),
    )


ORGANISATION_KINDS: dict[str, type[enum.StrEnum] | None] = {
    "planning_areas": None,
    "parties": PartyKind,
    "bodies": BodyKind,
}


def _check_organisation(
    name: str, organisation: dict[str, Any], problems: list[tuple[str, str]]
) -> None:
    """The plan's new organisation: every row a code and a name, a known kind, dates as dates."""
    for key, kinds in ORGANISATION_KINDS.items():
        rows = organisation.get(key, [])
        if not isinstance(rows, list):
            problems.append(
                (
                    f"{name}: organisationens {key} skal være en liste",
                    f"{name}: the organisation's {key} must be a list",
                )
            )
            continue
        for index, row in enumerate(rows):
            at = f"{key}[{index}]"
            if not isinstance(row, dict) or not all(
                isinstance(row.get(part), str) and row.get(part) for part in ("code", "name")
            ):
                problems.append(
                    (
                        f"{name}: {at} skal have code og name",
                        f"{name}: {at} needs a code and a name",
                    )
                )
                continue
            if kinds is not None and row.get("kind") not in {k.value for k in kinds}:
                problems.append(
                    (
                        f"{name}: {at} ({row['code']}): ukendt art '{row.get('kind')}'; brug en af "
                        f"{', '.join(k.value for k in kinds)}",
                        f"{name}: {at} ({row['code']}): unknown kind '{row.get('kind')}'",
                    )
                )
            for key_name in ("valid_from", "valid_to"):
                value = row.get(key_name)
                if value is not None and (
                    not isinstance(value, date) or isinstance(value, datetime)
                ):
                    problems.append(
                        (
                            f"{name}: {at}.{key_name} skal være en dato (fx 2027-01-01)",
                            f"{name}: {at}.{key_name} must be a date (e.g. 2027-01-01)",
                        )
                    )


def find_plan(text: str) -> Path:
    """A plan's path from a file name or a plan name in data/reorganisations/."""
    path = Path(text)
    if path.is_file():
        return path
    candidate = plans_dir() / (text if text.endswith(".toml") else f"{text}.toml")
    if candidate.is_file():
        return candidate
    raise PlanError(
        [
            (
                f"Planen '{text}' findes ikke (hverken som fil eller i {plans_dir()})",
                f"The plan '{text}' does not exist (as a file or in {plans_dir()})",
            )
        ]
    )


# --- the preview ------------------------------------------------------------------------------


@dataclass
class CaseMove:
    case_id: int
    title: str
    process: str
    state: str
    from_body: str
    to_body: str
    from_origin: str
    to_origin: str
    deadline_before: datetime | None = None
    deadline_after: datetime | None = None


@dataclass
class Preview:
    """What applying the plan would do, and every gap that stops it."""

    plan: Plan
    already_applied: bool = False
    gaps: list[tuple[str, str]] = field(default_factory=list)
    new_bodies: list[str] = field(default_factory=list)
    new_parties: list[str] = field(default_factory=list)
    new_areas: list[str] = field(default_factory=list)
    closing: list[tuple[str, list[str]]] = field(default_factory=list)
    reparented: list[tuple[str, str | None, str]] = field(default_factory=list)
    # cases that move to their process's newest version first:
    # (case, process, version before, version after, state before, state after)
    versions_moved: list[tuple[int, str, int, int, str, str]] = field(default_factory=list)
    # parties that move to another planning area: (party, area before, area after)
    areas_moved: list[tuple[str, str | None, str]] = field(default_factory=list)
    moves: list[CaseMove] = field(default_factory=list)
    kept_closed: int = 0
    deadlines_moved: list[tuple[int, int, str, str]] = field(default_factory=list)
    units_moved: list[tuple[int, int, str, str]] = field(default_factory=list)
    memberships_carried: list[tuple[int, str, str, str, Role]] = field(default_factory=list)
    memberships_ended: list[tuple[int, str, str, Role]] = field(default_factory=list)
    series_ended: list[tuple[int, str, str]] = field(default_factory=list)
    meetings_cancelled: list[tuple[int, str, datetime]] = field(default_factory=list)
    series_started: list[SeriesSpec] = field(default_factory=list)
    notifications: Counter[str] = field(default_factory=Counter)

    @property
    def by_state_and_body(self) -> Counter[tuple[str, str, str, str]]:
        return Counter((m.process, m.state, m.from_body, m.to_body) for m in self.moves)


class _Org:
    """The organisation as it will be on the effective date, in memory (nothing is written)."""

    def __init__(self, session: Session, plan: Plan) -> None:
        self.bodies = {b.code: b for b in session.scalars(select(Body))}
        self.parent: dict[str, str | None] = {
            b.code: (b.parent.code if b.parent else None) for b in self.bodies.values()
        }
        area_codes = {
            b.planning_area_id: b.planning_area.code
            for b in self.bodies.values()
            if b.planning_area is not None
        }
        self.area: dict[str, str | None] = {
            b.code: area_codes.get(b.planning_area_id) for b in self.bodies.values()
        }
        for spec in plan.organisation.get("bodies", []):
            self.parent[spec["code"]] = spec.get("parent")
            self.area[spec["code"]] = spec.get("planning_area")
        self.parent.update(plan.reparent)
        self.successors = {spec.body: list(spec.successors) for spec in plan.closes}
        self.closing = plan.closing

    def known(self, code: str) -> bool:
        return code in self.parent

    def successor(self, code: str, held: tuple[str, str], origin: str) -> str | None:
        """The pure twin of engine.core.pick_successor/successor_for, on the planned data."""
        seen: set[str] = set()
        while code in self.closing and code not in seen:
            seen.add(code)
            candidates = self.successors.get(code, [])
            if not candidates:
                return None
            code = self._pick(candidates, held, origin)
        return code

    def _pick(self, candidates: list[str], held: tuple[str, str], origin: str) -> str:
        for code in held:
            if code in candidates:
                return code
        node: str | None = origin
        seen: set[str] = set()
        while node is not None and node not in seen:
            if node in candidates:
                return node
            seen.add(node)
            node = self.parent.get(node)
        area = self.area.get(origin)
        same = [c for c in candidates if area is not None and self.area.get(c) == area]
        return same[0] if same else candidates[0]


def _check_references(session: Session, plan: Plan, org: _Org, gaps: list[tuple[str, str]]) -> None:
    new_bodies = plan.new_codes("bodies")
    for code in sorted(plan.closing):
        if code not in org.bodies:
            gaps.append(
                (
                    f"Organet {code}, som skal lukkes, findes ikke",
                    f"The body {code} to be closed does not exist",
                )
            )
    named: list[tuple[str, str]] = []
    for spec in plan.closes:
        named += [(c, f"close {spec.body}") for c in spec.successors]
    named += [(p, f"reparent {c}") for c, p in plan.reparent.items()]
    named += [(c, f"reparent {c}") for c in plan.reparent]
    named += [(r.to_body, f"moves {r.from_body}") for r in plan.moves]
    named += [(r.to_body, f"memberships {r.from_body}") for r in plan.memberships if r.to_body]
    named += [(s.body, "meeting_series") for s in plan.series]
    named += [(r.body, "rename") for r in plan.renames]
    for code, where in named:
        if not org.known(code):
            gaps.append(
                (
                    f"{where}: organet {code} findes hverken i organisationen eller i planens "
                    "nye organisation",
                    f"{where}: the body {code} is neither in the organisation nor in the "
                    "plan's new organisation",
                )
            )
        elif code in plan.closing:
            gaps.append(
                (
                    f"{where}: organet {code} lukkes selv ved planen og kan ikke modtage noget",
                    f"{where}: the body {code} closes in this plan and cannot take anything over",
                )
            )
    party_codes = set(session.scalars(select(Party.code)))
    for code in plan.end_parties:
        if code not in party_codes:
            gaps.append(
                (
                    f"end_parties: parten {code} findes ikke",
                    f"end_parties: the party {code} does not exist",
                )
            )
    area_codes = set(session.scalars(select(PlanningArea.code)))
    for code in plan.end_planning_areas:
        if code not in area_codes:
            gaps.append(
                (
                    f"end_planning_areas: planområdet {code} findes ikke",
                    f"end_planning_areas: the planning area {code} does not exist",
                )
            )
    party_codes |= plan.new_codes("parties")
    known_area_codes = area_codes | plan.new_codes("planning_areas")
    for code, area in sorted(plan.party_areas.items()):
        if code not in party_codes:
            gaps.append(
                (
                    f"party_areas: parten {code} findes ikke",
                    f"party_areas: the party {code} does not exist",
                )
            )
        if area not in known_area_codes:
            gaps.append(
                (
                    f"party_areas: planområdet {area} findes ikke",
                    f"party_areas: the planning area {area} does not exist",
                )
            )
        elif area in plan.end_planning_areas:
            gaps.append(
                (
                    f"party_areas: planområdet {area} ophører ved planen",
                    f"party_areas: the planning area {area} ends in this plan",
                )
            )
    for rule in plan.moves:
        if rule.from_body not in plan.closing:
            gaps.append(
                (
                    f"moves: {rule.from_body} lukkes ikke ved planen; kun et lukket organs "
                    "sager flyttes",
                    f"moves: {rule.from_body} does not close in this plan; only a closed "
                    "body's cases move",
                )
            )
    known_areas = set(session.scalars(select(PlanningArea.code))) | plan.new_codes("planning_areas")
    for key in ("parties", "bodies"):
        for spec in plan.organisation.get(key, []):
            area = spec.get("planning_area")
            if area is not None and area not in known_areas:
                gaps.append(
                    (
                        f"{spec['code']}: planområdet {area} findes ikke",
                        f"{spec['code']}: the planning area {area} does not exist",
                    )
                )
    for spec in plan.organisation.get("bodies", []):
        parent = spec.get("parent")
        if parent is not None and not org.known(parent):
            gaps.append(
                (
                    f"{spec['code']}: det overordnede organ {parent} findes ikke",
                    f"{spec['code']}: the parent body {parent} does not exist",
                )
            )
    for spec in plan.organisation.get("bodies", []):
        existing = org.bodies.get(spec["code"])
        if existing is not None and spec["code"] in new_bodies and existing.valid_to is not None:
            gaps.append(
                (
                    f"Organet {spec['code']} findes og er lukket; en kode genbruges aldrig",
                    f"The body {spec['code']} exists and is closed; a code is never reused",
                )
            )


def _move_target(
    plan: Plan,
    org: _Org,
    case: Case,
    code: str,
    held: tuple[str, str],
    origin: str,
    origin_area: str | None,
) -> str | None:
    if code not in plan.closing:
        return code
    for rule in plan.moves:
        if rule.from_body != code:
            continue
        if rule.process is not None and rule.process != case.process:
            continue
        if rule.planning_area is not None and rule.planning_area != origin_area:
            continue
        return rule.to_body
    return org.successor(code, held, origin)


def _case_label(case: Case, body: str) -> tuple[str, str]:
    return (
        f"Sag #{case.id} '{case.title}' ({case.process}: {case.state}) hos {body}",
        f"Case #{case.id} '{case.title}' ({case.process}: {case.state}) held by {body}",
    )


def preview(session: Session, plan: Plan) -> Preview:
    """Work out what applying `plan` would do; gaps are listed, not raised."""
    result = Preview(plan)
    result.already_applied = (
        session.scalar(select(Reorganisation.id).where(Reorganisation.name == plan.name))
        is not None
    )
    org = _Org(session, plan)
    _check_references(session, plan, org, result.gaps)
    result.new_areas = sorted(
        plan.new_codes("planning_areas") - set(session.scalars(select(PlanningArea.code)))
    )
    result.new_bodies = sorted(plan.new_codes("bodies") - set(org.bodies))
    result.new_parties = sorted(
        plan.new_codes("parties") - set(session.scalars(select(Party.code)))
    )
    for spec in plan.closes:
        body = org.bodies.get(spec.body)
        if body is not None and body.valid_to is not None and body.valid_to < plan.effective:
            continue  # closed already (applied before)
        result.closing.append((spec.body, list(spec.successors)))
        if not spec.successors:
            result.gaps.append(
                (
                    f"Organet {spec.body} lukkes uden efterfølger: dets "
                    "procesroller (fx en tilstand hos organet) har intet hjem",
                    f"The body {spec.body} closes without a successor: its process "
                    "roles have no home",
                )
            )
    for code, parent in sorted(plan.reparent.items()):
        body = org.bodies.get(code)
        before = body.parent.code if body is not None and body.parent is not None else None
        if before != parent:
            result.reparented.append((code, before, parent))
    if plan.party_areas:
        for party in session.scalars(
            select(Party)
            .where(Party.code.in_(sorted(plan.party_areas)))
            .options(joinedload(Party.planning_area))
            .order_by(Party.code)
        ):
            before = party.planning_area.code if party.planning_area else None
            if before != plan.party_areas[party.code]:
                result.areas_moved.append((party.code, before, plan.party_areas[party.code]))
    if not result.already_applied:
        _versions(session, plan, result)
    closing_ids = {org.bodies[c].id: c for c in plan.closing if c in org.bodies}
    if result.already_applied or not closing_ids:
        return result

    known = case_queries.definitions(session)
    open_condition = case_queries.open_case_condition(known)
    held = Case.current_body_id.in_(closing_ids) | Case.originating_body_id.in_(closing_ids)
    codes = {b.id: b.code for b in org.bodies.values()}
    next_due: dict[int, datetime] = {}
    for case_id, due in session.execute(
        select(Deadline.case_id, Deadline.due_at)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            held,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
            Deadline.kind != DeadlineKind.FOLLOW_UP,
        )
        .order_by(Deadline.due_at.desc())
    ):
        next_due[case_id] = due
    moved_ids: set[int] = set()
    now = clock.now()
    material: dict[str, datetime | None] = {}
    for case in session.scalars(select(Case).where(held, open_condition).order_by(Case.id)):
        current, origin = codes[case.current_body_id], codes[case.originating_body_id]
        pair = (current, origin)
        origin_area = org.area.get(origin)
        to_origin = _move_target(plan, org, case, origin, pair, origin, origin_area)
        to_current = _move_target(plan, org, case, current, pair, origin, origin_area)
        if to_origin is None or to_current is None:
            missing = current if to_current is None else origin
            da, en = _case_label(case, missing)
            result.gaps.append(
                (
                    f"{da}: intet organ overtager sagen fra {missing}",
                    f"{en}: no body takes the case over from {missing}",
                )
            )
            continue
        moved_ids.add(case.id)
        upcoming = _recomputed_due(
            session, plan, org, case, to_current, next_due.get(case.id), now, material
        )
        result.moves.append(
            CaseMove(
                case.id,
                case.title,
                case.process,
                case.state,
                current,
                to_current,
                origin,
                to_origin,
                next_due.get(case.id),
                upcoming,
            )
        )
    result.kept_closed = (
        session.scalar(select(func.count(Case.id)).where(held, ~open_condition)) or 0
    )
    _deadlines(session, plan, org, closing_ids, moved_ids, result)
    _units(session, org, closing_ids, open_condition, result)
    _memberships(session, plan, closing_ids, result)
    _meetings(session, plan, closing_ids, result)
    _notifications(session, plan, org, result)
    result.series_started = list(plan.series)
    return result


def _versions(session: Session, plan: Plan, result: Preview) -> None:
    """The in-flight cases each [[versions]] rule moves to its process's newest version; a
    state the new version lacks is a gap."""
    known = case_queries.definitions(session)
    for rule in plan.versions:
        try:
            newest = registry.latest(session, rule.process)
        except LookupError:
            result.gaps.append(
                (
                    f"versions: processen {rule.process} findes ikke",
                    f"versions: the process {rule.process} does not exist",
                )
            )
            continue
        for case in session.scalars(
            select(Case)
            .where(
                Case.process == rule.process,
                Case.process_version < newest.version,
                case_queries.open_case_condition(known),
            )
            .order_by(Case.id)
        ):
            target = rule.states.get(case.state, case.state)
            if target not in newest.states:
                da, en = _case_label(case, f"version {case.process_version}")
                result.gaps.append(
                    (
                        f"{da}: tilstanden {target} findes ikke i version "
                        f"{newest.version}; afbild {case.state} i versions.states",
                        f"{en}: the state {target} does not exist in version "
                        f"{newest.version}; map {case.state} in versions.states",
                    )
                )
                continue
            result.versions_moved.append(
                (case.id, case.process, case.process_version, newest.version, case.state, target)
            )


def _recomputed_due(
    session: Session,
    plan: Plan,
    org: _Org,
    case: Case,
    target: str,
    before: datetime | None,
    now: datetime,
    material: dict[str, datetime | None],
) -> datetime | None:
    """The case's state deadline after the move: a deadline counted from the state's entry
    keeps its day; a material deadline follows the new body's first reachable meeting (one
    planned already, or one of the plan's new series)."""
    rule = engine.definition_of(case).states[case.state].deadline
    if rule is None:
        return None
    if rule.kind != "material":
        return before
    if target not in material:
        material[target] = _first_material_deadline(session, plan, org, target, now)
    return material[target]


def _first_material_deadline(
    session: Session, plan: Plan, org: _Org, target: str, now: datetime
) -> datetime | None:
    body = org.bodies.get(target)
    if body is None:
        spec = next(s for s in plan.organisation.get("bodies", []) if s["code"] == target)
        body = Body(
            code=target,
            name=str(spec.get("name", target)),
            material_deadline_days=int(spec.get("material_deadline_days", 7)),
            material_deadline_working_days=bool(spec.get("working_days", False)),
            formandskab_decides=bool(spec.get("formandskab_decides", False)),
        )
    candidates: list[datetime] = []
    if body.id is not None:
        meeting = deadlines.reachable_meeting(session, body, now)
        if meeting is not None:
            candidates.append(deadlines.material_deadline(meeting, body))
    for series in plan.series:
        if series.body == target:
            for start in occurrences(series.first, series.frequency, series.interval, series.count):
                due = deadlines.material_deadline(Meeting(starts_at=start), body)
                if due >= now:
                    candidates.append(due)
                    break
    return min(candidates) if candidates else None


def _deadlines(
    session: Session,
    plan: Plan,
    org: _Org,
    closing_ids: dict[int, str],
    moved: set[int],
    result: Preview,
) -> None:
    """Open deadlines of closing bodies that moving the case does not rebuild (the follow-ups
    of a case in implementation, moved or not, and any deadline of a case that stays) go to
    the case's successor body; one without a successor is a gap."""
    codes = {b.id: b.code for b in org.bodies.values()}
    rows = session.execute(
        select(Deadline, Case)
        .join(Case, Case.id == Deadline.case_id)
        .where(
            Deadline.body_id.in_(closing_ids),
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
        .order_by(Deadline.id)
    ).all()
    for deadline, case in rows:
        if case.id in moved and deadline.kind != DeadlineKind.FOLLOW_UP:
            continue  # the state's deadline is recomputed with the case; follow-ups are not
        code = closing_ids[deadline.body_id]
        pair = (codes[case.current_body_id], codes[case.originating_body_id])
        target = org.successor(code, pair, pair[1])
        if target is None:
            result.gaps.append(
                (
                    f"Fristen #{deadline.id} ({deadline.kind}) på sag #{case.id} hos {code} "
                    "har intet hjem",
                    f"Deadline #{deadline.id} ({deadline.kind}) on case #{case.id} at {code} "
                    "has no home",
                )
            )
            continue
        result.deadlines_moved.append((deadline.id, case.id, code, target))


def _units(
    session: Session,
    org: _Org,
    closing_ids: dict[int, str],
    open_condition: ColumnElement[bool],
    result: Preview,
) -> None:
    """Implementation units of open cases answered for by a closing body go to its successor."""
    codes = {b.id: b.code for b in org.bodies.values()}
    rows = session.execute(
        select(ImplementationStatus.id, ImplementationStatus.responsible_body_id, Case)
        .join(Case, Case.id == ImplementationStatus.case_id)
        .where(ImplementationStatus.responsible_body_id.in_(closing_ids), open_condition)
        .order_by(ImplementationStatus.id)
    ).all()
    for unit_id, body_id, case in rows:
        code = closing_ids[body_id]
        pair = (codes[case.current_body_id], codes[case.originating_body_id])
        target = org.successor(code, pair, pair[1])
        if target is None:
            result.gaps.append(
                (
                    f"Implementeringsenheden #{unit_id} på sag #{case.id} hos {code} "
                    "har intet hjem",
                    f"Implementation unit #{unit_id} on case #{case.id} at {code} has no home",
                )
            )
            continue
        result.units_moved.append((unit_id, case.id, code, target))


def _memberships(
    session: Session, plan: Plan, closing_ids: dict[int, str], result: Preview
) -> None:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.body_id.in_(closing_ids), Membership.active)
        .order_by(Membership.body_id, Membership.role, User.name)
    ).all()
    for membership, user in rows:
        if membership.until is not None and membership.until < plan.effective:
            continue
        code = closing_ids[membership.body_id]
        rule = next(
            (r for r in plan.memberships if r.from_body == code and r.covers(membership.role)),
            None,
        )
        if rule is None:
            result.gaps.append(
                (
                    f"Medlemskabet {user.name} ({membership.role}) i {code} er hverken videreført "
                    "eller afsluttet i planen",
                    f"The membership {user.name} ({membership.role}) in {code} is neither carried "
                    "over nor ended in the plan",
                )
            )
        elif rule.to_body is None:
            result.memberships_ended.append((membership.id, user.name, code, membership.role))
        else:
            result.memberships_carried.append(
                (membership.id, user.name, code, rule.to_body, membership.role)
            )


def _notifications(session: Session, plan: Plan, org: _Org, result: Preview) -> None:
    """Count the mails a move sends: one per moved case to each chair and secretary of the
    body it arrives in (its current ones and those carried over)."""
    telling = (Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARIAT)
    recipients: dict[str, set[int]] = {}
    for code, body in org.bodies.items():
        if code in plan.closing:
            continue
        recipients[code] = set(
            session.scalars(
                select(Membership.user_id)
                .join(User, User.id == Membership.user_id)
                .where(
                    Membership.body_id == body.id,
                    Membership.active,
                    User.active,
                    Membership.role.in_(telling),
                )
            )
        )
    for membership_id, _name, _from, to_body, role in result.memberships_carried:
        if role in telling:
            user_id = session.get(Membership, membership_id)
            if user_id is not None:
                recipients.setdefault(to_body, set()).add(user_id.user_id)
    for move in result.moves:
        if move.to_body != move.from_body:
            result.notifications[move.to_body] += len(recipients.get(move.to_body, set()))


def _meetings(session: Session, plan: Plan, closing_ids: dict[int, str], result: Preview) -> None:
    for series in session.scalars(
        select(MeetingSeries)
        .where(MeetingSeries.body_id.in_(closing_ids))
        .order_by(MeetingSeries.id)
    ):
        if series.valid_to is None or series.valid_to >= plan.effective:
            result.series_ended.append((series.id, closing_ids[series.body_id], series.title))
    start = datetime.combine(plan.effective, datetime.min.time(), LOCAL_TZ)
    for meeting in session.scalars(
        select(Meeting)
        .where(
            Meeting.body_id.in_(closing_ids),
            Meeting.starts_at >= start,
            Meeting.status.in_(OPEN_MEETING_STATUSES),
        )
        .order_by(Meeting.starts_at)
    ):
        result.meetings_cancelled.append(
            (meeting.id, closing_ids[meeting.body_id], meeting.starts_at)
        )


def describe(result: Preview) -> list[str]:
    """The dry run's report, line by line (Danish, the command line's language)."""
    plan = result.plan
    lines = [f"Reorganisering '{plan.name}': {plan.title}", f"Gælder fra {plan.effective}."]
    if result.already_applied:
        return [*lines, "Planen er allerede gennemført; intet ændres."]
    lines.append(
        f"Nye organer: {len(result.new_bodies)}, nye parter: {len(result.new_parties)}, "
        f"nye planområder: {len(result.new_areas)}."
    )
    lines += [
        f"Lukker {code} pr. {plan.last_day} → {', '.join(s) or '-'}" for code, s in result.closing
    ]
    lines += [
        f"Flyttes under et nyt organ: {c} ({b or '-'} → {a})" for c, b, a in result.reparented
    ]
    lines += [f"Skifter planområde: {c} ({b or '-'} → {a})" for c, b, a in result.areas_moved]
    lines += [f"Skifter navn: {r.body} → {r.name}" for r in plan.renames]
    lines += [f"Parten {code} udtræder pr. {plan.last_day}" for code in plan.end_parties]
    lines += [f"Planområdet {code} ophører pr. {plan.last_day}" for code in plan.end_planning_areas]
    if result.versions_moved:
        lines.append(
            f"Sager, der går over til procesens nyeste version: {len(result.versions_moved)}"
        )
        lines += [
            f"  sag #{c} ({p}): version {v1} → {v2}, {s1} → {s2}"
            for c, p, v1, v2, s1, s2 in result.versions_moved
        ]
    lines.append(f"Åbne sager, der flyttes: {len(result.moves)}")
    for (process, state, old, new), count in sorted(result.by_state_and_body.items()):
        lines.append(f"  {count:>6} × {process}: {state}  {old} → {new}")
    for move in result.moves:
        before = f"{move.deadline_before:%Y-%m-%d}" if move.deadline_before else "ingen"
        after = (
            f"{move.deadline_after:%Y-%m-%d}"
            if move.deadline_after
            else f"sættes, når {move.to_body} har et møde planlagt"
        )
        due = f", frist {before} → {after}" if move.deadline_before or move.deadline_after else ""
        origin = (
            f", rejst af {move.from_origin} → {move.to_origin}"
            if (move.from_origin != move.to_origin)
            else ""
        )
        lines.append(
            f"  sag #{move.case_id} ({move.process}: {move.state}): {move.from_body} → "
            f"{move.to_body}{origin}{due}"
        )
    lines.append(f"Lukkede sager, der bliver under deres organ med historik: {result.kept_closed}")
    lines += [
        f"Frist #{d} på sag #{c} flyttes {old} → {new}" for d, c, old, new in result.deadlines_moved
    ]
    if result.units_moved:
        lines.append(
            f"Implementeringsenheder, der får et nyt ansvarligt organ: {len(result.units_moved)}"
        )
    lines.append(
        f"Medlemskaber: {len(result.memberships_carried)} videreføres, "
        f"{len(result.memberships_ended)} ophører"
    )
    lines += [f"  {n} ({r}) {old} → {new}" for _i, n, old, new, r in result.memberships_carried]
    lines += [f"  {n} ({r}) i {old} ophører" for _i, n, old, r in result.memberships_ended]
    lines += [
        f"Mødeserie #{i} for {code} ({t or '-'}) slutter" for i, code, t in result.series_ended
    ]
    lines += [
        f"Møde #{i} i {code} {starts:%Y-%m-%d} aflyses"
        for i, code, starts in result.meetings_cancelled
    ]
    lines += [
        f"Ny mødeserie for {s.body}: {s.count} møder fra {s.first:%Y-%m-%d %H:%M} ({s.frequency})"
        for s in result.series_started
    ]
    total = sum(result.notifications.values())
    lines.append(f"Underretninger, der sendes: {total}")
    lines += [
        f"  {count} til formandskab og sekretariat i {code}"
        for code, count in sorted(result.notifications.items())
    ]
    if result.gaps:
        lines.append(f"Planen kan IKKE gennemføres: {len(result.gaps)} mangler et hjem:")
        lines += [f"  - {da}" for da, _en in result.gaps]
    else:
        lines.append("Planen kan gennemføres: alle sager, frister og medlemskaber har et hjem.")
    return lines


# --- plans the scheduler applies ------------------------------------------------------------


def approved_plans(directory: Path | None = None) -> list[Path | PlanError]:
    """The plan files in `directory` (data/reorganisations/ by default) marked approved, by
    name; a file that cannot even be read is returned as its error. Drafts (approved = false)
    are not read further, so a half-written draft never troubles the scheduler."""
    found: list[Path | PlanError] = []
    folder = directory or plans_dir()
    if not folder.is_dir():
        return found
    for path in sorted(folder.glob("*.toml")):
        try:
            raw = tomllib.loads(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
            found.append(
                PlanError(
                    [
                        (
                            f"{path.name}: filen kan ikke læses ({error})",
                            f"{path.name}: the file cannot be read ({error})",
                        )
                    ]
                )
            )
            continue
        if raw.get("approved") is True:
            found.append(path)
    return found
