"""Typed failures of the engine; each explains itself in Danish (and English for the API)."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.engine.guards import Failure


class WorkflowError(Exception):
    """Base class: `message` is Danish, `message_en` English."""

    def __init__(self, message: str, message_en: str) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en


class NotAllowed(WorkflowError):
    """The actor may not fire this trigger; `allowed` says who may."""

    def __init__(self, message: str, message_en: str, allowed: Sequence[str]) -> None:
        super().__init__(message, message_en)
        self.allowed = list(allowed)


class GuardFailed(WorkflowError):
    """One or more rules do not hold; `failures` names each one."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        super().__init__(
            " ".join(f.message for f in self.failures),
            " ".join(f.message_en for f in self.failures),
        )


class StaleChange(WorkflowError):
    """Someone else changed the same record meanwhile (optimistic locking refused the write)."""

    def __init__(
        self,
        message: str = "Oplysningerne er blevet ændret af en anden imens. Genindlæs siden, og "
        "prøv igen; dine ændringer er ikke gemt.",
        message_en: str = "Someone else changed this meanwhile. Reload the page and try again; "
        "your changes were not saved.",
    ) -> None:
        super().__init__(message, message_en)


class Conflict(StaleChange):
    """The case changed since the caller read it (optimistic locking)."""

    def __init__(self, expected: int | None, actual: int | None) -> None:
        self.expected = expected
        self.actual = actual
        super().__init__(
            f"Sagen er blevet ændret af en anden, siden du åbnede den (version {expected}, "
            f"nu {actual}). Genindlæs sagen, og prøv igen.",
            f"The case was changed by someone else (version {expected}, now {actual}). "
            "Reload it and try again.",
        )


class InvalidTrigger(WorkflowError):
    """The trigger does not exist or is not valid in the case's current state."""

    def __init__(self, message: str, message_en: str, valid: Sequence[str]) -> None:
        super().__init__(message, message_en)
        self.valid = list(valid)
