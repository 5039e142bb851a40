"""Forms: the login form, and the action forms built from a transition's declared fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import InputRequired, Length

from models import Meeting
from workflow.definitions import FieldSpec, TransitionSpec
from workflow.guards import Failure
from workflow.localtime import format_datetime

MEETING_FIELD = "meeting_id"
ALL_ANSWERED_FIELD = "all_answered"
COMMENT_FIELD = "comment"


class LoginForm(FlaskForm):  # type: ignore[misc]
    """E-mail and password; the CSRF token comes with FlaskForm."""

    email = EmailField(
        "E-mail",
        validators=[
            InputRequired(message="Skriv din e-mailadresse."),
            Length(max=254, message="E-mailadressen er for lang (højst 254 tegn)."),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        "Adgangskode",
        validators=[InputRequired(message="Skriv din adgangskode.")],
        render_kw={"autocomplete": "current-password"},
    )


@dataclass(frozen=True)
class Option:
    """One choice in a select."""

    value: str
    label: str


@dataclass
class ActionField:
    """One input of an action form, with the user's value and its error messages."""

    name: str
    label: str
    kind: str  # textarea, date, int, bool, select
    required: bool
    input_id: str
    value: str = ""
    options: list[Option] = field(default_factory=list)
    hint: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def error_id(self) -> str:
        return f"{self.input_id}-fejl"

    @property
    def hint_id(self) -> str:
        return f"{self.input_id}-hjaelp"

    @property
    def described_by(self) -> str:
        ids = ([self.hint_id] if self.hint else []) + ([self.error_id] if self.errors else [])
        return " ".join(ids)


@dataclass
class ActionForm:
    """The form for one transition the user may fire, as the case page shows it."""

    transition: TransitionSpec
    fields: list[ActionField]
    expected_version: int
    errors: list[str] = field(default_factory=list)
    is_open: bool = False

    @property
    def trigger(self) -> str:
        return self.transition.trigger

    @property
    def form_id(self) -> str:
        return f"handling-{self.trigger}"

    @property
    def error_id(self) -> str:
        return f"{self.form_id}-fejl"

    @property
    def has_errors(self) -> bool:
        return bool(self.errors) or any(f.errors for f in self.fields)


@dataclass(frozen=True)
class ActionInput:
    """What the user submitted for a transition, ready for engine.perform()."""

    comment: str | None
    data: dict[str, Any]
    raw: dict[str, str]


_KINDS = {"text": "textarea", "date": "date", "int": "int", "bool": "bool"}


def _spec_field(trigger: str, spec: FieldSpec, meetings: Sequence[Option]) -> ActionField:
    input_id = f"{trigger}-{spec.name}"
    if spec.type in ("choice", "meeting"):
        offered = [Option(c, c) for c in spec.choices] if spec.type == "choice" else meetings
        return ActionField(
            spec.name, spec.label, "select", spec.required, input_id,
            options=[Option("", "Vælg"), *offered],
        )  # fmt: skip
    return ActionField(spec.name, spec.label, _KINDS[spec.type], spec.required, input_id)


def meeting_options(meetings: Sequence[Meeting]) -> list[Option]:
    """Describe meetings for a select: title and Danish date and time."""
    return [
        Option(str(m.id), f"{m.title or 'Møde'} – {format_datetime(m.starts_at)}") for m in meetings
    ]


def build_action_form(
    transition: TransitionSpec,
    expected_version: int,
    meetings: Sequence[Meeting],
    *,
    as_chair: bool,
) -> ActionForm:
    """Lay out the inputs `transition` asks for, plus the meeting of a decision."""
    options = meeting_options(meetings)
    fields: list[ActionField] = []
    if transition.decision:
        empty = (
            "Intet møde – formandskabet beslutter på organets vegne"
            if as_chair
            else "Vælg mødet, hvor beslutningen blev truffet"
        )
        fields.append(
            ActionField(
                MEETING_FIELD,
                "Møde",
                "select",
                not as_chair,
                f"{transition.trigger}-{MEETING_FIELD}",
                options=[Option("", empty), *options],
                hint="Beslutningen knyttes til mødets referat."
                + (" Mellem møderne kan formandskabet beslutte uden møde." if as_chair else ""),
            )
        )
    fields += [_spec_field(transition.trigger, spec, options) for spec in transition.fields]
    if "consultation_closed" in transition.guards:
        fields.append(
            ActionField(
                ALL_ANSWERED_FIELD,
                "Alle parter har svaret på høringen",
                "bool",
                False,
                f"{transition.trigger}-{ALL_ANSWERED_FIELD}",
                hint="Sæt kryds, hvis høringen kan afsluttes før fristen.",
            )
        )
    if not any(spec.name == COMMENT_FIELD for spec in transition.fields):
        fields.append(
            ActionField(
                COMMENT_FIELD, "Kommentar", "textarea", False,
                f"{transition.trigger}-{COMMENT_FIELD}",
                hint="Valgfri. Vises i sagens historik.",
            )
        )  # fmt: skip
    return ActionForm(transition, fields, expected_version)


def read_action_input(form: ActionForm, submitted: Mapping[str, str]) -> ActionInput:
    """Turn the posted values into the engine's comment and data, keeping the raw input."""
    comment: str | None = None
    data: dict[str, Any] = {}
    raw: dict[str, str] = {}
    for action_field in form.fields:
        if action_field.kind == "bool":
            checked = action_field.name in submitted
            raw[action_field.name] = "on" if checked else ""
            if action_field.name == ALL_ANSWERED_FIELD:
                if checked:
                    data[ALL_ANSWERED_FIELD] = True
            else:
                data[action_field.name] = checked
            continue
        value = submitted.get(action_field.name, "")
        raw[action_field.name] = value
        if action_field.name == COMMENT_FIELD:
            comment = value.strip() or None
        elif value.strip():
            data[action_field.name] = value.strip()
    return ActionInput(comment, data, raw)


def fill(form: ActionForm, raw: Mapping[str, str]) -> None:
    """Put the user's submitted values back into the form and open it."""
    form.is_open = True
    for action_field in form.fields:
        action_field.value = raw.get(action_field.name, "")


def attach_failures(form: ActionForm, failures: Sequence[Failure]) -> None:
    """Show each failure beside the input it concerns, or above the form."""
    by_name = {f.name: f for f in form.fields}
    for failure in failures:
        name: str | None = None
        if failure.rule == "decision_at_meeting":
            name = MEETING_FIELD
        elif failure.rule.startswith("field:"):
            name = failure.rule.removeprefix("field:")
        target = by_name.get(name) if name else None
        if target is not None:
            target.errors.append(failure.message)
        else:
            form.errors.append(failure.message)
