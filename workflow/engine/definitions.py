"""Process definitions: parse and validate the TOML files in states/.

A definition names its states, its transitions (trigger, sources, destination), who may fire
each one, the guards that must hold, the fields it requires, each state's deadline and
reminders, and automatic routes. It also declares what the domains read from it: which
meeting outcome fires which trigger in a state that awaits a meeting, the state that tracks
implementation and the trigger that ends it, and whether a case belongs to a plan year.
Errors name the file and the key, so an admin can fix them.

A file with `kind = "lifecycle"` is not a case process but the life of another record (a
meeting): `load_definitions` skips it and its owner loads it with `load_lifecycle`, which
validates it with the same rules for names, roles, reachability and final states.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Protocol

from models.body import BodyKind
from workflow.engine import actions, guards, outcomes
from workflow.engine.paths import resource_dir
from workflow.engine.plugins import install_domains

ROLES = ("chair", "vice_chair", "member", "secretariat", "observer", "admin")
BODY_REFS = ("current", "originating")
FIELD_TYPES = ("text", "date", "bool", "int", "meeting", "choice", "body")
DEADLINE_KINDS = ("days_after_entry", "material", "field", "month_day")
_BODY_CODE = re.compile(r"^[A-ZÆØÅ][A-ZÆØÅ0-9-]*$")
# The keys each table may hold: a misspelt key ("guard" for "guards") would otherwise drop a
# rule without a word.
TOP_KEYS = frozenset(
    {
        "kind", "name", "title", "title_en", "description", "initial", "escalation_days",
        "follow_up_months", "states", "transitions", "routes", "rules", "plan_year",
        "started_by", "body_kinds", "opens",
    }
)  # fmt: skip
# The kinds of body a definition may name a body by.
BODY_KINDS = frozenset(kind.value for kind in BodyKind)
STATE_KEYS = frozenset(
    {
        "label", "label_en", "body", "final", "deadline", "reminders", "description", "on_enter",
        "visibility", "outcomes", "tracks_implementation", "completes_implementation",
        "consultation", "plan_lines_open", "body_field",
    }
)  # fmt: skip
# Who may read a case in the state (workflow.policy): the whole organisation, or only the
# body it comes from (a draft).
VISIBILITIES = ("organisation", "originating")
# `opens`: the engine opens a case of the process by itself (the scheduler's daily rhythms
# job), once for each calendar year, each electoral period (data/electoral_periods.toml) or each
# new body of a kind. An electoral period's case holds the period's end in `period_end` (read by
# a field deadline).
OPENS_KEYS = frozenset({"every", "body", "kind", "since"})
OPENS_EVERY = ("year", "electoral_period", "new_body")
PERIOD_END_FIELD = "period_end"
DEADLINE_KEYS = frozenset({"kind", "days", "field", "month_day", "year_offset"})
TRANSITION_KEYS = frozenset(
    {
        "trigger", "source", "dest", "label", "label_en", "allowed", "guards", "fields",
        "decision", "inform", "clears_escalation", "automatic_only", "description", "confirm",
        "records_only",
    }
)  # fmt: skip
FIELD_KEYS = frozenset({"name", "type", "required", "label", "label_en", "choices", "body_kinds"})
ROUTE_KEYS = frozenset({"state", "when", "trigger", "reason", "reason_en"})
PROCESS_KIND = "process"
LIFECYCLE_KIND = "lifecycle"
KINDS = (PROCESS_KIND, LIFECYCLE_KIND)
LIFECYCLE_TOP_KEYS = frozenset(
    {"kind", "name", "title", "title_en", "description", "initial", "states", "transitions"}
)
LIFECYCLE_STATE_KEYS = frozenset({"label", "label_en", "description", "final"})
LIFECYCLE_TRANSITION_KEYS = frozenset(
    {
        "trigger", "source", "dest", "label", "label_en", "allowed", "guards", "needs_comment",
        "own_operation", "description",
    }
)  # fmt: skip
# In a lifecycle the roles are held in the record's own body (a meeting's body).
LIFECYCLE_BODY = "current"
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
    # A "body" field names a body by its code, of one of these kinds.
    body_kinds: tuple[str, ...] = ()


@dataclass(frozen=True)
class OpensRule:
    """When the engine opens a case of the process by itself (`opens` in the definition)."""

    every: str  # "year", "electoral_period" or "new_body"
    body: str = ""  # the body a yearly or electoral period's case is opened in (a code), or
    kind: str = ""  # each active body of this kind (new_body: each new body of the kind)
    since: date | None = None  # new_body: bodies set up from this day


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
    # The state awaits a meeting of its body: meeting outcome -> the trigger it fires.
    outcomes: Mapping[str, str] = field(default_factory=dict, hash=False)
    # Implementation is tracked per unit in this state; `completes_implementation` ends it.
    tracks_implementation: bool = False
    completes_implementation: str = ""
    # A consultation round (høring) is run while a case is in this state.
    consultation: bool = False
    # The plan's lines may still change in this state (a plan_year process, until adoption).
    plan_lines_open: bool = False
    # The case is with the body a "body" field of the case names (chosen on the way in),
    # when it names one; else with `body`.
    body_field: str = ""

    @property
    def awaits_meeting(self) -> bool:
        return bool(self.outcomes)


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
    # Irreversible: the pages ask the user to confirm before it fires (the API does not).
    confirm: bool = False
    # Only records facts (a self-loop): the event and its fields are written, but the case
    # does not enter its state again: the time it entered, its body, its deadlines and their
    # reminders stay, and no one is told of a change of state (the `inform` bodies still are).
    records_only: bool = False

    @property
    def is_self_loop(self) -> bool:
        return self.sources == (self.dest,)

    @property
    def enters_state(self) -> bool:
        """Whether firing it (re-)enters its destination: every transition but a records-only
        one. A self-loop that does (a postponement) restarts the state's clock and deadline."""
        return not self.records_only


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
    # A case of this process belongs to a calendar year (one case per year, e.g. the annual
    # implementation plan): the case form asks for the year.
    plan_year: bool = False
    # Bodies the definition names by their kind, where a reorganisation changes them
    # ([body_kinds] SKU = "political"): for each case and day "SKU" is the body of that kind
    # above the body that raised the case, as the organisation stood that day; SKU itself (or
    # its successor) only where the structure names none (engine.core.named_body).
    body_kinds: Mapping[str, str] = field(default_factory=dict)

    # Who may start a case of the process: body kinds (`coordination_committee`) or body codes
    # (`TSS`); empty = any body whose members may open cases.
    started_by: tuple[str, ...] = ()
    # Whether (and how often) the engine opens a case of the process by itself.
    opens: OpensRule | None = None

    def may_start_in(self, kind: str, code: str) -> bool:
        """Whether a body of this kind and code may start a case of the process."""
        return not self.started_by or kind in self.started_by or code in self.started_by

    @property
    def implementation_state(self) -> StateSpec | None:
        """Return the state in which implementation is tracked, or None."""
        return next((s for s in self.states.values() if s.tracks_implementation), None)

    @property
    def declares_domain_keys(self) -> bool:
        """Whether the definition declares meeting outcomes, implementation, a consultation
        state or a plan year.

        Versions stored before definitions declared them declare none of them.
        """
        return self.plan_year or any(
            s.outcomes or s.tracks_implementation or s.consultation for s in self.states.values()
        )

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
            raise self.fail(f"{path}.{key}" if path else key, "skal være true eller false")
        return value

    def strings(self, table: dict[str, Any], key: str, path: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self.fail(f"{path}.{key}", "skal være en liste af tekster")
        return tuple(value)


def _read(text: str, source_name: str, keys: frozenset[str]) -> tuple[_Reader, dict[str, Any]]:
    """Read a TOML definition whose top level may hold `keys`; errors name the file."""
    reader = _Reader(source_name)
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{source_name}: ugyldig TOML: {exc}") from exc
    reader.table(raw, "", keys)
    return reader, raw


def parse_definition(text: str, source_name: str) -> ProcessDefinition:
    """Parse and validate one definition; raise DefinitionError naming file and key."""
    install_domains()  # the guard, predicate and action names are checked against them
    reader, raw = _read(text, source_name, TOP_KEYS)
    kind = _kind(reader, raw)
    if kind != PROCESS_KIND:
        raise reader.fail(
            "kind", f"'{kind}' er ikke en sagsproces; filen indlæses af sin ejer (load_lifecycle)"
        )
    name = _name(reader, raw)
    states = _parse_states(reader, raw)
    initial = _initial(reader, raw, states)
    transitions = _parse_transitions(reader, raw, states)
    opens = _parse_opens(reader, raw)
    _check_deadline_fields(reader, states, transitions, opens)
    _check_body_fields(reader, states, transitions)
    routes = _parse_routes(reader, raw, states, transitions)
    _check_outcomes(reader, states, transitions)
    _check_implementation(reader, states, transitions)
    plan_year = reader.boolean(raw, "plan_year", "")
    _check_plan_lines(reader, states, plan_year=plan_year)
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
        plan_year=plan_year,
        started_by=_started_by(reader, raw),
        body_kinds=_parse_body_kinds(reader, raw, states, transitions),
        opens=opens,
    )


