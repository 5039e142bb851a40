"""The designer's form over a definition's TOML: the inputs for each state and transition, and
the posted values written back into the text with tomlkit, so comments and layout stay and the
loader checks the result exactly as it checks the TOML view.

An input's name is the loader's key path ("states.at_tss.deadline.days",
"transitions[4].allowed"), so the loader's message lands at the input it names.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from workflow.engine.definitions import DEADLINE_KINDS, FIELD_TYPES
from workflow.web.i18n import _, _l, pick

if TYPE_CHECKING:
    # tomlkit is imported by the functions that write the text (a designer's save), not when
    # the app starts (cold start).
    from tomlkit.items import AoT, Table

NEW_STATE = "ny_tilstand"
NEW_TRANSITION = "ny_overgang"
REMOVE = "fjern"  # the last part of a state's, transition's or field's "Fjern" checkbox
_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
_LIST_SPLIT = re.compile(r"[,\s]+")

DEADLINE_WORDS = {
    "": _l("Ingen frist"),
    "days_after_entry": _l("Dage efter, at sagen kom i tilstanden"),
    "material": _l("Materialefristen før organets næste møde"),
    "field": _l("Datoen i et felt"),
    "month_day": _l("En fast dato hvert år"),
}


@dataclass
class Input:
    """One input of the form: its name is the key path it edits."""

    name: str
    label: str
    value: str = ""
    kind: str = "text"  # text, int, select, checkbox
    options: list[tuple[str, str]] = field(default_factory=list)
    hint: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def input_id(self) -> str:
        return field_id(self.name)


@dataclass
class Group:
    """A state or a transition (or a new one): a fieldset of inputs."""

    key: str
    legend: str
    inputs: list[Input]
    errors: list[str] = field(default_factory=list)

    @property
    def group_id(self) -> str:
        return field_id(self.key)


class FormValueError(ValueError):
    """A posted value that cannot be written into the TOML (e.g. reminders that are no
    numbers); `key` is the input it belongs to."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key
        self.message = message


def field_id(key: str) -> str:
    """An HTML id for a key path: "states.at_tss.label" -> "f-states-at_tss-label"."""
    return "f-" + re.sub(r"[^A-Za-z0-9_]+", "-", key).strip("-")


