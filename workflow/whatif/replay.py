"""Replay a period's cases against a scenario and compare with what happened.

A pure computation over loaded rows: nothing is written and no transition is fired.

Each case's stays (state, entered, left) are walked in order. "Today" is the history as it
happened. In the draft:

- a stay its body decided at a meeting is treated at the first meeting of the body (in the
  draft's calendar) whose materialefrist (the draft's) the case reaches, plus as many meetings
  as it actually waited beyond its first reachable one (a postponement stays a postponement);
  the case then leaves the state as many working days after that meeting as it did after the
  real one;
- every other stay lasts as many working days as it did;
- the next stay begins where the draft's previous one ended.

Replaying without changes gives the history back exactly (tests/whatif checks it).
"""

from __future__ import annotations

import statistics
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from workflow.engine.calendar import end_of_day, local_date, subtract_days
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.definitions import ProcessDefinition, StateSpec, TransitionSpec
from workflow.whatif.history import BodyRow, CaseRow, History, MeetingRow
from workflow.whatif.scenario import MEETING_TIME, Scenario
from workflow.whatif.workdays import WorkingDays

DAY = 86400.0


class Calendar:
    """One body's meetings with their materialefrister, searched by bisection."""

    def __init__(self, body: BodyRow, meetings: Sequence[MeetingRow], material_days: int) -> None:
        self.meetings = list(meetings)
        self.starts = [m.starts_at for m in self.meetings]
        self.deadlines = [
            end_of_day(
                subtract_days(
                    local_date(m.starts_at), material_days, working_days=body.working_days
                )
            )
            for m in self.meetings
        ]
        self.position = {m.id: i for i, m in enumerate(self.meetings) if m.id is not None}

    def first_after(self, moment: datetime) -> int:
        """Index of the first meeting starting after `moment`."""
        return bisect_right(self.starts, moment)

    def reachable(self, moment: datetime) -> int:
        """Index of the first meeting after `moment` whose materialefrist has not passed."""
        return max(bisect_left(self.deadlines, moment), self.first_after(moment))

    def meetings_earlier(self, today: datetime, draft: datetime) -> int:
        """How many of these meetings earlier `draft` lies than `today` (negative: later):
        those from `draft` up to `today`, or after `today` up to `draft`."""
        if draft <= today:
            return bisect_left(self.starts, today) - bisect_left(self.starts, draft)
        return bisect_right(self.starts, today) - bisect_right(self.starts, draft)


@dataclass(frozen=True)
class Stay:
    """A case's time in one state, today or in the draft."""

    state: str
    body_id: int
    entered: datetime
    left: datetime | None
    # The meeting that treated it; for a stay still going on, the one it is planned for.
    meeting: MeetingRow | None = None
    missed_material: bool = False  # it arrived after the next meeting's materialefrist
    breached: bool = False  # it stayed past the state's own deadline

    @property
    def days(self) -> float | None:
        return None if self.left is None else (self.left - self.entered).total_seconds() / DAY


@dataclass(frozen=True)
class CaseReplay:
    case: CaseRow
    today: tuple[Stay, ...]
    draft: tuple[Stay, ...]
    # Why the draft could not be replayed to the end (a state or transition it lacks, a body
    # without a meeting late enough); empty when it could.
    stopped: str = ""


@dataclass(frozen=True)
class MovedTreatment:
    """A stay treated at another meeting in the draft: how many meetings earlier (negative:
    later), counted in the draft's calendar of the body."""

    case: CaseRow
    state: str
    body_code: str
    today: datetime
    draft: datetime
    meetings_earlier: int


@dataclass
class Figures:
    """Today's and the draft's values of one row."""

    today: list[float] = field(default_factory=list)
    draft: list[float] = field(default_factory=list)


@dataclass(frozen=True)
class Row:
    key: tuple[str, ...]
    today_count: int
    today_mean: float | None
    draft_count: int
    draft_mean: float | None

    @property
    def change(self) -> float | None:
        if self.today_mean is None or self.draft_mean is None:
            return None
        return round(self.draft_mean - self.today_mean, 1)


