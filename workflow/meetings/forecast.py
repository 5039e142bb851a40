"""Earliest decision forecast: when a case can at the earliest be treated by TSS and decided by SKU.

The forecast walks the shortest path in the case's process definition from its current state
to the SKU decision that carries it forward (the approval). A decision of a fixed body (TSS,
SKU) is taken at one of its meetings, and the case must be in that body's state by the
meeting's material deadline (materialefrist). Other steps, such as a samordningsudvalg's
recommendation, can be taken at once, but no later than the next material deadline on the
path. Guards that would refuse a step are reported with the step, so the user sees what must
happen first.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from models import Body, Case, CaseEvent, Meeting, MeetingStatus
from workflow.cases.rules import FRAMED_BY_TSS
from workflow.engine import core as engine
from workflow.engine.deadlines import material_deadline
from workflow.engine.definitions import ProcessDefinition, StateSpec, TransitionSpec
from workflow.engine.guards import GUARDS, Failure, GuardContext
from workflow.engine.processes import registry

# The guard of the steps only a cluster's own development task takes (workflow/cases/rules.py).
OWN_INITIATIVE = "own_initiative"

# The deciding body as the process definitions name it (a state's `body`); the meetings that
# count are those of the body doing its work for the case on the day: after a reorganisation
# that closed SKU, its successor's (engine.core.successor_for).
DECIDING_BODY = "SKU"
# Meetings further ahead than this are not looked at: a calendar is planned a year or two out.
HORIZON = timedelta(days=3 * 366)


class Outcome(enum.StrEnum):
    """How far the forecast reaches."""

    PLANNED = "planned"  # every meeting on the path is in the calendar
    NO_MEETING = "no_meeting"  # a body on the path has no meeting late enough
    NO_DECISION = "no_decision"  # no SKU decision lies ahead of the case


class NoDecisionReason(enum.StrEnum):
    """Why no SKU decision lies ahead."""

    FINAL = "final"  # the case is closed
    NOT_ON_PATH = "not_on_path"  # decided already, or the process has no SKU decision


@dataclass(frozen=True)
class Step:
    """One transition on the path to the decision, with when it can happen at the earliest."""

    transition: TransitionSpec
    state: StateSpec  # the state the case leaves
    body: Body  # the body whose state it is
    at_meeting: bool  # a decision of a fixed body: taken at one of its meetings
    happens_at: datetime | None  # the earliest moment; None if no meeting is planned
    meeting: Meeting | None = None  # at_meeting: the meeting that decides
    material_deadline: datetime | None = None  # at_meeting: the case must be in `state` by then
    missed: Meeting | None = None  # the next meeting, whose material deadline the case missed
    due_by: datetime | None = None  # not at_meeting: the next meeting's material deadline
    due_for: Step | None = None  # not at_meeting: the meeting step `due_by` belongs to
    blockers: tuple[Failure, ...] = ()  # rules that would refuse the step as the case is now


@dataclass(frozen=True)
class Forecast:
    """The path to the SKU decision and when each step can happen at the earliest."""

    outcome: Outcome
    steps: tuple[Step, ...] = ()
    reason: NoDecisionReason | None = None
    waiting_body: Body | None = None  # NO_MEETING: the body without a late enough meeting
    waiting_after: datetime | None = None  # NO_MEETING: the case is ready for it from then

    @property
    def decision(self) -> Step | None:
        """The SKU decision step, when its meeting is known."""
        if self.outcome != Outcome.PLANNED or not self.steps:
            return None
        return self.steps[-1]

    @property
    def meeting_steps(self) -> list[Step]:
        """The steps taken at a planned meeting, in order."""
        return [s for s in self.steps if s.at_meeting and s.meeting is not None]

    def first_meeting_of(self, code: str) -> Step | None:
        """The first planned meeting step of the body with `code`, e.g. TSS."""
        return next((s for s in self.meeting_steps if s.body.code == code), None)

    @property
    def blockers(self) -> list[tuple[Step, Failure]]:
        """Every rule that must be met first, with the step that needs it."""
        return [(step, failure) for step in self.steps for failure in step.blockers]


def forecast(session: Session, case: Case, now: datetime) -> Forecast:
    """Forecast the earliest dates the case can be treated by TSS and decided by SKU."""
    definition = registry.get(session, case.process, case.process_version)
    if definition.states[case.state].final:
        return Forecast(Outcome.NO_DECISION, reason=NoDecisionReason.FINAL)
    path = decision_path(definition, case.state, framed=_framed(session, case, definition))
    if path is None:
        return Forecast(Outcome.NO_DECISION, reason=NoDecisionReason.NOT_ON_PATH)
    sources = _sources(case.state, path)
    bodies = _bodies(session, case, definition, sources)
    meeting_bodies = {
        bodies[source].id
        for source, transition in zip(sources, path, strict=True)
        if is_meeting_step(definition.states[source], transition)
    }
    calendar = _calendar(session, meeting_bodies, now)
    return _walk(session, case, definition, path, sources, bodies, calendar, now)


def is_meeting_step(state: StateSpec, transition: TransitionSpec) -> bool:
    """A decision leaving a fixed body's state (TSS, SKU) is taken at that body's meeting."""
    return transition.decision and state.body != "originating"


def _depths(definition: ProcessDefinition) -> dict[str, int]:
    """How many transitions each state lies from the initial state."""
    depth = {definition.initial: 0}
    queue = deque([definition.initial])
    while queue:
        state = queue.popleft()
        for transition in definition.transitions_from(state):
            if transition.dest not in depth:
                depth[transition.dest] = depth[state] + 1
                queue.append(transition.dest)
    return depth


def _reachable(definition: ProcessDefinition, state: str) -> set[str]:
    """The states a case in `state` can still come to."""
    seen = {state}
    queue = deque([state])
    while queue:
        for transition in definition.transitions_from(queue.popleft()):
            if transition.dest not in seen:
                seen.add(transition.dest)
                queue.append(transition.dest)
    return seen


def decision_transitions(definition: ProcessDefinition) -> list[TransitionSpec]:
    """The SKU decisions that carry a case forward: approvals, not rejections or returns.

    A decision carries the case forward when it leads to a state that is not final and from
    which the case cannot come back to SKU's state (a return to TSS can).
    """
    return [
        t
        for t in definition.transitions
        if t.decision
        and not definition.states[t.dest].final
        and any(
            definition.states[s].body == DECIDING_BODY and s not in _reachable(definition, t.dest)
            for s in t.sources
        )
    ]


# The forecast's statements, built once: every open case's page asks them.
_FRAMED = (
    select(CaseEvent.id)
    .where(CaseEvent.case_id == bindparam("case_id"), CaseEvent.trigger == FRAMED_BY_TSS)
    .limit(1)
)
_BODIES = select(Body).where(Body.code.in_(bindparam("codes", expanding=True)))
_CALENDAR = (
    select(Meeting)
    .where(
        Meeting.body_id.in_(bindparam("body_ids", expanding=True)),
        Meeting.starts_at > bindparam("now"),
        Meeting.starts_at <= bindparam("horizon"),
        Meeting.status != MeetingStatus.CANCELLED,
    )
    .order_by(Meeting.starts_at, Meeting.id)
)


def _framed(session: Session, case: Case, definition: ProcessDefinition) -> bool:
    """Whether TSS approved the case's assignment frame (a development task, type B)."""
    if case.id is None:
        return False
    if not any(OWN_INITIATIVE in t.guards for t in definition.transitions):
        return False  # the frame changes no path of this process: no need to ask
    return session.scalar(_FRAMED, {"case_id": case.id}) is not None


