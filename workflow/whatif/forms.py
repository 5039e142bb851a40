"""The what-if page's form (CSRF): the period and the changes to replay."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectField
from wtforms.validators import InputRequired, NumberRange, Optional

from workflow.web.fields import TextField
from workflow.web.i18n import _l
from workflow.whatif.scenario import MAX_MATERIAL_DAYS, MAX_MONTHS


class WhatIfForm(FlaskForm):  # type: ignore[misc]
    """Each change is optional; the replay compares the history with all of them at once."""

    months = IntegerField(
        _l("Måneder tilbage"),
        default=12,
        validators=[
            InputRequired(_l("Skriv et antal måneder.")),
            NumberRange(1, MAX_MONTHS, _l("Skriv et antal måneder fra 1 til %(max)s.")),
        ],
    )
    # The choices are checked by the scenario's parsers, with a Danish and an English sentence.
    version = SelectField(_l("Gemt procesversion"), choices=[], default="", validate_choice=False)
    draft = TextField(_l("Kladde til procesdefinition (TOML)"), validators=[Optional()])
    material_body = SelectField(
        _l("Organ med ændret materialefrist"), choices=[], default="", validate_choice=False
    )
    material_days = IntegerField(
        _l("Ny materialefrist (dage)"),
        validators=[
            Optional(),
            NumberRange(0, MAX_MATERIAL_DAYS, _l("Skriv et antal dage fra 0 til %(max)s.")),
        ],
    )
    calendar_body = SelectField(
        _l("Organ med ændret mødekalender"), choices=[], default="", validate_choice=False
    )
    meeting_days = TextField(
        _l("Nye mødedatoer (ÅÅÅÅ-MM-DD, én pr. linje)"), validators=[Optional()]
    )
