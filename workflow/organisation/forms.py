"""The form a forum's chair sets up an ad hoc group with (seed 000 l.68-69)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms.validators import InputRequired, Length, Optional

from workflow.web.fields import DayField, LineField, TextField
from workflow.web.i18n import _l


class AdHocGroupForm(FlaskForm):  # type: ignore[misc]
    """An ad hoc group's name, task and end date."""

    name = LineField(
        _l("Gruppens navn"),
        validators=[
            InputRequired(message=_l("Skriv gruppens navn, fx Ad hoc-gruppe om børnedata.")),
            Length(max=200, message=_l("Navnet er for langt (højst 200 tegn).")),
        ],
    )
    task = TextField(
        _l("Opgave"),
        validators=[Optional(), Length(max=2000, message=_l("Højst 2000 tegn."))],
    )
    ends_on = DayField(
        _l("Slutdato"),
        validators=[InputRequired(message=_l("Vælg den dag, gruppen ophører."))],
    )
