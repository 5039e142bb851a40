"""The meeting outcomes a definition may map to triggers (`outcomes = { approved = "…" }`).

A state that awaits a meeting names, per outcome the minutes can record, the transition that
outcome fires. The meetings domain registers the outcomes its minutes know when the domains
are installed (workflow.engine.plugins); the definition loader checks the names against them.
"""

from __future__ import annotations

from collections.abc import Iterable

OUTCOMES: set[str] = set()


def register_outcomes(names: Iterable[str]) -> None:
    """Register meeting outcomes by the names the definitions use."""
    OUTCOMES.update(names)