def named_codes(states: Mapping[str, StateSpec], transitions: Iterable[TransitionSpec]) -> set[str]:
    """The body codes a definition names in its states' bodies and transitions' roles."""
    codes = {state.body for state in states.values()}
    for transition in transitions:
        codes |= {ref.body for ref in transition.allowed if ref.role != "admin"}
    return codes - set(BODY_REFS) - {""}


def _parse_body_kinds(
    reader: _Reader,
    raw: dict[str, Any],
    states: Mapping[str, StateSpec],
    transitions: Iterable[TransitionSpec],
) -> dict[str, str]:
    table = reader.table(raw.get("body_kinds", {}), "body_kinds")
    named = named_codes(states, transitions)
    kinds: dict[str, str] = {}
    for code, kind in table.items():
        if code not in named:
            raise reader.fail(
                f"body_kinds.{code}",
                f"definitionen nævner ikke organet {code} i en tilstand eller en rolle",
            )
        if not isinstance(kind, str) or kind not in BODY_KINDS:
            raise reader.fail(
                f"body_kinds.{code}", f"ukendt art '{kind}'; brug en af {sorted(BODY_KINDS)}"
            )
        kinds[code] = kind
    return kinds


def _started_by(reader: _Reader, raw: dict[str, Any]) -> tuple[str, ...]:
    """The body kinds or codes that may start a case: each a known kind or a body code."""
    started_by = reader.strings(raw, "started_by", "started_by") if "started_by" in raw else ()
    kinds = {kind.value for kind in BodyKind}
    for entry in started_by:
        if entry not in kinds and not _BODY_CODE.match(entry):
            raise reader.fail(
                "started_by",
                f"ukendt organ '{entry}'; brug en organtype ({', '.join(sorted(kinds))}) "
                "eller en organkode som TSS",
            )
    return started_by


