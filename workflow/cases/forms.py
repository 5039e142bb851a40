"""Forms: the login form, and the action forms built from a transition's declared fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    SelectMultipleField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from models import Meeting
from workflow.engine import values
from workflow.engine.definitions import FieldSpec, TransitionSpec
from workflow.engine.guards import Failure
from workflow.web.fields import AmountField, EmailLineField, LineField, TextField
from workflow.web.i18n import _, _l, format_datetime, label, meeting_title, pick

MEETING_FIELD = "meeting_id"
ALL_ANSWERED_FIELD = "all_answered"
COMMENT_FIELD = "comment"


class LoginForm(FlaskForm):  # type: ignore[misc]
    """E-mail and password; the CSRF token comes with FlaskForm."""

    email = EmailLineField(
        _l("E-mail"),
        validators=[
            InputRequired(message=_l("Skriv din e-mailadresse.")),
            Length(max=254, message=_l("E-mailadressen er for lang (højst 254 tegn).")),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
    password = PasswordField(
        _l("Adgangskode"),
        validators=[InputRequired(message=_l("Skriv din adgangskode."))],
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


def _spec_field(
    trigger: str,
    spec: FieldSpec,
    meetings: Sequence[Option],
    bodies: Mapping[str, Sequence[Option]] | None = None,
) -> ActionField:
    input_id = f"{trigger}-{spec.name}"
    if spec.type == "body":
        return ActionField(
            spec.name, label(spec), "select", spec.required, input_id,
            options=[Option("", _("Vælg")), *(bodies or {}).get(spec.name, [])],
        )  # fmt: skip
    if spec.type in ("choice", "meeting"):
        offered = [Option(c, c) for c in spec.choices] if spec.type == "choice" else meetings
        return ActionField(
            spec.name, label(spec), "select", spec.required, input_id,
            options=[Option("", _("Vælg")), *offered],
        )  # fmt: skip
    return ActionField(spec.name, label(spec), _KINDS[spec.type], spec.required, input_id)


def meeting_options(meetings: Sequence[Meeting]) -> list[Option]:
    """Describe meetings for a select: title and Danish date and time."""
    return [
        Option(str(m.id), f"{meeting_title(m)} – {format_datetime(m.starts_at)}") for m in meetings
    ]


def build_action_form(
    transition: TransitionSpec,
    expected_version: int,
    meetings: Sequence[Meeting],
    *,
    as_chair: bool,
    bodies: Mapping[str, Sequence[Option]] | None = None,
    options: Sequence[Option] | None = None,
) -> ActionForm:
    """Lay out the inputs `transition` asks for, plus the meeting of a decision (`options`:
    the meetings described already, when a page lays out several forms)."""
    if options is None:
        wants_meeting = transition.decision or any(f.type == "meeting" for f in transition.fields)
        options = meeting_options(meetings) if wants_meeting else []
    fields: list[ActionField] = []
    if transition.decision:
        empty = (
            _("Intet møde – formandskabet beslutter på organets vegne")
            if as_chair
            else _("Vælg mødet, hvor beslutningen blev truffet")
        )
        hint = _("Beslutningen knyttes til mødets referat.")
        if as_chair:
            hint += " " + _("Mellem møderne kan formandskabet beslutte uden møde.")
        fields.append(
            ActionField(
                MEETING_FIELD,
                _("Møde"),
                "select",
                not as_chair,
                f"{transition.trigger}-{MEETING_FIELD}",
                options=[Option("", empty), *options],
                hint=hint,
            )
        )
    fields += [_spec_field(transition.trigger, spec, options, bodies) for spec in transition.fields]
    if "consultation_closed" in transition.guards:
        fields.append(
            ActionField(
                ALL_ANSWERED_FIELD,
                _("Alle parter har svaret på høringen"),
                "bool",
                False,
                f"{transition.trigger}-{ALL_ANSWERED_FIELD}",
                hint=_("Sæt kryds, hvis høringen kan afsluttes før fristen."),
            )
        )
    if not any(spec.name == COMMENT_FIELD for spec in transition.fields):
        fields.append(
            ActionField(
                COMMENT_FIELD, _("Kommentar"), "textarea", False,
                f"{transition.trigger}-{COMMENT_FIELD}",
                hint=_("Valgfri. Vises i sagens historik."),
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
        message = pick(failure.message, failure.message_en)
        if target is not None:
            target.errors.append(message)
        else:
            form.errors.append(message)


class MultiCheckboxField(SelectMultipleField):  # type: ignore[misc]
    """Several choices as checkboxes in a list (readable without JavaScript)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ExpenseForm(Form):  # type: ignore[misc]
    """One party's expected extra expense per year."""

    party_id = SelectField(_l("Part"), coerce=str, validate_choice=False)
    amount = AmountField(
        _l("Merudgift pr. år (kr.)"),
        validators=[Optional()],
        render_kw={"inputmode": "decimal"},
    )
    note = LineField(_l("Note"), validators=[Length(max=500)])


EXPENSE_ROWS = 3
FLAG_FIELDS = ("principled", "political", "interface_change", "cost_driving", "large_task")
TEXT_FIELDS = (
    "summary", "role_distribution", "general_practice_role", "business_case",
    "financing_proposal", "triple_aim_population", "triple_aim_quality", "triple_aim_economy",
    "triple_aim_experience",
)  # fmt: skip