@dataclass(frozen=True)
class Comparison:
    """Today against the draft over the period's cases."""

    scenario: Scenario
    since: datetime
    now: datetime
    cases: int
    stopped: dict[str, int]
    stages: list[Row]  # key (process, state): days in the state
    bodies: list[Row]  # key (body code,): days a case spends with the body
    meetings: list[tuple[str, datetime, int, int]]  # body code, start, today, draft
    breaches: list[tuple[str, str, int, int]]  # process, state, today, draft
    material_missed: tuple[int, int]  # stays that missed the next meeting's materialefrist
    moved: list[MovedTreatment]

    @property
    def moved_earlier(self) -> list[MovedTreatment]:
        return [m for m in self.moved if m.meetings_earlier > 0]

    @property
    def moved_later(self) -> list[MovedTreatment]:
        return [m for m in self.moved if m.meetings_earlier < 0]

    @property
    def breach_totals(self) -> tuple[int, int]:
        return sum(b[2] for b in self.breaches), sum(b[3] for b in self.breaches)


class _World:
    """Bodies, calendars and definitions of one side (today or the draft)."""

    def __init__(self, history: History, scenario: Scenario | None) -> None:
        self.history = history
        self.codes = {b.code: b for b in history.bodies.values()}
        self.draft = scenario.draft if scenario else None
        material = dict(scenario.material_days) if scenario else {}
        calendars = dict(scenario.calendars) if scenario else {}
        self.calendars: dict[int, Calendar] = {}
        self._transitions: dict[int, dict[str, TransitionSpec]] = {}
        for body in history.bodies.values():
            meetings: Sequence[MeetingRow] = history.meetings.get(body.id, ())
            if body.code in calendars:
                meetings = [
                    MeetingRow(
                        body.id,
                        datetime.combine(day, MEETING_TIME, tzinfo=LOCAL_TZ).astimezone(UTC),
                    )
                    for day in calendars[body.code]
                ]
            days = material.get(body.code, body.material_deadline_days)
            self.calendars[body.id] = Calendar(body, meetings, days)

    def transitions(self, definition: ProcessDefinition) -> dict[str, TransitionSpec]:
        """The definition's transitions by trigger (looked up once per definition)."""
        found = self._transitions.get(id(definition))
        if found is None:
            found = self._transitions[id(definition)] = {
                t.trigger: t for t in definition.transitions
            }
        return found

    def definition(self, case: CaseRow) -> ProcessDefinition | None:
        if self.draft is not None and self.draft.name == case.process:
            return self.draft
        return self.history.definitions.get((case.process, case.version))

    def body_id(self, case: CaseRow, spec: StateSpec) -> int | None:
        if spec.body == "originating":
            return case.originating_body_id
        body = self.codes.get(spec.body)
        return body.id if body else None


def _awaits_meeting(spec: StateSpec) -> bool:
    """Whether a stay in the state waits for a meeting of its body."""
    return spec.awaits_meeting or (spec.deadline is not None and spec.deadline.kind == "material")


def _breached(
    spec: StateSpec, case: CaseRow, entered: datetime, left: datetime | None, now: datetime
) -> bool:
    """Whether the stay went past the state's own deadline (a material one is counted apart)."""
    rule = spec.deadline
    if rule is None:
        return False
    if rule.kind == "days_after_entry":
        due = end_of_day(local_date(entered) + timedelta(days=rule.days))
    elif rule.kind == "month_day" and case.plan_year is not None:
        month, day = (int(part) for part in rule.month_day.split("-"))
        due = end_of_day(date(case.plan_year + rule.year_offset, month, day))
    else:
        return False
    return (left or now) > due


def _planned(calendar: Calendar, entered: datetime, now: datetime) -> MeetingRow | None:
    """The meeting a case still waiting for its body is planned for: the first it reaches,
    if that lies ahead (a meeting held without deciding it leaves it unplanned)."""
    index = calendar.reachable(entered)
    if index < len(calendar.meetings) and calendar.meetings[index].starts_at > now:
        return calendar.meetings[index]
    return None