def _parse_opens(reader: _Reader, raw: dict[str, Any]) -> OpensRule | None:
    """`opens = { every = "year", body = "SKU" }`: a known rhythm and the body it needs."""
    if "opens" not in raw:
        return None
    table = reader.table(raw["opens"], "opens", OPENS_KEYS)
    every = reader.string(table, "every", "opens")
    if every not in OPENS_EVERY:
        raise reader.fail("opens.every", f"ukendt rytme '{every}'; brug en af {OPENS_EVERY}")
    if every == "new_body":
        kind = reader.string(table, "kind", "opens")
        if kind not in BODY_KINDS:
            raise reader.fail("opens.kind", f"ukendt art '{kind}'; brug en af {sorted(BODY_KINDS)}")
        since = table.get("since")
        if since is not None and not isinstance(since, date):
            raise reader.fail("opens.since", "skal være en dato (fx 2026-01-01)")
        return OpensRule(every=every, kind=kind, since=since)
    body = reader.string(table, "body", "opens", default="")
    kind = reader.string(table, "kind", "opens", default="")
    if bool(body) == bool(kind):
        raise reader.fail(
            "opens", "angiv enten body (en organkode som SKU) eller kind (en organart)"
        )
    if body and not _BODY_CODE.match(body):
        raise reader.fail("opens.body", f"'{body}' er ikke en organkode som SKU")
    if kind and kind not in BODY_KINDS:
        raise reader.fail("opens.kind", f"ukendt art '{kind}'; brug en af {sorted(BODY_KINDS)}")
    return OpensRule(every=every, body=body, kind=kind)


def _kind(reader: _Reader, raw: dict[str, Any]) -> str:
    kind = reader.string(raw, "kind", "", default=PROCESS_KIND)
    if kind not in KINDS:
        raise reader.fail("kind", f"ukendt slags '{kind}'; brug {KINDS}")
    return kind


