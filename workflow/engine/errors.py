"""Typed failures of the engine; each explains itself in Danish (and English for the API)."""

from __future__ import annotations

from collections.abc import Sequence

from workflow.engine.guards import Failure


class WorkflowError(Exception):
    """Base class: `message` is Danish, `message_en` English, `rule` the refusing rule's name.

    The rule name is what an integrating system switches on (the API's problem documents carry
    it); a subclass names its own default, a raise site may name a narrower rule.
    """

    default_rule = "business_rule"

    def __init__(self, message: str, message_en: str, *, rule: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.message_en = message_en
        self.rule = rule or self.default_rule

    @property
    def reasons(self) -> dict[str, str]:
        """The reason in both languages, as the page shows it."""
        return {"da": self.message, "en": self.message_en}


class NotAllowed(WorkflowError):
    """The actor may not fire this trigger; `allowed` says who may."""

    default_rule = "allowed_roles"

    def __init__(
        self, message: str, message_en: str, allowed: Sequence[str], *, rule: str | None = None
    ) -> None:
        super().__init__(message, message_en, rule=rule)
        self.allowed = list(allowed)


class GuardFailed(WorkflowError):
    """One or more rules do not hold; `failures` names each one."""

    def __init__(self, failures: Sequence[Failure]) -> None:
        self.failures = list(failures)
        super().__init__(
            " ".join(f.message for f in self.failures),
            " ".join(f.message_en for f in self.failures),
            # The first rule names the refusal; `failures` (and `rules`) list every one.
            rule=self.failures[0].rule if self.failures else None,
        )

    @property
    def rules(self) -> list[str]:
        """Every failed rule's name, in the definition's order."""
        return [f.rule for f in self.failures]


class StaleChange(WorkflowError):
    """Someone else changed the same record meanwhile (optimistic locking refused the write)."""

    default_rule = "current_version"

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

    default_rule = "valid_trigger"

    def __init__(
        self, message: str, message_en: str, valid: Sequence[str], *, rule: str | None = None
    ) -> None:
        super().__init__(message, message_en, rule=rule)
        self.valid = list(valid)
