"""Actions a process definition runs when a case enters a state (`on_enter = [...]` in TOML).

The engine calls `run_on_enter()` inside perform()'s transaction, after the transition is
applied and audited; an action that raises rolls the whole transition back. This module
imports nothing heavy at load time, so workflow.engine.definitions can validate action names.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models import Case, User


@dataclass(frozen=True)
class ActionContext:
    """What an action may use: the case (already in its new state), who caused it, when."""

    session: Session
    case: Case
    actor: User | None
    now: datetime


Action = Callable[[ActionContext], None]
ACTIONS: dict[str, Action] = {}


def action(name: str) -> Callable[[Action], Action]:
    """Register an on-enter action under `name`."""

    def register(function: Action) -> Action:
        ACTIONS[name] = function
        return function

    return register


def run_on_enter(
    session: Session, case: Case, names: Iterable[str], actor: User | None, now: datetime
) -> None:
    """Run the named actions for a case that has just entered a state."""
    context = ActionContext(session, case, actor, now)
    for name in names:
        ACTIONS[name](context)