def _name(reader: _Reader, raw: dict[str, Any]) -> str:
    name = reader.string(raw, "name", "")
    if not _NAME.match(name):
        raise reader.fail("name", f"'{name}' skal bestå af små bogstaver, tal og _")
    return name


def _initial(reader: _Reader, raw: dict[str, Any], states: Collection[str]) -> str:
    initial = reader.string(raw, "initial", "")
    if initial not in states:
        raise reader.fail("initial", f"ukendt tilstand '{initial}'")
    return initial


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
            outcomes=_parse_outcomes(reader, spec, path),
            tracks_implementation=reader.boolean(spec, "tracks_implementation", path),
            completes_implementation=reader.string(
                spec, "completes_implementation", path, default=""
            ),
            consultation=reader.boolean(spec, "consultation", path),
            plan_lines_open=reader.boolean(spec, "plan_lines_open", path),
            body_field=reader.string(spec, "body_field", path, default=""),
        )
    return states


def _check_body_fields(
    reader: _Reader, states: Mapping[str, StateSpec], transitions: Iterable[TransitionSpec]
) -> None:
    """A state's `body_field` is a "body" field of a transition into it or the case's."""
    declared = {f.name for t in transitions for f in t.fields if f.type == "body"}
    for state in states.values():
        if state.body_field and state.body_field not in declared:
            raise reader.fail(
                f"states.{state.name}.body_field",
                f"'{state.body_field}' er ikke et organfelt (type = \"body\") på en overgang",
            )


def _parse_outcomes(reader: _Reader, spec: dict[str, Any], path: str) -> dict[str, str]:
    """Read `outcomes = { approved = "trigger", ... }`: each name a registered meeting outcome."""
    if "outcomes" not in spec:
        return {}
    key = f"{path}.outcomes"
    table = reader.table(spec["outcomes"], key)
    if not table:
        raise reader.fail(key, 'mindst ét udfald (fx approved = "..."), eller udelad tabellen')
    known = outcomes.OUTCOMES
    mapping: dict[str, str] = {}
    for outcome in table:
        if outcome not in known:
            raise reader.fail(
                f"{key}.{outcome}", f"ukendt mødeudfald; kendte: {', '.join(sorted(known))}"
            )
        mapping[outcome] = reader.string(table, outcome, key)
    return mapping


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
        body_kinds = reader.strings(raw_field, "body_kinds", fpath)
        if ftype == "body" and not body_kinds:
            raise reader.fail(f"{fpath}.body_kinds", "mangler (hvilke slags organer kan vælges)")
        kinds = {k.value for k in BodyKind}
        for kind in body_kinds:
            if kind not in kinds:
                raise reader.fail(f"{fpath}.body_kinds", f"ukendt organtype '{kind}'")
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
                body_kinds=body_kinds,
            )
        )
    return tuple(fields)


def _transition_head(
    reader: _Reader, spec: dict[str, Any], path: str, states: Collection[str], seen: set[str]
) -> tuple[str, tuple[str, ...], str]:
    """A transition's trigger (new and well-formed), its source states and its destination."""
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
    return trigger, sources, dest


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
        trigger, sources, dest = _transition_head(reader, spec, path, states, seen)
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
        confirm = reader.boolean(spec, "confirm", path)
        if confirm and automatic_only:
            raise reader.fail(
                f"{path}.confirm",
                "en overgang, som kun processen selv udfører, har ingen bruger at spørge",
            )
        fields = _parse_fields(reader, spec, path)
        records_only = reader.boolean(spec, "records_only", path)
        if records_only:
            _check_records_only(reader, path, trigger, sources, dest, fields, states)
        transitions.append(
            TransitionSpec(
                trigger=trigger,
                sources=sources,
                dest=dest,
                label=reader.string(spec, "label", path),
                label_en=reader.string(spec, "label_en", path),
                allowed=allowed,
                guards=guard_names,
                fields=fields,
                decision=reader.boolean(spec, "decision", path),
                inform=inform,
                clears_escalation=reader.boolean(spec, "clears_escalation", path),
                automatic_only=automatic_only,
                description=reader.string(spec, "description", path, default=""),
                confirm=confirm,
                records_only=records_only,
            )
        )
    return tuple(transitions)