def _text(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return "on" if value else ""
    return "" if value is None else str(value)


def groups(source: str, posted: Mapping[str, str] | None = None) -> list[Group]:
    """The form's fieldsets for the definition in `source` (valid TOML), showing `posted`
    values where given (a refused save keeps what the admin typed)."""
    raw = tomllib.loads(source)
    states: dict[str, Any] = raw.get("states", {})
    state_options = [(name, f"{spec.get('label', name)} ({name})") for name, spec in states.items()]
    found: list[Group] = []
    for name, spec in states.items():
        key = f"states.{name}"
        deadline = spec.get("deadline") or {}
        found.append(
            Group(
                key,
                _("Tilstand: %(label)s (%(name)s)", label=_words_label(spec, name), name=name),
                [
                    Input(f"{key}.label", _("Navn på dansk"), _text(spec.get("label"))),
                    Input(f"{key}.label_en", _("Navn på engelsk"), _text(spec.get("label_en"))),
                    Input(
                        f"{key}.body",
                        _("Behandles af"),
                        _text(spec.get("body", "originating")),
                        hint=_("»originating« (det rejsende organ) eller en organkode som TSS"),
                    ),
                    Input(
                        f"{key}.deadline.kind",
                        _("Frist"),
                        _text(deadline.get("kind", "")),
                        "select",
                        [(k, str(w)) for k, w in DEADLINE_WORDS.items()],
                    ),
                    Input(
                        f"{key}.deadline.days", _("Antal dage"), _text(deadline.get("days")), "int"
                    ),
                    Input(
                        f"{key}.reminders",
                        _("Påmindelser (dage før fristen)"),
                        _text(spec.get("reminders", [])),
                        hint=_("Fx 7, 2"),
                    ),
                    Input(
                        f"{key}.final",
                        _("Sluttilstand"),
                        _text(spec.get("final", False)),
                        "checkbox",
                    ),
                    Input(f"{key}.{REMOVE}", _("Fjern tilstanden"), kind="checkbox"),
                ],
            )
        )
    for index, spec in enumerate(raw.get("transitions", [])):
        key = f"transitions[{index}]"
        trigger = spec.get("trigger", "")
        found.append(_transition_group(key, spec, state_options, trigger))
    found.append(
        Group(
            NEW_STATE,
            _("Ny tilstand"),
            [
                Input(
                    f"{NEW_STATE}.name",
                    _("Teknisk navn"),
                    hint=_("Små bogstaver, tal og _, fx hos_tss"),
                ),
                Input(f"{NEW_STATE}.label", _("Navn på dansk")),
                Input(f"{NEW_STATE}.label_en", _("Navn på engelsk")),
                Input(f"{NEW_STATE}.body", _("Behandles af"), "originating"),
                Input(f"{NEW_STATE}.final", _("Sluttilstand"), kind="checkbox"),
            ],
        )
    )
    found.append(_transition_group(NEW_TRANSITION, {}, state_options, ""))
    if posted is not None:
        for group in found:
            for item in group.inputs:
                item.value = posted.get(item.name, "")
    return found


TYPE_OPTIONS = [(kind, kind) for kind in FIELD_TYPES]
NEW_FIELD = "nyt_felt"


def _field_inputs(key: str, spec: Mapping[str, Any]) -> list[Input]:
    """Each of a transition's fields (names, type, required) and one new field."""
    inputs: list[Input] = []
    for index, raw in enumerate(spec.get("fields", [])):
        path = f"{key}.fields[{index}]"
        name = str(raw.get("name", ""))
        inputs += [
            Input(
                f"{path}.label",
                _("Feltet %(name)s: navn på dansk", name=name),
                _text(raw.get("label")),
            ),
            Input(
                f"{path}.label_en",
                _("Feltet %(name)s: navn på engelsk", name=name),
                _text(raw.get("label_en")),
            ),
            Input(
                f"{path}.type",
                _("Feltet %(name)s: type", name=name),
                _text(raw.get("type", "text")),
                "select",
                TYPE_OPTIONS,
            ),
            Input(
                f"{path}.required",
                _("Feltet %(name)s skal udfyldes", name=name),
                _text(raw.get("required", False)),
                "checkbox",
            ),
            Input(f"{path}.{REMOVE}", _("Fjern feltet %(name)s", name=name), kind="checkbox"),
        ]
    new = f"{key}.{NEW_FIELD}"
    return [
        *inputs,
        Input(f"{new}.name", _("Nyt felt: teknisk navn"), hint=_("Fx comment")),
        Input(f"{new}.label", _("Nyt felt: navn på dansk")),
        Input(f"{new}.label_en", _("Nyt felt: navn på engelsk")),
        Input(f"{new}.type", _("Nyt felt: type"), "text", "select", TYPE_OPTIONS),
        Input(f"{new}.required", _("Nyt felt skal udfyldes"), kind="checkbox"),
    ]


def _words_label(spec: Mapping[str, Any], fallback: str) -> str:
    """A state's or transition's name in the reader's language."""
    return pick(str(spec.get("label", fallback)), str(spec.get("label_en", "")))


def _transition_group(
    key: str, spec: Mapping[str, Any], state_options: list[tuple[str, str]], trigger: str
) -> Group:
    legend = (
        _("Overgang: %(label)s (%(trigger)s)", label=_words_label(spec, trigger), trigger=trigger)
        if trigger
        else _("Ny overgang")
    )
    inputs = [Input(f"{key}.trigger", _("Teknisk navn"), trigger)] if not trigger else []
    group = Group(
        key,
        legend,
        [
            *inputs,
            Input(f"{key}.label", _("Navn på dansk"), _text(spec.get("label"))),
            Input(f"{key}.label_en", _("Navn på engelsk"), _text(spec.get("label_en"))),
            Input(
                f"{key}.source",
                _("Fra tilstande"),
                _text(spec.get("source")),
                hint=_("Tekniske navne, adskilt af komma"),
            ),
            Input(
                f"{key}.dest",
                _("Til tilstand"),
                _text(spec.get("dest")),
                "select",
                [("", "–"), *state_options],
            ),
            Input(
                f"{key}.allowed",
                _("Hvem må"),
                _text(spec.get("allowed")),
                hint=_("Roller, adskilt af komma, fx chair@current, secretariat@TSS, admin"),
            ),
            Input(
                f"{key}.guards",
                _("Regler, der skal være opfyldt"),
                _text(spec.get("guards")),
                hint=_("Reglernes navne, adskilt af komma, fx within_mandate"),
            ),
            Input(
                f"{key}.records_only",
                _("Registrerer kun oplysninger"),
                _text(spec.get("records_only", False)),
                "checkbox",
                hint=_(
                    "Kun en overgang tilbage til samme tilstand: sagen bliver i tilstanden, "
                    "fristen og påmindelserne er uændrede, og ingen får besked om ny status."
                ),
            ),
        ],
    )
    if trigger:
        group.inputs += _field_inputs(key, spec)
        group.inputs.append(Input(f"{key}.{REMOVE}", _("Fjern overgangen"), kind="checkbox"))
    return group


def _words(value: str) -> list[str]:
    return [word for word in _LIST_SPLIT.split(value.strip()) if word]


def _set(table: Table, key: str, value: Any) -> None:
    """Write `value` unless the table already says it; an empty value removes the key."""
    if value in ("", [], None, False):
        if key in table:
            del table[key]
        return
    if table.get(key) != value:
        table[key] = value


def _one_or_many(words: list[str]) -> str | list[str]:
    return words[0] if len(words) == 1 else words


def apply(source: str, posted: Mapping[str, str]) -> str:
    """Write the posted form into `source`'s TOML; raise FormValueError for a value that
    cannot be written (the loader checks the rest)."""
    import tomlkit
    from tomlkit.items import AoT, Table

    document = tomlkit.parse(source)
    states = document.get("states")
    if isinstance(states, Table):
        for name in list(states.keys()):
            _apply_state(states[name], f"states.{name}", posted)
    transitions = document.get("transitions")
    if isinstance(transitions, AoT):
        for index, table in enumerate(transitions):
            _apply_transition(table, f"transitions[{index}]", posted)
        _remove_transitions(transitions, posted)
    if isinstance(states, Table):
        _remove_states(states, posted)
    _add_state(document, posted)
    _add_transition(document, posted)
    return tomlkit.dumps(document)


def removed_states(posted: Mapping[str, str]) -> list[str]:
    """The states whose "Fjern" box is ticked."""
    suffix = f".{REMOVE}"
    return [
        key.removeprefix("states.").removesuffix(suffix)
        for key, value in posted.items()
        if value == "on" and re.fullmatch(rf"states\.[a-z][a-z0-9_]*{re.escape(suffix)}", key)
    ]


def removed_transitions(posted: Mapping[str, str]) -> list[int]:
    """The indices of the transitions whose "Fjern" box is ticked, ascending."""
    found = (re.fullmatch(rf"transitions\[(\d+)\]\.{REMOVE}", key) for key in posted)
    return sorted(int(m.group(1)) for m in found if m and posted[m.group(0)] == "on")


def _removed_fields(posted: Mapping[str, str], key: str) -> list[int]:
    pattern = rf"{re.escape(key)}\.fields\[(\d+)\]\.{REMOVE}"
    found = (re.fullmatch(pattern, name) for name in posted)
    return sorted(int(m.group(1)) for m in found if m and posted[m.group(0)] == "on")


def _remove_transitions(transitions: AoT, posted: Mapping[str, str]) -> None:
    # Removed after the edits, from the end, so the posted indices still name the right tables.
    for index in reversed(removed_transitions(posted)):
        if index < len(transitions):
            previous = transitions[index - 1] if index else None
            _keep_trailing_comments(transitions[index], previous)
            del transitions[index]


def _remove_states(states: Table, posted: Mapping[str, str]) -> None:
    for name in removed_states(posted):
        if name in states:
            names = list(states.keys())
            before = names.index(name) - 1
            _keep_trailing_comments(states[name], states[names[before]] if before >= 0 else None)
            del states[name]


def _keep_trailing_comments(removed: Any, previous: Any) -> None:
    """tomlkit files the comment above a table under the table before it: hand the removed
    table's trailing comments and blank lines to the one before, so they stay in the file."""
    from tomlkit.items import Comment, Table, Whitespace

    if not isinstance(removed, Table) or not isinstance(previous, Table):
        return
    body = removed.value.body
    start = len(body)
    while start > 0 and body[start - 1][0] is None:
        start -= 1
    trailing = body[start:]
    if not any(isinstance(item, Comment) for _key, item in trailing):
        return
    kept = previous.value.body
    if kept and isinstance(kept[-1][1], Whitespace):  # one blank line between, as before
        while trailing and isinstance(trailing[0][1], Whitespace):
            trailing = trailing[1:]
    kept.extend(trailing)


def _apply_state(table: Any, key: str, posted: Mapping[str, str]) -> None:
    from tomlkit.items import Table

    if f"{key}.label" not in posted or not isinstance(table, Table):
        return
    table["label"] = posted.get(f"{key}.label", "")
    table["label_en"] = posted.get(f"{key}.label_en", "")
    body = posted.get(f"{key}.body", "").strip()
    if body == "originating" and "body" not in table:
        pass  # the default, left unwritten as the files do
    else:
        table["body"] = body
    _apply_deadline(table, key, posted)
    reminders = posted.get(f"{key}.reminders", "")
    try:
        numbers = [int(word) for word in _words(reminders)]
    except ValueError:
        raise FormValueError(
            f"{key}.reminders", _("skal være hele antal dage adskilt af komma, fx 7, 2")
        ) from None
    _set(table, "reminders", numbers)
    _set(table, "final", posted.get(f"{key}.final") == "on")


def _apply_deadline(table: Table, key: str, posted: Mapping[str, str]) -> None:
    import tomlkit

    kind = posted.get(f"{key}.deadline.kind", "")
    if kind not in ("", *DEADLINE_KINDS):
        raise FormValueError(f"{key}.deadline.kind", _("Vælg en frist fra listen."))
    current = table.get("deadline")
    if not kind:
        _set(table, "deadline", None)
        return
    days_text = posted.get(f"{key}.deadline.days", "").strip()
    if days_text and not re.fullmatch(r"\d{1,5}", days_text):
        raise FormValueError(f"{key}.deadline.days", _("skal være et helt antal dage"))
    wanted: dict[str, Any] = dict(current) if isinstance(current, Mapping) else {}
    wanted["kind"] = kind
    if days_text:
        wanted["days"] = int(days_text)
    else:
        wanted.pop("days", None)
    if kind != "field":
        wanted.pop("field", None)
    if kind != "month_day":
        wanted.pop("month_day", None)
        wanted.pop("year_offset", None)
    if isinstance(current, Mapping) and dict(current) == wanted:
        return
    inline = tomlkit.inline_table()
    inline.update(wanted)
    table["deadline"] = inline


def _apply_transition(table: Table, key: str, posted: Mapping[str, str]) -> None:
    if f"{key}.label" not in posted:
        return
    table["label"] = posted.get(f"{key}.label", "")
    table["label_en"] = posted.get(f"{key}.label_en", "")
    sources = _words(posted.get(f"{key}.source", ""))
    if _words_of(table.get("source")) != sources:
        table["source"] = _one_or_many(sources)
    table["dest"] = posted.get(f"{key}.dest", "")
    for name in ("allowed", "guards"):
        words = _words(posted.get(f"{key}.{name}", ""))
        if _words_of(table.get(name)) != words:
            _set(table, name, words)
    records_only = posted.get(f"{key}.records_only") == "on"
    if bool(table.get("records_only", False)) != records_only:  # an explicit false stays
        _set(table, "records_only", records_only)
    _apply_fields(table, key, posted)


def _apply_fields(table: Table, key: str, posted: Mapping[str, str]) -> None:
    import tomlkit

    fields = table.get("fields")
    for index, raw in enumerate(fields if isinstance(fields, list) else []):
        path = f"{key}.fields[{index}]"
        if f"{path}.label" not in posted or not isinstance(raw, MutableMapping):
            continue
        for name in ("label", "label_en"):
            if raw.get(name) != posted.get(f"{path}.{name}", ""):
                raw[name] = posted.get(f"{path}.{name}", "")
        kind = posted.get(f"{path}.type", "text")
        if raw.get("type", "text") != kind:
            raw["type"] = kind
        required = posted.get(f"{path}.required") == "on"
        if bool(raw.get("required", False)) != required:
            raw["required"] = required
    if isinstance(fields, list):
        for index in reversed(_removed_fields(posted, key)):
            if index < len(fields):
                del fields[index]
        if not fields:
            del table["fields"]
            fields = None
    new = f"{key}.{NEW_FIELD}"
    name = posted.get(f"{new}.name", "").strip()
    if not name:
        return
    field_table = tomlkit.inline_table()
    field_table["name"] = name
    field_table["type"] = posted.get(f"{new}.type", "text") or "text"
    if posted.get(f"{new}.required") == "on":
        field_table["required"] = True
    field_table["label"] = posted.get(f"{new}.label", "")
    field_table["label_en"] = posted.get(f"{new}.label_en", "")
    if isinstance(fields, list):
        fields.append(field_table)
    else:
        table["fields"] = [field_table]


def _words_of(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value] if isinstance(value, list) else []


def _add_state(document: Any, posted: Mapping[str, str]) -> None:
    import tomlkit
    from tomlkit.items import Table

    name = posted.get(f"{NEW_STATE}.name", "").strip()
    if not name:
        return
    if not _NAME.match(name):
        raise FormValueError(f"{NEW_STATE}.name", _("skal bestå af små bogstaver, tal og _"))
    states = document.get("states")
    if not isinstance(states, Table) or name in states:
        raise FormValueError(
            f"{NEW_STATE}.name", _("tilstanden '%(name)s' findes allerede", name=name)
        )
    table = tomlkit.table()
    table["label"] = posted.get(f"{NEW_STATE}.label", "")
    table["label_en"] = posted.get(f"{NEW_STATE}.label_en", "")
    table["body"] = posted.get(f"{NEW_STATE}.body", "").strip() or "originating"
    if posted.get(f"{NEW_STATE}.final") == "on":
        table["final"] = True
    states.append(name, table)


def _add_transition(document: Any, posted: Mapping[str, str]) -> None:
    import tomlkit
    from tomlkit.items import AoT

    key = NEW_TRANSITION
    trigger = posted.get(f"{key}.trigger", "").strip()
    if not trigger:
        return
    table = tomlkit.table()
    table["trigger"] = trigger
    table["source"] = _one_or_many(_words(posted.get(f"{key}.source", "")))
    table["dest"] = posted.get(f"{key}.dest", "")
    table["label"] = posted.get(f"{key}.label", "")
    table["label_en"] = posted.get(f"{key}.label_en", "")
    table["allowed"] = _words(posted.get(f"{key}.allowed", ""))
    guards = _words(posted.get(f"{key}.guards", ""))
    if guards:
        table["guards"] = guards
    if posted.get(f"{key}.records_only") == "on":
        table["records_only"] = True
    transitions = document.get("transitions")
    if isinstance(transitions, AoT):
        transitions.append(table)
    else:
        document["transitions"] = tomlkit.aot()
        document["transitions"].append(table)


def place(
    key: str, message: str, found: list[Group], posted: Mapping[str, str], edited: str
) -> str:
    """Attach the loader's `message` for `key` to the input it names, else to the fieldset;
    return the id it was attached to ("" when the form shows nothing it names)."""
    key = _as_new(key, posted, edited)
    inputs = {item.name: item for group in found for item in group.inputs}
    target = inputs.get(key)
    if target is None:  # "states.x.deadline": its first input; "….fields[0].label": its owner
        target = next((item for name, item in inputs.items() if name.startswith(key + ".")), None)
    if target is None:
        owner = next((n for n in sorted(inputs, key=len, reverse=True) if key.startswith(n)), "")
        target = inputs.get(owner)
    if target is not None:
        target.errors.append(message)
        return target.input_id
    group = next((g for g in found if key == g.key or key.startswith(g.key + ".")), None)
    if group is not None:
        group.errors.append(message)
        return group.group_id
    return ""


def _as_new(key: str, posted: Mapping[str, str], edited: str) -> str:
    """The key of an added state or transition, as the loader names it, in the new inputs."""
    name = posted.get(f"{NEW_STATE}.name", "").strip()
    if name and (key == f"states.{name}" or key.startswith(f"states.{name}.")):
        return NEW_STATE + key.removeprefix(f"states.{name}")
    found = re.match(r"transitions\[(\d+)\]\.fields\[(\d+)\](.*)", key)
    owner = (
        f"transitions[{_kept(int(found.group(1)), removed_transitions(posted))}]" if found else ""
    )
    if found and posted.get(f"{owner}.{NEW_FIELD}.name", "").strip():
        transitions = tomllib.loads(edited).get("transitions", [])
        index = int(found.group(1))
        count = len(transitions[index].get("fields", [])) if index < len(transitions) else 0
        if int(found.group(2)) == count - 1:
            return f"{owner}.{NEW_FIELD}{found.group(3)}"
    if posted.get(f"{NEW_TRANSITION}.trigger", "").strip():
        last = len(tomllib.loads(edited).get("transitions", [])) - 1
        prefix = f"transitions[{last}]"
        if key == prefix or key.startswith(prefix + "."):
            return NEW_TRANSITION + key.removeprefix(prefix)
    return _before_removal(key, posted)


def _kept(index: int, removed: list[int]) -> int:
    """The form's index of the `index`-th item left after the removed ones went."""
    original = index
    for gone in removed:  # ascending
        if gone <= original:
            original += 1
    return original


def _before_removal(key: str, posted: Mapping[str, str]) -> str:
    """The loader names transitions and fields by their place after removals; the form by
    their place before."""
    found = re.match(r"transitions\[(\d+)\](.*)", key)
    if not found:
        return key
    index = _kept(int(found.group(1)), removed_transitions(posted))
    rest = found.group(2)
    owner = f"transitions[{index}]"
    in_field = re.match(r"\.fields\[(\d+)\](.*)", rest)
    if in_field:
        field_index = _kept(int(in_field.group(1)), _removed_fields(posted, owner))
        rest = f".fields[{field_index}]{in_field.group(2)}"
    return owner + rest
