"""The engine asks the application's access policy before it changes a case's content.

The policy (workflow.policy) knows the organisation's roles and is not part of the engine; it
plugs in at start-up through the `aftaleflow.domains` entry points, like the domains' guards,
and `may()` here forwards to it. Who may fire a transition is not asked here: that is part of
each process definition (`allowed = [...]`), checked by the engine itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from workflow.engine.plugins import install_domains

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from models import User

Decide = Callable[["User | None", str, Any, "Session | None"], bool]

_policy: list[Decide] = []


def install_policy(decide: Decide) -> None:
    """Make `decide(user, action, subject, session)` the engine's access decision."""
    _policy[:] = [decide]


def may(user: User | None, action: str, subject: Any, session: Session) -> bool:
    """The installed policy's answer; without one (not installed) nothing is allowed."""
    if not _policy:
        install_domains()
    return bool(_policy) and _policy[0](user, action, subject, session)