def _check_records_only(
    reader: _Reader,
    path: str,
    trigger: str,
    sources: tuple[str, ...],
    dest: str,
    fields: tuple[FieldSpec, ...],
    states: dict[str, StateSpec],
) -> None:
    """`records_only` only on a self-loop (source = dest): a transition that moves the case
    enters a state, and a records-only one must not change the field its state's deadline is
    read from (the deadline it leaves alone would then be wrong)."""
    if sources != (dest,):
        named = ", ".join(f"'{source}'" for source in sources)
        raise reader.fail(
            f"{path}.records_only",
            f"'{trigger}' går fra {named} til '{dest}'; kun en "
            "overgang tilbage til samme tilstand (source = dest) kan nøjes med at registrere",
        )
    rule = states[dest].deadline
    if rule is not None and rule.kind == "field" and any(f.name == rule.field for f in fields):
        raise reader.fail(
            f"{path}.records_only",
            f"'{trigger}' ændrer feltet '{rule.field}', som fristen i tilstanden '{dest}' læses "
            "fra; en overgang, der kun registrerer, rører ikke fristen",
        )


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


def _check_outcomes(
    reader: _Reader, states: dict[str, StateSpec], transitions: tuple[TransitionSpec, ...]
) -> None:
    """Each outcome fires a transition that a person may take from the state it is declared in."""
    by_trigger = {t.trigger: t for t in transitions}
    for state in states.values():
        for outcome, trigger in state.outcomes.items():
            key = f"states.{state.name}.outcomes.{outcome}"
            transition = by_trigger.get(trigger)
            if transition is None:
                raise reader.fail(key, f"ukendt overgang '{trigger}'")
            if state.name not in transition.sources:
                raise reader.fail(
                    key, f"'{trigger}' er ikke en overgang fra tilstanden '{state.name}'"
                )
            if transition.automatic_only:
                raise reader.fail(key, f"'{trigger}' udføres kun automatisk (automatic_only)")


def _check_plan_lines(reader: _Reader, states: dict[str, StateSpec], *, plan_year: bool) -> None:
    """Only a plan_year process has plan lines that may be open."""
    for state in states.values():
        if state.plan_lines_open and not plan_year:
            raise reader.fail(
                f"states.{state.name}.plan_lines_open", "kræver plan_year = true for processen"
            )


def _check_implementation(
    reader: _Reader, states: dict[str, StateSpec], transitions: tuple[TransitionSpec, ...]
) -> None:
    """One state at most tracks implementation, and a transition from it ends the tracking."""
    by_trigger = {t.trigger: t for t in transitions}
    tracking: list[str] = []
    for state in states.values():
        path = f"states.{state.name}"
        trigger = state.completes_implementation
        if not state.tracks_implementation:
            if trigger:
                raise reader.fail(
                    f"{path}.completes_implementation",
                    "kræver tracks_implementation = true i samme tilstand",
                )
            continue
        tracking.append(state.name)
        if len(tracking) > 1:
            raise reader.fail(
                f"{path}.tracks_implementation",
                f"kun én tilstand kan følge implementeringen (også '{tracking[0]}')",
            )
        if not trigger:
            raise reader.fail(
                f"{path}.completes_implementation",
                "mangler (overgangen der afslutter implementeringen)",
            )
        transition = by_trigger.get(trigger)
        if transition is None or state.name not in transition.sources:
            raise reader.fail(
                f"{path}.completes_implementation",
                f"'{trigger}' er ikke en overgang fra tilstanden '{state.name}'",
            )


def _check_deadline_fields(
    reader: _Reader,
    states: dict[str, StateSpec],
    transitions: tuple[TransitionSpec, ...],
    opens: OpensRule | None = None,
) -> None:
    """A field deadline reads a date that a transition into the state asks for (or, for a
    process opened once per electoral period, the period's end the engine writes)."""
    for state in states.values():
        rule = state.deadline
        if rule is None or rule.kind != "field":
            continue
        if opens and opens.every == "electoral_period" and rule.field == PERIOD_END_FIELD:
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


class _Node(Protocol):
    """What the shape checks read of a state (of a process or a lifecycle)."""

    @property
    def name(self) -> str: ...

    @property
    def final(self) -> bool: ...


class _Edge(Protocol):
    """What the shape checks read of a transition."""

    @property
    def trigger(self) -> str: ...

    @property
    def sources(self) -> tuple[str, ...]: ...

    @property
    def dest(self) -> str: ...


