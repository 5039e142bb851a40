"""What an admin changes for a replay, parsed once for the page and the CLI.

A draft definition is read by the same loader as `states/*.toml` (its error names the key);
a materialefrist and a meeting calendar are changed per body, by its code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, time

from workflow.engine import values
from workflow.engine.definitions import DefinitionError, ProcessDefinition, parse_definition

# The replay looks back this far at most (the history is loaded as rows in memory).
MAX_MONTHS = 60
MAX_MATERIAL_DAYS = 60
MAX_MEETINGS = 200
# A meeting of a changed calendar starts at this Danish time.
MEETING_TIME = time(13, 0)
DRAFT_MAX_LENGTH = 200_000


class ScenarioError(ValueError):
    """A change that cannot be replayed; `field` names the input it came from."""

    def __init__(self, field_name: str, message_da: str, message_en: str) -> None:
        super().__init__(message_da)
        self.field = field_name
        self.message_da = message_da
        self.message_en = message_en


@dataclass(frozen=True)
class Scenario:
    """The changes replayed: none of them changes anything stored."""

    months: int = 12
    # Replaces the definition of every case of its process (whatever version it followed).
    draft: ProcessDefinition | None = None
    # Body code -> the materialefrist in days (counted as the body counts them today).
    material_days: Mapping[str, int] = field(default_factory=dict)
    # Body code -> the days of its meetings, replacing its calendar.
    calendars: Mapping[str, tuple[date, ...]] = field(default_factory=dict)

    @property
    def changes_anything(self) -> bool:
        return bool(self.draft or self.material_days or self.calendars)


def parse_months(text: str | int) -> int:
    """How many months back the replay looks (1 to MAX_MONTHS)."""
    try:
        months = int(str(text).strip())
    except ValueError:
        months = 0
    if not 1 <= months <= MAX_MONTHS:
        raise ScenarioError(
            "months",
            f"Skriv et antal måneder fra 1 til {MAX_MONTHS}.",
            f"Write a number of months from 1 to {MAX_MONTHS}.",
        )
    return months


def parse_draft(text: str, known_processes: list[str]) -> ProcessDefinition:
    """A draft definition in TOML, validated by the loader of `states/*.toml`."""
    try:
        source = values.long_text(text, DRAFT_MAX_LENGTH)
    except values.InvalidValue as exc:
        raise ScenarioError("draft", exc.message_da, exc.message_en) from None
    try:
        definition = parse_definition(source, "kladde")
    except DefinitionError as exc:
        raise ScenarioError("draft", str(exc), str(exc)) from None
    if definition.name not in known_processes:
        raise ScenarioError(
            "draft",
            f"kladde: name: processen '{definition.name}' findes ikke; kendte: "
            f"{', '.join(known_processes)}.",
            f"draft: name: there is no process '{definition.name}'; known: "
            f"{', '.join(known_processes)}.",
        )
    return definition


def parse_material_days(text: str | int) -> int:
    """A materialefrist in days (0 to MAX_MATERIAL_DAYS)."""
    try:
        days = int(str(text).strip())
    except ValueError:
        days = -1
    if not 0 <= days <= MAX_MATERIAL_DAYS:
        raise ScenarioError(
            "material_days",
            f"Skriv materialefristen som et antal dage fra 0 til {MAX_MATERIAL_DAYS}.",
            f"Write the deadline for papers as a number of days from 0 to {MAX_MATERIAL_DAYS}.",
        )
    return days


def parse_calendar(text: str) -> tuple[date, ...]:
    """Meeting days, one a line (or separated by commas), written YYYY-MM-DD."""
    words = [w for w in text.replace(",", "\n").split() if w]
    if not words:
        raise ScenarioError(
            "meeting_days",
            "Skriv mindst én mødedato (ÅÅÅÅ-MM-DD), én pr. linje.",
            "Write at least one meeting date (YYYY-MM-DD), one per line.",
        )
    if len(words) > MAX_MEETINGS:
        raise ScenarioError(
            "meeting_days",
            f"Højst {MAX_MEETINGS} mødedatoer.",
            f"At most {MAX_MEETINGS} meeting dates.",
        )
    days: set[date] = set()
    for word in words:
        try:
            days.add(values.calendar_date(word))
        except values.InvalidValue as exc:
            raise ScenarioError(
                "meeting_days", f"'{word}': {exc.message_da}", f"'{word}': {exc.message_en}"
            ) from None
    return tuple(sorted(days))