def _stays_today(world: _World, case: CaseRow, now: datetime) -> tuple[Stay, ...] | None:
    definition = world.definition(case)
    if definition is None:
        return None
    stays: list[Stay] = []
    for index, move in enumerate(case.moves):
        spec = definition.states.get(move.to_state)
        if spec is None:
            return None
        if spec.final:
            break
        body_id = world.body_id(case, spec)
        if body_id is None:
            return None
        following = case.moves[index + 1] if index + 1 < len(case.moves) else None
        left = following.at if following else None
        calendar = world.calendars[body_id]
        meeting = None
        if following is not None and following.meeting_id in calendar.position:
            meeting = calendar.meetings[calendar.position[following.meeting_id]]
        elif following is None and _awaits_meeting(spec):
            meeting = _planned(calendar, move.at, now)
        missed = _awaits_meeting(spec) and calendar.reachable(move.at) > calendar.first_after(
            move.at
        )
        stays.append(
            Stay(
                move.to_state, body_id, move.at, left, meeting, missed,
                _breached(spec, case, move.at, left, now),
            )
        )  # fmt: skip
    return tuple(stays)


def _replay_case(
    case: CaseRow,
    today: tuple[Stay, ...],
    now_world: _World,
    draft_world: _World,
    workdays: WorkingDays,
    now: datetime,
) -> CaseReplay:
    definition = draft_world.definition(case)
    today_definition = now_world.definition(case)
    assert definition is not None and today_definition is not None
    draft: list[Stay] = []
    entered = case.moves[0].at
    for index, stay in enumerate(today):
        spec = definition.states.get(stay.state)
        if spec is None:
            return CaseReplay(case, today, tuple(draft), "state")
        following = case.moves[index + 1] if index + 1 < len(case.moves) else None
        if following is not None and following.trigger in now_world.transitions(today_definition):
            step = draft_world.transitions(definition).get(following.trigger)
            if step is None or stay.state not in step.sources or step.dest != following.to_state:
                return CaseReplay(case, today, tuple(draft), "transition")
        body_id = draft_world.body_id(case, spec)
        if body_id is None:
            return CaseReplay(case, today, tuple(draft), "body")
        calendar = draft_world.calendars[body_id]
        missed = _awaits_meeting(spec) and calendar.reachable(entered) > calendar.first_after(
            entered
        )
        if stay.left is None:
            planned = _planned(calendar, entered, now) if _awaits_meeting(spec) else None
            draft.append(
                Stay(stay.state, body_id, entered, None, planned, missed,
                     _breached(spec, case, entered, None, now))
            )  # fmt: skip
            break
        shift = workdays.between(local_date(stay.entered), local_date(entered))
        left = workdays.shift(stay.left, shift)
        meeting: MeetingRow | None = None
        today_spec = today_definition.states[stay.state]
        # A decision the chairs took between meetings stays one; a step that did not await a
        # meeting but does in the draft waits for one.
        if _awaits_meeting(spec) and (stay.meeting is not None or not _awaits_meeting(today_spec)):
            target = calendar.reachable(entered)
            if stay.meeting is not None:
                today_calendar = now_world.calendars[stay.body_id]
                actual = today_calendar.position.get(stay.meeting.id or 0, 0)
                waited = actual - today_calendar.reachable(stay.entered)
                target = max(target + waited, calendar.first_after(entered))
            if target >= len(calendar.meetings):
                return CaseReplay(case, today, tuple(draft), "calendar")
            meeting = calendar.meetings[target]
            if stay.meeting is not None:
                after = workdays.between(
                    local_date(stay.meeting.starts_at), local_date(meeting.starts_at)
                )
                left = workdays.shift(stay.left, after)
            else:
                # A step that now awaits a meeting: at that meeting, or later if it took longer.
                left = max(left, meeting.starts_at)
        draft.append(
            Stay(stay.state, body_id, entered, left, meeting, missed,
                 _breached(spec, case, entered, left, now))
        )  # fmt: skip
        entered = left
    return CaseReplay(case, today, tuple(draft))


def _untouched(
    case: CaseRow, today: tuple[Stay, ...], scenario: Scenario, changed_bodies: set[int]
) -> bool:
    """Whether the case follows no definition the draft replaces and stays with no body whose
    materialefrist or calendar changes."""
    if scenario.draft is not None and scenario.draft.name == case.process:
        return False
    return not any(stay.body_id in changed_bodies for stay in today)