def _check_reachable(
    reader: _Reader,
    initial: str,
    states: Mapping[str, _Node],
    transitions: Iterable[_Edge],
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
    reader: _Reader, states: Mapping[str, _Node], transitions: Iterable[_Edge]
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


def is_lifecycle_file(path: Path) -> bool:
    """Whether the file declares `kind = "lifecycle"` (not a case process)."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError:
        return False  # parse_definition reports the error with the file's name
    return raw.get("kind") == LIFECYCLE_KIND


def _process_name(definition: ProcessDefinition) -> str:
    return definition.name


def _file_name(definition: ProcessDefinition) -> str:
    return definition.source_name


def check_one_plan_year(
    definition: ProcessDefinition,
    others: Iterable[ProcessDefinition],
    *,
    name_of: Callable[[ProcessDefinition], str] = _process_name,
) -> None:
    """Refuse `definition` if it declares `plan_year` and another process does too: only one
    process may hold a case per plan year. `others` are the other processes' definitions (a
    version of `definition`'s own process among them is no other); `name_of` names the other
    in the message (its process name, or its file when loading states/)."""
    if not definition.plan_year:
        return
    for other in others:
        if other.name != definition.name and other.plan_year:
            raise DefinitionError(
                f"{definition.source_name}: plan_year: kun én proces kan have en sag pr. planår "
                f"(også {name_of(other)})"
            )


def load_definitions(directory: Path | None = None) -> dict[str, ProcessDefinition]:
    """Load every case process in states/ (or `directory`), keyed by process name.

    Lifecycle files (`kind = "lifecycle"`, e.g. meeting.toml) are skipped: they are no process
    a case can follow, and their owners load them with `load_lifecycle`.
    """
    directory = directory or resource_dir("states")
    definitions: dict[str, ProcessDefinition] = {}
    for path in sorted(directory.glob("*.toml")):
        if is_lifecycle_file(path):
            continue
        definition = load_definition_file(path)
        if definition.name in definitions:
            raise DefinitionError(f"states/{path.name}: name: '{definition.name}' findes allerede")
        check_one_plan_year(definition, definitions.values(), name_of=_file_name)
        definitions[definition.name] = definition
    if not definitions:
        raise DefinitionError(f"{directory}: ingen procesdefinitioner (*.toml) fundet")
    return definitions


# --- Lifecycles: the life of a record that is not a case (a meeting) ---------------------------


@dataclass(frozen=True)
class LifecycleState:
    name: str
    label: str
    label_en: str
    final: bool
    description: str = ""


@dataclass(frozen=True)
class LifecycleTransition:
    trigger: str
    sources: tuple[str, ...]
    dest: str
    label: str
    label_en: str
    # Roles held in the record's own body (`chair@current`), or "admin".
    allowed: tuple[RoleRef, ...]
    guards: tuple[str, ...] = ()
    needs_comment: bool = False
    # Taken only by its own operation (which does more than change the state), never offered
    # or taken as a plain step.
    own_operation: bool = False
    description: str = ""

    @property
    def name(self) -> str:
        """The transition's name: its trigger."""
        return self.trigger


@dataclass(frozen=True)
class Lifecycle:
    """A validated lifecycle definition: states and the transitions between them."""

    name: str
    title: str
    title_en: str
    description: str
    initial: str
    states: dict[str, LifecycleState]
    transitions: tuple[LifecycleTransition, ...]
    source_name: str
    sha256: str

    def transitions_from(self, state: str) -> list[LifecycleTransition]:
        """List the transitions whose sources include `state`, in file order."""
        return [t for t in self.transitions if state in t.sources]

    def transition(self, trigger: str) -> LifecycleTransition | None:
        """Return the transition named `trigger`, or None."""
        return next((t for t in self.transitions if t.trigger == trigger), None)


def parse_lifecycle(
    text: str,
    source_name: str,
    *,
    states: Collection[str] | None = None,
    guards: Collection[str] = (),
) -> Lifecycle:
    """Parse and validate a lifecycle; raise DefinitionError naming file and key.

    `states`, when given, are exactly the states the owner's records can be in (its status
    column); `guards` are the names of the owner's guards a transition may use.
    """
    reader, raw = _read(text, source_name, LIFECYCLE_TOP_KEYS)
    if reader.string(raw, "kind", "", default="") != LIFECYCLE_KIND:
        raise reader.fail("kind", f'skal være "{LIFECYCLE_KIND}" i en livscyklus')
    name = _name(reader, raw)
    parsed_states = _parse_lifecycle_states(reader, raw, states)
    initial = _initial(reader, raw, parsed_states)
    transitions = _parse_lifecycle_transitions(reader, raw, parsed_states, guards)
    _check_reachable(reader, initial, parsed_states, transitions)
    _check_finals(reader, parsed_states, transitions)
    return Lifecycle(
        name=name,
        title=reader.string(raw, "title", ""),
        title_en=reader.string(raw, "title_en", "", default=""),
        description=reader.string(raw, "description", "", default=""),
        initial=initial,
        states=parsed_states,
        transitions=transitions,
        source_name=source_name,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
    )


def _parse_lifecycle_states(
    reader: _Reader, raw: dict[str, Any], expected: Collection[str] | None
) -> dict[str, LifecycleState]:
    table = reader.table(raw.get("states"), "states")
    if not table:
        raise reader.fail("states", "mindst én tilstand skal defineres")
    states: dict[str, LifecycleState] = {}
    for state_name, spec in table.items():
        path = f"states.{state_name}"
        if not _NAME.match(state_name):
            raise reader.fail(path, "navnet skal bestå af små bogstaver, tal og _")
        if expected is not None and state_name not in expected:
            raise reader.fail(
                path, f"ukendt tilstand; tilstandene er netop: {', '.join(sorted(expected))}"
            )
        spec = reader.table(spec, path, LIFECYCLE_STATE_KEYS)
        states[state_name] = LifecycleState(
            name=state_name,
            label=reader.string(spec, "label", path),
            label_en=reader.string(spec, "label_en", path),
            final=reader.boolean(spec, "final", path),
            description=reader.string(spec, "description", path, default=""),
        )
    missing = sorted(set(expected or ()) - set(states))
    if missing:
        raise reader.fail("states", f"mangler tilstanden '{missing[0]}'")
    return states


def _parse_lifecycle_transitions(
    reader: _Reader,
    raw: dict[str, Any],
    states: dict[str, LifecycleState],
    known_guards: Collection[str],
) -> tuple[LifecycleTransition, ...]:
    raw_transitions = raw.get("transitions")
    if not isinstance(raw_transitions, list) or not raw_transitions:
        raise reader.fail("transitions", "mindst én overgang skal defineres ([[transitions]])")
    seen: set[str] = set()
    transitions: list[LifecycleTransition] = []
    for index, spec in enumerate(raw_transitions):
        path = f"transitions[{index}]"
        spec = reader.table(spec, path, LIFECYCLE_TRANSITION_KEYS)
        trigger, sources, dest = _transition_head(reader, spec, path, states, seen)
        allowed = tuple(
            _parse_lifecycle_role(reader, f"{path}.allowed", role)
            for role in reader.strings(spec, "allowed", path)
        )
        if not allowed:
            raise reader.fail(f"{path}.allowed", "mangler (hvem må udføre overgangen)")
        guard_names = reader.strings(spec, "guards", path)
        for guard_name in guard_names:
            if guard_name not in known_guards:
                raise reader.fail(
                    f"{path}.guards",
                    f"ukendt regel '{guard_name}'; kendte: {sorted(known_guards)}",
                )
        transitions.append(
            LifecycleTransition(
                trigger=trigger,
                sources=sources,
                dest=dest,
                label=reader.string(spec, "label", path),
                label_en=reader.string(spec, "label_en", path),
                allowed=allowed,
                guards=guard_names,
                needs_comment=reader.boolean(spec, "needs_comment", path),
                own_operation=reader.boolean(spec, "own_operation", path),
                description=reader.string(spec, "description", path, default=""),
            )
        )
    return tuple(transitions)


def _parse_lifecycle_role(reader: _Reader, key: str, text: str) -> RoleRef:
    ref = _parse_role(reader, key, text)
    if ref.role != "admin" and ref.body != LIFECYCLE_BODY:
        raise reader.fail(
            key,
            f"'{text}': rollerne gælder postens eget organ; brug {ref.role}@{LIFECYCLE_BODY}",
        )
    return ref


def load_lifecycle(
    path: Path, *, states: Collection[str] | None = None, guards: Collection[str] = ()
) -> Lifecycle:
    """Load one lifecycle file, naming it relative to states/ in errors."""
    return parse_lifecycle(
        path.read_text(encoding="utf-8"), f"states/{path.name}", states=states, guards=guards
    )