def decision_path(
    definition: ProcessDefinition, state: str, *, framed: bool = False
) -> list[TransitionSpec] | None:
    """The shortest path from `state` through the last SKU decision ahead, or None.

    Of several SKU decisions ahead (the implementation plan's first discussion and its
    adoption), the one farthest along the process is the decision the forecast is for.
    A development task TSS framed (`framed`, or a path through TSS' approval of the frame)
    goes back to TSS through the comment round: the path leaves out the steps only a
    cluster's own task takes (guard own_initiative), which would refuse it.
    """
    depth = _depths(definition)
    # Each state reached, with the transition and the state it was reached from.
    previous: dict[str, tuple[TransitionSpec, str] | None] = {state: None}
    # Whether the path to each state reached has TSS' frame behind it.
    framed_at = {state: framed}
    queue = deque([state])
    while queue:
        current = queue.popleft()
        for transition in definition.transitions_from(current):
            dest = transition.dest
            if transition.automatic_only or dest in previous or definition.states[dest].final:
                continue
            if framed_at[current] and OWN_INITIATIVE in transition.guards:
                continue
            previous[dest] = (transition, current)
            framed_at[dest] = framed_at[current] or transition.trigger == FRAMED_BY_TSS
            queue.append(dest)
    reachable = [
        (depth[goal.dest], -index, goal, source)
        for index, goal in enumerate(decision_transitions(definition))
        for source in goal.sources
        if source in previous
    ]
    if not reachable:
        return None
    _depth, _order, goal, source = max(reachable, key=lambda item: (item[0], item[1]))
    path = [goal]
    while (link := previous[source]) is not None:
        transition, source = link
        path.append(transition)
    path.reverse()
    return path


def _sources(state: str, path: Sequence[TransitionSpec]) -> list[str]:
    """The state each transition of the path leaves."""
    sources = [state]
    for transition in path[:-1]:
        sources.append(transition.dest)
    return sources


def _bodies(
    session: Session, case: Case, definition: ProcessDefinition, sources: Sequence[str]
) -> dict[str, Body]:
    """The body of each state on the path, in one query."""
    codes = {definition.states[s].body for s in sources} - {"originating"}
    by_code = {
        b.code: b for b in session.scalars(_BODIES, {"codes": sorted(codes)})
    } if codes else {}  # fmt: skip
    originating = session.get(Body, case.originating_body_id)
    assert originating is not None  # a foreign key
    found: dict[str, Body] = {}
    for source in sources:
        ref = definition.states[source].body
        body = originating if ref == "originating" else by_code.get(ref)
        if body is None:
            raise LookupError(f"Organet '{ref}' findes ikke; kør 'aftaleflow seed'.")
        found[source] = engine.successor_for(session, case, body)
    return found


