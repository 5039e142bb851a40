"""The rows a replay reads: plain, frozen values, so the replay is a pure computation."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from workflow.engine.definitions import ProcessDefinition


@dataclass(frozen=True)
class BodyRow:
    id: int
    code: str
    name: str
    material_deadline_days: int
    working_days: bool


@dataclass(frozen=True)
class MeetingRow:
    """A meeting that was (or is to be) held; `id` None for one only a draft calendar has."""

    body_id: int
    starts_at: datetime
    id: int | None = None


@dataclass(frozen=True)
class Move:
    """An event that put the case in a state: its creation or a change of state."""

    trigger: str
    to_state: str
    at: datetime
    meeting_id: int | None


@dataclass(frozen=True)
class CaseRow:
    id: int
    title: str
    process: str
    version: int
    originating_body_id: int
    plan_year: int | None
    moves: tuple[Move, ...]


@dataclass(frozen=True)
class History:
    """The cases of a period with their moves, the bodies, their meetings and definitions."""

    since: datetime
    now: datetime
    cases: Sequence[CaseRow]
    bodies: Mapping[int, BodyRow]
    # Each body's meetings that were not cancelled, in order of their start.
    meetings: Mapping[int, Sequence[MeetingRow]]
    definitions: Mapping[tuple[str, int], ProcessDefinition]
