"""Enums and examples in the OpenAPI document from the process definitions and reference data.

A schema marks what it names with `x-reference` (processes, states, triggers, bodies,
national goals, focus areas, parties, planning areas); the served document lists the values
that exist now, so a client or a fuzzer can name a process, body or trigger that is there.
Bodies and definitions change at runtime (an admin edits them), so the values are read per
request, not at import.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, FocusArea, NationalGoal, Party, PlanningArea
from workflow.engine.processes import registry

REFERENCE = "x-reference"
EXAMPLES = 3
# Path parameters named like this name a process (`/processes/{name}`).
PATH_REFERENCES = {"name": "processes"}


def _processes(session: Session) -> list[Any]:
    return list(registry.names(session))


def _states(session: Session) -> list[Any]:
    names = {s for d in registry.all_latest(session) for s in d.states}
    return sorted(names)


def _triggers(session: Session) -> list[Any]:
    names = {
        t.trigger
        for d in registry.all_latest(session)
        for t in d.transitions
        if not t.automatic_only
    }
    return sorted(names)


def _bodies(session: Session) -> list[Any]:
    return list(session.scalars(select(Body.code).order_by(Body.code)))


def _national_goals(session: Session) -> list[Any]:
    return list(session.scalars(select(NationalGoal.id).order_by(NationalGoal.id)))


def _focus_areas(session: Session) -> list[Any]:
    return list(session.scalars(select(FocusArea.id).order_by(FocusArea.id)))


def _parties(session: Session) -> list[Any]:
    return list(session.scalars(select(Party.id).order_by(Party.id)))


def _planning_areas(session: Session) -> list[Any]:
    return list(session.scalars(select(PlanningArea.id).order_by(PlanningArea.id)))


SOURCES: dict[str, Callable[[Session], list[Any]]] = {
    "processes": _processes,
    "states": _states,
    "triggers": _triggers,
    "bodies": _bodies,
    "national_goals": _national_goals,
    "focus_areas": _focus_areas,
    "parties": _parties,
    "planning_areas": _planning_areas,
}


def with_reference_data(document: dict[str, Any], session: Session) -> dict[str, Any]:
    """A copy of `document` whose marked schemas list the values that exist."""
    found: dict[str, list[Any]] = {}

    def values(kind: str) -> list[Any]:
        if kind not in found:
            found[kind] = SOURCES[kind](session)
        return found[kind]

    enriched = copy.deepcopy(document)
    for methods in enriched["paths"].values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                kind = PATH_REFERENCES.get(parameter["name"])
                if parameter["in"] == "path" and kind is not None:
                    parameter["schema"][REFERENCE] = kind
    _mark(enriched, values)
    return enriched


def _existing_examples(node: dict[str, Any], values: Callable[[str], list[Any]]) -> None:
    """Point an object's examples at rows that exist: a referenced value that is not listed
    becomes the first listed one (a list of them, as many of the first)."""
    properties = node.get("properties") or {}
    for example in node.get("examples") or []:
        if not isinstance(example, dict):
            continue
        for name, value in example.items():
            schema = properties.get(name) or {}
            items = schema.get("items") or {}
            kind = schema.get(REFERENCE) or items.get(REFERENCE)
            listed = values(kind) if isinstance(kind, str) and kind in SOURCES else []
            if not listed:
                continue
            if isinstance(value, list):
                if not set(value) <= set(listed):
                    example[name] = listed[: max(len(value), 1)]
            elif value not in listed:
                example[name] = listed[0]


def _mark(node: Any, values: Callable[[str], list[Any]]) -> None:
    if isinstance(node, dict):
        _existing_examples(node, values)
        kind = node.get(REFERENCE)
        if isinstance(kind, str) and kind in SOURCES:
            listed = values(kind)
            if listed:
                # A nullable reference (a focus area that may be left out) keeps null allowed.
                nullable = isinstance(node.get("type"), list) and "null" in node["type"]
                node["enum"] = [*listed, None] if nullable else listed
                node["examples"] = listed[:EXAMPLES]
        for inner in node.values():
            _mark(inner, values)
    elif isinstance(node, list):
        for inner in node:
            _mark(inner, values)
