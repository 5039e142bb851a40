"""The engine's refusals as problem documents: 403, 409 or 422, in Danish and English."""

from __future__ import annotations

from models import Case
from workflow.api.problems import ApiProblem
from workflow.engine import core as engine
from workflow.engine.errors import (
    Conflict,
    GuardFailed,
    InvalidTrigger,
    NotAllowed,
    StaleChange,
    WorkflowError,
)


def _valid_triggers(case: Case) -> list[str]:
    definition = engine.definition_of(case)
    return [t.trigger for t in definition.transitions_from(case.state) if not t.automatic_only]


def refusal(error: WorkflowError, case: Case | None = None) -> ApiProblem:
    """Describe an engine refusal; `case` adds the valid triggers to a version conflict."""
    rule = error.rule
    if isinstance(error, NotAllowed):
        return ApiProblem(
            "not-allowed", error.message, error.message_en, allowed=error.allowed, rule=rule
        )
    if isinstance(error, InvalidTrigger):
        return ApiProblem(
            "invalid-trigger", error.message, error.message_en, valid_triggers=error.valid,
            rule=rule,
        )  # fmt: skip
    if isinstance(error, Conflict):
        problem = ApiProblem(
            "stale-version",
            error.message,
            error.message_en,
            expected_version=error.expected,
            actual_version=error.actual,
            rule=rule,
        )
        if case is not None:
            problem.extra["valid_triggers"] = _valid_triggers(case)
        return problem
    if isinstance(error, GuardFailed):
        errors = []
        for failure in error.failures:
            entry = {
                "rule": failure.rule,
                "message": failure.message,
                "message_da": failure.message,
                "message_en": failure.message_en,
            }
            if failure.rule.startswith("field:"):
                entry["field"] = failure.rule.removeprefix("field:")
            errors.append(entry)
        return ApiProblem(
            "guard-failed", error.message, error.message_en, errors=errors, rule=rule,
            rules=error.rules,
        )  # fmt: skip
    if isinstance(error, StaleChange):
        return ApiProblem("stale-version", error.message, error.message_en, rule=rule)
    return ApiProblem("unprocessable", error.message, error.message_en, rule=rule)