def _calendar(session: Session, body_ids: set[int], now: datetime) -> dict[int, list[Meeting]]:
    """The bodies' meetings that are not cancelled, from now to the horizon, in one query."""
    calendar: dict[int, list[Meeting]] = {body_id: [] for body_id in body_ids}
    if not body_ids:
        return calendar
    meetings = session.scalars(
        _CALENDAR, {"body_ids": sorted(body_ids), "now": now, "horizon": now + HORIZON}
    )
    for meeting in meetings:
        calendar[meeting.body_id].append(meeting)
    return calendar


def _failures(session: Session, case: Case, names: Sequence[str], at: datetime) -> list[Failure]:
    """The guards among `names` that fail for the case at time `at`."""
    context = GuardContext(case, None, session, at)
    return [f for name in names if (f := GUARDS[name](context)) is not None]


@dataclass(frozen=True)
class _Choice:
    meeting: Meeting | None
    missed: Meeting | None
    failures: list[Failure]


def _choose_meeting(
    session: Session,
    case: Case,
    transition: TransitionSpec,
    body: Body,
    meetings: Sequence[Meeting],
    entered: datetime,
    ready: datetime,
) -> _Choice:
    """The first meeting after `ready` whose material deadline the case (in by `entered`) meets.

    A rule that fails at that meeting but holds at the last planned one depends on the date
    (the implementation plan waits for the budgets): the decision then moves to the first
    meeting at which it holds.
    """
    upcoming = [m for m in meetings if m.starts_at > ready]
    eligible = [m for m in upcoming if material_deadline(m, body) >= entered]
    missed = upcoming[0] if upcoming and (not eligible or upcoming[0] is not eligible[0]) else None
    if not eligible:
        return _Choice(None, missed, _failures(session, case, transition.guards, ready))
    failures = _failures(session, case, transition.guards, eligible[0].starts_at)
    if failures and len(eligible) > 1:
        lasting = {
            f.rule for f in _failures(session, case, transition.guards, eligible[-1].starts_at)
        }
        passing = [f.rule for f in failures if f.rule not in lasting]
        if passing:
            for meeting in eligible[1:]:
                if not _failures(session, case, passing, meeting.starts_at):
                    later = _failures(session, case, transition.guards, meeting.starts_at)
                    return _Choice(meeting, missed, later)
    return _Choice(eligible[0], missed, failures)


def _walk(
    session: Session,
    case: Case,
    definition: ProcessDefinition,
    path: Sequence[TransitionSpec],
    sources: Sequence[str],
    bodies: dict[str, Body],
    calendar: dict[int, list[Meeting]],
    now: datetime,
) -> Forecast:
    """Chain the steps: each meeting is the first the case can reach in time."""
    steps: list[Step] = []
    reported: set[str] = set()
    ready = now
    for index, (source, transition) in enumerate(zip(sources, path, strict=True)):
        state = definition.states[source]
        body = bodies[source]
        if not is_meeting_step(state, transition):
            failures = _failures(session, case, transition.guards, ready)
            steps.append(
                Step(transition, state, body, False, ready, blockers=_new(failures, reported))
            )
            continue
        # The case already in the state arrived when it entered; a later step when it is ready.
        entered = min(case.state_entered_at, now) if index == 0 else ready
        choice = _choose_meeting(session, case, transition, body, calendar[body.id], entered, ready)
        meeting = choice.meeting
        step = Step(
            transition,
            state,
            body,
            True,
            meeting.starts_at if meeting else None,
            meeting=meeting,
            material_deadline=material_deadline(meeting, body) if meeting else None,
            missed=choice.missed if index == 0 else None,
            blockers=_new(choice.failures, reported),
        )
        steps.append(step)
        if meeting is None:
            return Forecast(
                Outcome.NO_MEETING, tuple(_with_due_dates(steps)),
                waiting_body=body, waiting_after=ready,
            )  # fmt: skip
        ready = meeting.starts_at
    return Forecast(Outcome.PLANNED, tuple(_with_due_dates(steps)))


def _new(failures: Sequence[Failure], reported: set[str]) -> tuple[Failure, ...]:
    """The failures whose rule an earlier step has not reported already."""
    fresh = tuple(f for f in failures if f.rule not in reported)
    reported.update(f.rule for f in fresh)
    return fresh


def _with_due_dates(steps: list[Step]) -> list[Step]:
    """Give each step not taken at a meeting the material deadline of the next meeting step."""
    result: list[Step] = []
    following: Step | None = None
    for step in reversed(steps):
        if step.at_meeting:
            following = step
            result.append(step)
            continue
        if following is not None and following.material_deadline is not None:
            step = replace(step, due_by=following.material_deadline, due_for=following)
        result.append(step)
    result.reverse()
    return result