def _describes_an_aim(_form: Any, field: Any) -> None:
    """A Triple Aim field may be left empty in a draft, but not filled with a placeholder."""
    from workflow.cases.rules import addresses_aim

    text = (field.data or "").strip()
    if text and not addresses_aim(text):
        raise ValidationError(
            _(
                "Beskriv med egne ord, hvad forslaget betyder for dette mål i Triple Aim, eller "
                "lad feltet stå tomt, til det kan beskrives."
            )
        )


class CaseForm(FlaskForm):  # type: ignore[misc]
    """Every field a case's guards read; any subset can be saved as a draft."""

    expected_version = HiddenField()
    originating_body = SelectField(_l("Organ, der rejser sagen"), coerce=str)
    title = LineField(
        _l("Titel"),
        validators=[
            InputRequired(message=_l("Giv sagen en titel, så den kan gemmes.")),
            Length(max=300, message=_l("Titlen er for lang (højst 300 tegn).")),
        ],
    )
    summary = TextField(_l("Resumé"))
    focus_area_id = SelectField(_l("Fokusområde"), coerce=str, validate_choice=False)
    national_goals = MultiCheckboxField(_l("Nationale mål"), coerce=str, validate_choice=False)
    plan_year = IntegerField(
        _l("Planår"),
        validators=[Optional(), NumberRange(min=2000, max=2100, message=_l("Skriv et årstal."))],
    )
    principled = BooleanField(_l("Sagen er principiel"))
    political = BooleanField(_l("Sagen er af politisk karakter"))
    interface_change = BooleanField(_l("Sagen ændrer en snitflade mellem sektorerne"))
    cost_driving = BooleanField(_l("Sagen giver en eller flere parter nye opgaver med merudgift"))
    large_task = BooleanField(_l("Sagen er en større opgave"))
    role_distribution = TextField(_l("Rolle- og opgavefordeling"))
    general_practice_role = TextField(_l("Almen praksis' rolle"))
    expenses = FieldList(FormField(ExpenseForm), min_entries=EXPENSE_ROWS)
    business_case = TextField(_l("Businesscase"))
    financing_proposal = TextField(_l("Finansieringsforslag"))
    triple_aim_population = TextField(_l("Befolkningens sundhed"), validators=[_describes_an_aim])
    triple_aim_quality = TextField(_l("Kvalitet"), validators=[_describes_an_aim])
    triple_aim_economy = TextField(_l("Økonomi"), validators=[_describes_an_aim])
    triple_aim_experience = TextField(_l("Borgerens oplevelse"), validators=[_describes_an_aim])
    esdh_case_number = LineField(
        _l("ESDH-sagsnummer"),
        validators=[Length(max=64, message=_l("Sagsnummeret er for langt (højst 64 tegn)."))],
    )


@dataclass(frozen=True)
class ExpenseInput:
    """A party's extra expense as the form gives it."""

    party_id: int
    amount: Decimal
    note: str


def case_changes(form: CaseForm) -> dict[str, Any]:
    """The engine's field values from a valid case form."""
    changes: dict[str, Any] = {"title": (form.title.data or "").strip()}
    for name in TEXT_FIELDS:
        changes[name] = (getattr(form, name).data or "").strip()
    for name in FLAG_FIELDS:
        changes[name] = bool(getattr(form, name).data)
    focus = form.focus_area_id.data or ""
    changes["focus_area_id"] = values.parse_id(focus)
    changes["plan_year"] = form.plan_year.data
    changes["esdh_case_number"] = (form.esdh_case_number.data or "").strip() or None
    return changes


def goal_ids(form: CaseForm) -> list[int]:
    """The chosen national goals' ids."""
    chosen = (values.parse_id(v) for v in form.national_goals.data or [])
    return sorted(number for number in chosen if number is not None)


def expense_inputs(form: CaseForm) -> tuple[list[ExpenseInput], list[str]]:
    """The filled expense rows, and a message for each row that cannot be saved."""
    rows: list[ExpenseInput] = []
    problems: list[str] = []
    seen: set[int] = set()
    for number, entry in enumerate(form.expenses.entries, start=1):
        party = entry.form.party_id.data or ""
        amount = entry.form.amount.data
        if not party and amount is None:
            continue
        if not party:
            problems.append(_("Række %(row)s: vælg den part, merudgiften gælder.", row=number))
            continue
        offered = {str(value) for value, *_label in entry.form.party_id.choices or []}
        if party not in offered or not values.is_record_id(party):
            problems.append(
                _("Række %(row)s: parten findes ikke. Vælg en part på listen.", row=number)
            )
            continue
        if amount is None:
            problems.append(_("Række %(row)s: skriv beløbet (0 eller mere).", row=number))
            continue
        if int(party) in seen:
            problems.append(_("Række %(row)s: parten står allerede i en anden række.", row=number))
            continue
        seen.add(int(party))
        rows.append(ExpenseInput(int(party), Decimal(amount), (entry.form.note.data or "").strip()))
    return rows, problems
