"""The designer's forms (with CSRF): the draft as TOML, and the buttons that act on a draft."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import InputRequired, Length

from workflow.web.fields import TextField
from workflow.web.i18n import _l

# A definition is a few hundred lines; far more is no definition an admin writes by hand.
MAX_SOURCE = 200_000


class DraftForm(FlaskForm):  # type: ignore[misc]
    """The draft's TOML, the draft revision it was opened at and the version it started from."""

    source = TextField(
        _l("Definitionen (TOML)"),
        validators=[
            InputRequired(_l("Skriv definitionen.")),
            Length(max=MAX_SOURCE, message=_l("Definitionen er for lang.")),
        ],
    )
    revision = HiddenField()
    base_version = HiddenField()


class DraftActionForm(FlaskForm):  # type: ignore[misc]
    """Publish or discard the draft at the revision the admin saw."""

    revision = HiddenField()


class StructureForm(FlaskForm):  # type: ignore[misc]
    """The form editor's frame: the draft revision and version it was opened at (the states'
    and transitions' inputs are named by their key paths and read by form_editor)."""

    revision = HiddenField()
    base_version = HiddenField()