def replay(history: History, scenario: Scenario) -> Comparison:
    """Replay the history's cases against `scenario` and compare with what happened."""
    now = history.now
    now_world = _World(history, None)
    draft_world = _World(history, scenario)
    first = local_date(history.since) - timedelta(days=800)
    last = local_date(now) + timedelta(days=800)
    workdays = WorkingDays(first, last)
    replays: list[CaseReplay] = []
    stopped: dict[str, int] = defaultdict(int)
    codes = {*scenario.material_days, *scenario.calendars}
    changed_bodies = {b.id for b in history.bodies.values() if b.code in codes}
    for case in history.cases:
        if not case.moves:
            continue
        today = _stays_today(now_world, case, now)
        if today is None:
            stopped["history"] += 1
            continue
        if _untouched(case, today, scenario, changed_bodies):
            # Nothing the scenario changes concerns the case: its draft is its history.
            replays.append(CaseReplay(case, today, today))
            continue
        result = _replay_case(case, today, now_world, draft_world, workdays, now)
        if result.stopped:
            # Left out of both sides, so today and the draft compare the same cases.
            stopped[result.stopped] += 1
            continue
        replays.append(result)
    return _compare(history, scenario, replays, dict(stopped), draft_world)


def _mean(values: list[float]) -> float | None:
    return round(statistics.fmean(values), 1) if values else None


def _rows(groups: dict[tuple[str, ...], Figures]) -> list[Row]:
    return [
        Row(key, len(f.today), _mean(f.today), len(f.draft), _mean(f.draft))
        for key, f in sorted(groups.items())
    ]


def _compare(
    history: History,
    scenario: Scenario,
    replays: list[CaseReplay],
    stopped: dict[str, int],
    draft_world: _World,
) -> Comparison:
    bodies = history.bodies
    stages: dict[tuple[str, ...], Figures] = defaultdict(Figures)
    by_body: dict[tuple[str, ...], Figures] = defaultdict(Figures)
    meetings: dict[tuple[str, datetime], list[int]] = defaultdict(lambda: [0, 0])
    breaches: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    missed = [0, 0]
    moved: list[MovedTreatment] = []
    for result in replays:
        process = result.case.process
        for side, stays in ((0, result.today), (1, result.draft)):
            held: dict[str, float] = defaultdict(float)
            for stay in stays:
                code = bodies[stay.body_id].code
                days = stay.days
                if days is not None:
                    figures = stages[(process, stay.state)]
                    (figures.today if side == 0 else figures.draft).append(days)
                    held[code] += days
                if stay.meeting is not None:
                    meetings[(code, stay.meeting.starts_at)][side] += 1
                if stay.breached:
                    breaches[(process, stay.state)][side] += 1
                missed[side] += stay.missed_material
            for code, days in held.items():
                figures = by_body[(code,)]
                (figures.today if side == 0 else figures.draft).append(days)
        for before, after in zip(result.today, result.draft, strict=False):
            if before.meeting is None or after.meeting is None:
                continue
            if before.meeting.starts_at == after.meeting.starts_at:
                continue
            count = draft_world.calendars[after.body_id].meetings_earlier(
                before.meeting.starts_at, after.meeting.starts_at
            )
            moved.append(
                MovedTreatment(
                    result.case, before.state, bodies[after.body_id].code,
                    before.meeting.starts_at, after.meeting.starts_at, count,
                )
            )  # fmt: skip
    return Comparison(
        scenario=scenario,
        since=history.since,
        now=history.now,
        cases=len(replays),
        stopped=stopped,
        stages=_rows(stages),
        bodies=_rows(by_body),
        meetings=[(code, start, t, d) for (code, start), (t, d) in sorted(meetings.items())],
        breaches=[(p, s, t, d) for (p, s), (t, d) in sorted(breaches.items())],
        material_missed=(missed[0], missed[1]),
        moved=sorted(moved, key=lambda m: (m.today, m.case.id)),
    )
