"""A meeting's life as data: states/meeting.toml, validated at load and run as one machine.

The engine's loader (`load_lifecycle`) checks the file like a process definition; here it is
also checked that its states are exactly the meeting statuses (the database column) and that
its guards are the ones below. One `transitions` machine serves every meeting. Taking a step
(permission, history, commit) is workflow.meetings.operations.change_status.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from models import Meeting, MeetingStatus
from workflow.engine.definitions import Lifecycle, LifecycleTransition, load_lifecycle
from workflow.engine.guards import Failure
from workflow.engine.paths import resource_dir

if TYPE_CHECKING:
    from transitions import Machine

DEFINITION_FILE = "meeting.toml"

MeetingGuard = Callable[[Meeting, datetime], Failure | None]


def _meeting_started(meeting: Meeting, now: datetime) -> Failure | None:
    if now >= meeting.starts_at:
        return None
    return Failure(
        "meeting_started",
        "Mødet kan først registreres som afholdt, når det er begyndt.",
        "The meeting can be recorded as held only once it has started.",
    )


# The rules a step of states/meeting.toml may name in `guards`.
GUARDS: dict[str, MeetingGuard] = {"meeting_started": _meeting_started}


def load(directory: Path | None = None) -> Lifecycle:
    """Load and validate states/meeting.toml (or the one in `directory`)."""
    path = (directory or resource_dir("states")) / DEFINITION_FILE
    return load_lifecycle(path, states=[s.value for s in MeetingStatus], guards=GUARDS)


@cache
def definition() -> Lifecycle:
    """Return the meeting lifecycle, loaded once per process."""
    return load()


@cache
def machine() -> Machine:
    """Return the one machine shared by every meeting (its state is `Meeting.status`)."""
    from transitions import Machine  # on the first meeting transition, not at start

    lifecycle = definition()
    return Machine(
        model=None,
        states=[MeetingStatus(s) for s in lifecycle.states],
        initial=MeetingStatus(lifecycle.initial),
        transitions=[
            {
                "trigger": t.trigger,
                "source": [MeetingStatus(s) for s in t.sources],
                "dest": MeetingStatus(t.dest),
            }
            for t in lifecycle.transitions
        ],
        auto_transitions=False,
        ignore_invalid_triggers=False,
        model_attribute="status",
    )


def initial_status() -> MeetingStatus:
    """The status a newly planned meeting starts in."""
    return MeetingStatus(definition().initial)


def failures(meeting: Meeting, transition: LifecycleTransition, now: datetime) -> list[Failure]:
    """Return the step's guards that do not hold for the meeting now."""
    found = (GUARDS[name](meeting, now) for name in transition.guards)
    return [failure for failure in found if failure is not None]


class StatusLabels(Mapping[str, str]):
    """Each meeting status's Danish label, read from the definition when asked."""

    def __getitem__(self, status: str) -> str:
        return definition().states[str(status)].label

    def __iter__(self) -> Iterator[str]:
        return iter(definition().states)

    def __len__(self) -> int:
        return len(definition().states)


class Transitions(Mapping[str, LifecycleTransition]):
    """The meeting's steps by name, read from the definition when asked."""

    def __getitem__(self, name: str) -> LifecycleTransition:
        transition = definition().transition(name)
        if transition is None:
            raise KeyError(name)
        return transition

    def __iter__(self) -> Iterator[str]:
        return (t.trigger for t in definition().transitions)

    def __len__(self) -> int:
        return len(definition().transitions)
