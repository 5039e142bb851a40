"""Process definitions: parse and validate the TOML files in states/.

A definition names its states, its transitions (trigger, sources, destination), who may fire
each one, the guards that must hold, the fields it requires, each state's deadline and
reminders, and automatic routes. Errors name the file and the key, so an admin can fix them.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import deque
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from workflow.engine import actions, guards
from workflow.engine.paths import resource_dir
from workflow.engine.plugins import install_domains

ROLES = ("chair", "vice_chair", "member", "secretariat", "observer", "admin")
BODY_REFS = ("current", "originating")
FIELD_TYPES = ("text", "date", "bool", "int", "meeting", "choice")
DEADLINE_KINDS = ("days_after_entry", "material", "field", "month_day")
_BODY_CODE = re.compile(r"^[A-ZÆØÅ][A-ZÆØÅ0-9-]*$")
# The keys each table may hold: a misspelt key ("guard" for "guards") would otherwise drop a
# rule without a word.
TOP_KEYS = frozenset(
    {
        "name", "title", "title_en", "description", "initial", "escalation_days",
        "follow_up_months", "states", "transitions", "routes", "rules",
    }
)  # fmt: skip
STATE_KEYS = frozenset(
    {
        "label", "label_en", "body", "final", "deadline", "reminders", "description", "on_enter",
        "visibility",
    }
)  # fmt: skip
# Who may read a case in the state (workflow.policy): the whole organisation, or only the
# body it comes from (a draft).
VISIBILITIES = ("organisation", "originating")
DEADLINE_KEYS = frozenset({"kind", "days", "field", "month_day", "year_offset"})
TRANSITION_KEYS = frozenset(
    {
        "trigger", "source", "dest", "label", "label_en", "allowed", "guards", "fields",
        "decision", "inform", "clears_escalation", "automatic_only", "description",
    }
)  # fmt: skip
FIELD_KEYS = frozenset({"name", "type", "required", "label", "label_en", "choices"})
ROUTE_KEYS = frozenset({"state", "when", "trigger", "reason", "reason_en"})
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


class DefinitionError(ValueError):
    """A process definition is invalid; the message names the file and the key."""


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str
    required: bool
    label: str
    label_en: str
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class DeadlineRule:
    kind: str
    days: int = 0
    field: str = ""
    month_day: str = ""
    year_offset: int = 0


@dataclass(frozen=True)
class StateSpec:
    name: str
    label: str
    label_en: str
    body: str
    final: bool
    deadline: DeadlineRule | None
    reminders: tuple[int, ...]
    description: str = ""
    # Actions (workflow.engine.actions) the engine runs when a case enters the state.
    on_enter: tuple[str, ...] = ()
    visibility: str = "organisation"


@dataclass(frozen=True)
class RoleRef:
    role: str
    body: str

    def __str__(self) -> str:
        return self.role if self.role == "admin" else f"{self.role}@{self.body}"


@dataclass(frozen=True)
class TransitionSpec:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: str
    label_en: str
    allowed: tuple[RoleRef, ...]
    guards: tuple[str, ...]
    fields: tuple[FieldSpec, ...]
    decision: bool = False
    inform: tuple[str, ...] = ()
    clears_escalation: bool = False
    automatic_only: bool = False
    description: str = ""

    @property
    def is_self_loop(self) -> bool:
        return self.sources == (self.dest,)


@dataclass(frozen=True)
class RouteSpec:
    state: str
    when: str
    trigger: str
    reason: str
    reason_en: str


@dataclass(frozen=True)
class ProcessDefinition:
    name: str
    title: str
    title_en: str
    description: str
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    routes: tuple[RouteSpec, ...]
    escalation_days: int
    follow_up_months: int
    source: str
    source_name: str
    sha256: str
    version: int = 0
    rules: tuple[str, ...] = field(default=())

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        """List the transitions whose sources include `state`, in file order."""
        return [t for t in self.transitions if state in t.sources]

    def transition(self, trigger: str) -> TransitionSpec | None:
        """Return the transition named `trigger`, or None."""
        return next((t for t in self.transitions if t.trigger == trigger), None)

    def with_version(self, version: int) -> ProcessDefinition:
        """Return a copy stamped with its stored version number."""
        from dataclasses import replace

        return replace(self, version=version)


class _Reader:
    """Read typed keys from a TOML table, raising DefinitionError with the full key path."""

    def __init__(self, source_name: str) -> None:
        self.source_name = source_name

    def fail(self, key: str, message: str) -> DefinitionError:
        return DefinitionError(f"{self.source_name}: {key}: {message}")

    def table(self, data: Any, key: str, allowed: frozenset[str] | None = None) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise self.fail(key, "skal være en tabel")
        if allowed is not None:
            unknown = sorted(set(data) - allowed)
            if unknown:
                where = f"{key}.{unknown[0]}" if key else unknown[0]
                raise self.fail(where, f"ukendt nøgle; kendte nøgler: {', '.join(sorted(allowed))}")
        return data

    def string(self, table: dict[str, Any], key: str, path: str, default: str | None = None) -> str:
        value = table.get(key, default)
        if value is None:
            raise self.fail(f"{path}.{key}" if path else key, "mangler (påkrævet felt)")
        if not isinstance(value, str):
            raise self.fail(f"{path}.{key}" if path else key, "skal være tekst")
        return value

    def integer(self, table: dict[str, Any], key: str, path: str, default: int) -> int:
        value = table.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(f"{path}.{key}" if path else key, "skal være et heltal")
        return value

    def boolean(self, table: dict[str, Any], key: str, path: str) -> bool:
        value = table.get(key, False)
        if not isinstance(value, bool):
            raise self.fail(f"{path}.{key}", "skal være true eller false")
        return value

    def strings(self, table: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{path}.{key}", "skal være en liste af tekster")
        return tuple(value)


def parse_definition(text: str, source_name: str) -> ProcessDefinition:
    """Parse and validate one definition; raise DefinitionError naming file and key."""
    install_domains()  # the guard, predicate and action names are checked against them
    reader = _Reader(source_name)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{source_name}: ugyldig TOML: {exc}") from exc

    reader.table(raw, "", TOP_KEYS)
    name = reader.string(raw, "name", "")
    if not _NAME.match(name):
        raise reader.fail("name", f"'{name}' skal bestå af små bogstaver, tal og _")
    states = _parse_states(reader, raw)
    initial = reader.string(raw, "initial", "")
    if initial not in states:
        raise reader.fail("initial", f"ukendt tilstand '{initial}'")
    transitions = _parse_transitions(reader, raw, states)
    _check_deadline_fields(reader, states, transitions)
    routes = _parse_routes(reader, raw, states, transitions)
    _check_reachable(reader, initial, states, transitions)
    _check_finals(reader, states, transitions)
    return ProcessDefinition(
        name=name,
        title=reader.string(raw, "title", ""),
        title_en=reader.string(raw, "title_en", "", default=""),
        description=reader.string(raw, "description", "", default=""),
        initial=initial,
        states=states,
        transitions=transitions,
        routes=routes,
        escalation_days=reader.integer(raw, "escalation_days", "", 14),
        follow_up_months=reader.integer(raw, "follow_up_months", "", 6),
        source=text,
        source_name=source_name,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        rules=reader.strings(raw, "rules", "rules") if "rules" in raw else (),
    )


def _parse_states(reader: _Reader, raw: dict[str, Any]) -> dict[str, StateSpec]:
    table = reader.table(raw.get("states"), "states")
    if not table:
        raise reader.fail("states", "mindst én tilstand skal defineres")
    states: dict[str, StateSpec] = {}
    for state_name, spec in table.items():
        path = f"states.{state_name}"
        if not _NAME.match(state_name):
            raise reader.fail(path, "navnet skal bestå af små bogstaver, tal og _")
        spec = reader.table(spec, path, STATE_KEYS)
        body = reader.string(spec, "body", path, default="originating")
        _check_body_ref(reader, f"{path}.body", body, allow_current=False)
        reminders = spec.get("reminders", [])
        if not isinstance(reminders, list) or not all(
            isinstance(r, int) and not isinstance(r, bool) and r > 0 for r in reminders
        ):
            raise reader.fail(f"{path}.reminders", "skal være en liste af positive heltal (dage)")
        deadline = _parse_deadline(reader, spec.get("deadline"), f"{path}.deadline")
        on_enter = reader.strings(spec, "on_enter", path)
        for action_name in on_enter:
            if action_name not in actions.ACTIONS:
                raise reader.fail(
                    f"{path}.on_enter",
                    f"ukendt handling '{action_name}'; kendte: {sorted(actions.ACTIONS)}",
                )
        visibility = reader.string(spec, "visibility", path, default="organisation")
        if visibility not in VISIBILITIES:
            raise reader.fail(
                f"{path}.visibility",
                f"skal være en af {', '.join(VISIBILITIES)}, ikke '{visibility}'",
            )
        states[state_name] = StateSpec(
            name=state_name,
            label=reader.string(spec, "label", path),
            label_en=reader.string(spec, "label_en", path),
            body=body,
            final=reader.boolean(spec, "final", path),
            deadline=deadline,
            reminders=tuple(sorted(set(reminders), reverse=True)),
            description=reader.string(spec, "description", path, default=""),
            on_enter=on_enter,
            visibility=visibility,
        )
    return states


def _parse_deadline(reader: _Reader, spec: Any, path: str) -> DeadlineRule | None:
    if spec is None:
        return None
    spec = reader.table(spec, path, DEADLINE_KEYS)
    kind = reader.string(spec, "kind", path)
    if kind not in DEADLINE_KINDS:
        raise reader.fail(f"{path}.kind", f"ukendt fristtype '{kind}'; brug {DEADLINE_KINDS}")
    rule = DeadlineRule(
        kind=kind,
        days=reader.integer(spec, "days", path, 0),
        field=reader.string(spec, "field", path, default=""),
        month_day=reader.string(spec, "month_day", path, default=""),
        year_offset=reader.integer(spec, "year_offset", path, 0),
    )
    if kind == "days_after_entry" and rule.days <= 0:
        raise reader.fail(f"{path}.days", "skal være et positivt antal dage")
    if kind == "field" and not rule.field:
        raise reader.fail(f"{path}.field", "mangler (navnet på feltet med fristen)")
    if kind == "month_day" and not _valid_month_day(rule.month_day):
        raise reader.fail(
            f"{path}.month_day", f"'{rule.month_day}' skal være en dato på formen MM-DD, fx 10-31"
        )
    return rule


def _valid_month_day(text: str) -> bool:
    """A month and day every year has (so not 02-29)."""
    if not re.fullmatch(r"\d\d-\d\d", text):
        return False
    try:
        date.fromisoformat(f"2001-{text}")
    except ValueError:
        return False
    return True


def _check_body_ref(reader: _Reader, key: str, ref: str, *, allow_current: bool) -> None:
    refs = BODY_REFS if allow_current else ("originating",)
    if ref not in refs and not _BODY_CODE.match(ref):
        raise reader.fail(key, f"ukendt organ '{ref}'; brug {refs} eller en organkode som TSS")


def _parse_role(reader: _Reader, key: str, text: str) -> RoleRef:
    if text == "admin":
        return RoleRef("admin", "")
    role, sep, body = text.partition("@")
    if not sep or role not in ROLES or role == "admin":
        raise reader.fail(key, f"ukendt rolle '{text}'; brug fx chair@current eller chair@TSS")
    _check_body_ref(reader, key, body, allow_current=True)
    return RoleRef(role, body)


def _parse_fields(reader: _Reader, spec: dict[str, Any], path: str) -> tuple[FieldSpec, ...]:
    raw_fields = spec.get("fields", [])
    if not isinstance(raw_fields, list):
        raise reader.fail(f"{path}.fields", "skal være en liste af felter")
    fields: list[FieldSpec] = []
    for index, raw_field in enumerate(raw_fields):
        fpath = f"{path}.fields[{index}]"
        raw_field = reader.table(raw_field, fpath, FIELD_KEYS)
        ftype = reader.string(raw_field, "type", fpath, default="text")
        if ftype not in FIELD_TYPES:
            raise reader.fail(f"{fpath}.type", f"ukendt felttype '{ftype}'; brug {FIELD_TYPES}")
        choices = reader.strings(raw_field, "choices", fpath)
        if ftype == "choice" and not choices:
            raise reader.fail(f"{fpath}.choices", "mangler (et valgfelt skal have valgmuligheder)")
        field_name = reader.string(raw_field, "name", fpath)
        if not _NAME.match(field_name):
            raise reader.fail(f"{fpath}.name", "skal bestå af små bogstaver, tal og _")
        if any(f.name == field_name for f in fields):
            raise reader.fail(f"{fpath}.name", f"feltet '{field_name}' er allerede defineret")
        fields.append(
            FieldSpec(
                name=field_name,
                type=ftype,
                required=reader.boolean(raw_field, "required", fpath),
                label=reader.string(raw_field, "label", fpath),
                label_en=reader.string(raw_field, "label_en", fpath),
                choices=choices,
            )
        )
    return tuple(fields)


def _parse_transitions(
    reader: _Reader, raw: dict[str, Any], states: dict[str, StateSpec]
) -> tuple[TransitionSpec, ...]:
    raw_transitions = raw.get("transitions")
    if not isinstance(raw_transitions, list) or not raw_transitions:
        raise reader.fail("transitions", "mindst én overgang skal defineres ([[transitions]])")
    seen: set[str] = set()
    transitions: list[TransitionSpec] = []
    for index, spec in enumerate(raw_transitions):
        path = f"transitions[{index}]"
        spec = reader.table(spec, path, TRANSITION_KEYS)
        trigger = reader.string(spec, "trigger", path)
        if not _NAME.match(trigger):
            raise reader.fail(f"{path}.trigger", "skal bestå af små bogstaver, tal og _")
        if trigger in seen:
            raise reader.fail(f"{path}.trigger", f"'{trigger}' er allerede defineret")
        seen.add(trigger)
        sources = reader.strings(spec, "source", path)
        if not sources:
            raise reader.fail(f"{path}.source", "mangler (mindst én kildetilstand)")
        for source in sources:
            if source not in states:
                raise reader.fail(f"{path}.source", f"ukendt tilstand '{source}'")
        dest = reader.string(spec, "dest", path)
        if dest not in states:
            raise reader.fail(f"{path}.dest", f"ukendt tilstand '{dest}'")
        automatic_only = reader.boolean(spec, "automatic_only", path)
        allowed = tuple(
            _parse_role(reader, f"{path}.allowed", role)
            for role in reader.strings(spec, "allowed", path)
        )
        if not allowed and not automatic_only:
            raise reader.fail(f"{path}.allowed", "mangler (hvem må udføre overgangen)")
        guard_names = reader.strings(spec, "guards", path)
        for guard_name in guard_names:
            if guard_name not in guards.GUARDS:
                raise reader.fail(
                    f"{path}.guards",
                    f"ukendt regel '{guard_name}'; kendte: {sorted(guards.GUARDS)}",
                )
        inform = reader.strings(spec, "inform", path)
        for code in inform:
            _check_body_ref(reader, f"{path}.inform", code, allow_current=False)
        transitions.append(
            TransitionSpec(
                trigger=trigger,
                sources=sources,
                dest=dest,
                label=reader.string(spec, "label", path),
                label_en=reader.string(spec, "label_en", path),
                allowed=allowed,
                guards=guard_names,
                fields=_parse_fields(reader, spec, path),
                decision=reader.boolean(spec, "decision", path),
                inform=inform,
                clears_escalation=reader.boolean(spec, "clears_escalation", path),
                automatic_only=automatic_only,
                description=reader.string(spec, "description", path, default=""),
            )
        )
    return tuple(transitions)


def _parse_routes(
    reader: _Reader,
    raw: dict[str, Any],
    states: dict[str, StateSpec],
    transitions: tuple[TransitionSpec, ...],
) -> tuple[RouteSpec, ...]:
    raw_routes = raw.get("routes", [])
    if not isinstance(raw_routes, list):
        raise reader.fail("routes", "skal være en liste ([[routes]])")
    routes: list[RouteSpec] = []
    by_trigger = {t.trigger: t for t in transitions}
    for index, spec in enumerate(raw_routes):
        path = f"routes[{index}]"
        spec = reader.table(spec, path, ROUTE_KEYS)
        state = reader.string(spec, "state", path)
        if state not in states:
            raise reader.fail(f"{path}.state", f"ukendt tilstand '{state}'")
        when = reader.string(spec, "when", path)
        if when not in guards.PREDICATES:
            raise reader.fail(
                f"{path}.when", f"ukendt betingelse '{when}'; kendte: {sorted(guards.PREDICATES)}"
            )
        trigger = reader.string(spec, "trigger", path)
        transition = by_trigger.get(trigger)
        if transition is None or state not in transition.sources:
            raise reader.fail(
                f"{path}.trigger", f"'{trigger}' er ikke en overgang fra tilstanden '{state}'"
            )
        routes.append(
            RouteSpec(
                state=state,
                when=when,
                trigger=trigger,
                reason=reader.string(spec, "reason", path),
                reason_en=reader.string(spec, "reason_en", path),
            )
        )
    return tuple(routes)


def _check_deadline_fields(
    reader: _Reader, states: dict[str, StateSpec], transitions: tuple[TransitionSpec, ...]
) -> None:
    """A field deadline reads a date that a transition into the state asks for."""
    for state in states.values():
        rule = state.deadline
        if rule is None or rule.kind != "field":
            continue
        declared = {
            spec.name
            for t in transitions
            if t.dest == state.name
            for spec in t.fields
            if spec.type == "date"
        }
        if rule.field not in declared:
            raise reader.fail(
                f"states.{state.name}.deadline.field",
                f"'{rule.field}' er ikke et datofelt på en overgang til tilstanden",
            )


def _check_reachable(
    reader: _Reader,
    initial: str,
    states: dict[str, StateSpec],
    transitions: tuple[TransitionSpec, ...],
) -> None:
    reached = {initial}
    queue = deque([initial])
    while queue:
        state = queue.popleft()
        for transition in transitions:
            if state in transition.sources and transition.dest not in reached:
                reached.add(transition.dest)
                queue.append(transition.dest)
    for state in states:
        if state not in reached:
            raise reader.fail(f"states.{state}", f"kan ikke nås fra starttilstanden '{initial}'")


def _check_finals(
    reader: _Reader, states: dict[str, StateSpec], transitions: tuple[TransitionSpec, ...]
) -> None:
    for state in states.values():
        outgoing = [t for t in transitions if state.name in t.sources]
        if state.final and outgoing:
            raise reader.fail(
                f"states.{state.name}.final",
                f"en sluttilstand kan ikke have udgående overgange ({outgoing[0].trigger})",
            )
        if not state.final and not outgoing:
            raise reader.fail(
                f"states.{state.name}", "har ingen udgående overgange; markér den final = true"
            )


def load_definition_file(path: Path) -> ProcessDefinition:
    """Load one definition file, naming it relative to states/ in errors."""
    return parse_definition(path.read_text(encoding="utf-8"), f"states/{path.name}")


def load_definitions(directory: Path | None = None) -> dict[str, ProcessDefinition]:
    """Load every *.toml in states/ (or `directory`), keyed by process name."""
    directory = directory or resource_dir("states")
    definitions: dict[str, ProcessDefinition] = {}
    for path in sorted(directory.glob("*.toml")):
        definition = load_definition_file(path)
        if definition.name in definitions:
            raise DefinitionError(f"states/{path.name}: name: '{definition.name}' findes allerede")
        definitions[definition.name] = definition
    if not definitions:
        raise DefinitionError(f"{directory}: ingen procesdefinitioner (*.toml) fundet")
    return definitions
