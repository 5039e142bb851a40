"""WTForms fields for the validated values in `workflow.engine.values`.

Every form takes its text, ids, amounts and links through these fields, so a form refuses
what the API refuses, with the same Danish or English sentence.
"""

from __future__ import annotations

import decimal
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from wtforms import (
    DateField,
    DecimalField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import ValidationError

from workflow.engine import formats, values
from workflow.web.i18n import pick

# Dots between groups of three digits are thousands separators in Danish: 1.250.000.
DANISH_THOUSANDS = re.compile(r"\d{1,3}(\.\d{3})+")


def _checked(parse: Callable[[], Any]) -> Any:
    """Run a parser from `workflow.engine.values`; its refusal becomes the field's error."""
    try:
        return parse()
    except values.InvalidValue as problem:
        raise ValidationError(pick(problem.message_da, problem.message_en)) from None


class LineField(StringField):  # type: ignore[misc]
    """One line of text: refuses line breaks and other control characters."""

    data: Any

    def pre_validate(self, form: Any) -> None:
        text = str(self.data or "")
        if text:
            self.data = _checked(lambda: values.single_line(text))


class EmailLineField(EmailField):  # type: ignore[misc]
    """An e-mail address: one line (a line break would end a mail header early)."""

    data: Any

    def pre_validate(self, form: Any) -> None:
        text = str(self.data or "")
        if text:
            self.data = _checked(lambda: values.single_line(text))


class TextField(TextAreaField):  # type: ignore[misc]
    """Text of several lines: line breaks and tabs, no other control characters."""

    data: Any

    def pre_validate(self, form: Any) -> None:
        text = str(self.data or "")
        if text:
            self.data = _checked(lambda: values.long_text(text))


class UrlField(StringField):  # type: ignore[misc]
    """A link people may follow: http or https only (never javascript:, data: or file:)."""

    data: Any

    def pre_validate(self, form: Any) -> None:
        text = str(self.data or "").strip()
        self.data = _checked(lambda: values.web_url(text)) if text else None


class IdField(IntegerField):  # type: ignore[misc]
    """The id of a stored row, as a hidden input or a number: 1 to the database's limit."""

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = valuelist[0] if valuelist else ""
        self.data = int(raw) if values.is_record_id(raw) else None
        if raw.strip() and self.data is None:
            raise ValueError(pick(*_NO_SUCH_CHOICE))


_NO_SUCH_CHOICE = (
    "Valget findes ikke. Vælg en af mulighederne på listen.",
    "That choice does not exist. Pick one of the options in the list.",
)


class IdSelectField(SelectField):  # type: ignore[misc]
    """A select whose values are ids; anything but an id in range is refused."""

    def pre_validate(self, form: Any) -> None:
        if self.data not in (None, ""):
            _checked(lambda: values.record_id(self.data))
        super().pre_validate(form)


class DayField(DateField):  # type: ignore[misc]
    """A calendar date within the years the app plans with (see values.within_calendar)."""

    data: Any

    def pre_validate(self, form: Any) -> None:
        day = self.data
        if isinstance(day, date):
            _checked(lambda: values.within_calendar(day))


class AmountField(DecimalField):  # type: ignore[misc]
    """An amount in kroner, written the Danish way (12.500,50) or with a decimal point,
    within its column's range and not negative unless `minimum` says otherwise."""

    def __init__(
        self,
        label: Any = None,
        validators: Any = None,
        *,
        digits: int = values.AMOUNT_DIGITS,
        minimum: Decimal | None = Decimal(0),
        **kwargs: Any,
    ) -> None:
        super().__init__(label, validators, places=values.AMOUNT_PLACES, **kwargs)
        self.digits = digits
        self.minimum = minimum

    def _value(self) -> str:
        # A stored amount is shown as Danes write it ('2.400.000', '1.234,50'), which this
        # field reads back unchanged; what the user typed is shown as typed.
        if self.raw_data is None and isinstance(self.data, Decimal):
            return formats.format_number(self.data)
        # An amount stored before amounts were bounded may have more digits than the default
        # decimal context rounds; show it so the user can correct it.
        with decimal.localcontext(prec=100):
            return str(super()._value())

    def process_formdata(self, valuelist: list[str]) -> None:
        """Read '12.500,50', '250.000', '12500,5' or '12500.50'; a blank stays None."""
        raw = (valuelist[0] if valuelist else "").replace(" ", "").replace("kr.", "").strip()
        if not raw:
            self.data = None
            return
        if "," in raw:
            raw = raw.replace(".", "").replace(",", ".")
        elif DANISH_THOUSANDS.fullmatch(raw):
            raw = raw.replace(".", "")  # '250.000' is 250 000 kr., as Danes write it
        self.data = None
        try:
            self.data = values.amount(raw, digits=self.digits, minimum=self.minimum)
        except values.InvalidValue as problem:
            raise ValueError(pick(problem.message_da, problem.message_en)) from None
