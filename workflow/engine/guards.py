"""The guard and predicate registries the process definitions name (`guards = [...]`, `when = ...`).

A guard returns None when its rule holds, or a Failure that says, in Danish and English,
which rule failed and what to do. A predicate answers a yes/no question for routing. Domains
register theirs with `@guard(name)` and `@predicate(name)`; the engine only looks them up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models import Case, User


@dataclass(frozen=True)
class Failure:
    """A rule that does not hold, explained for the user."""

    rule: str
    message: str
    message_en: str


@dataclass
class GuardContext:
    """What a guard may look at: the case, who acts, the submitted data and the time."""

    case: Case
    actor: User | None
    session: Session
    now: datetime
    data: dict[str, Any] = field(default_factory=dict)


Guard = Callable[[GuardContext], Failure | None]
Predicate = Callable[[GuardContext], bool]

GUARDS: dict[str, Guard] = {}
PREDICATES: dict[str, Predicate] = {}


def guard(name: str) -> Callable[[Guard], Guard]:
    """Register a guard under the name the definitions use."""

    def register(function: Guard) -> Guard:
        GUARDS[name] = function
        return function

    return register


def predicate(name: str) -> Callable[[Predicate], Predicate]:
    """Register a routing predicate under the name the definitions use."""

    def register(function: Predicate) -> Predicate:
        PREDICATES[name] = function
        return function

    return register
