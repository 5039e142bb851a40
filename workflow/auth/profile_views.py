"""The user's own settings: mail immediately or as a daily digest, and language (audited)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import RadioField, SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired

from workflow.auth import operations
from workflow.auth.login import current_actor, login_required
from workflow.web import db
from workflow.web.i18n import LANGUAGE_NAMES, _, _l

bp = Blueprint("profile", __name__, url_prefix="/profil")

IMMEDIATE = "straks"
DAILY = "dagligt"


class PreferencesForm(FlaskForm):  # type: ignore[misc]
    """How mail arrives and which language the pages speak; CSRF comes with FlaskForm."""

    levering = RadioField(
        _l("Hvornår vil du have mails?"),
        choices=[
            SelectChoice(IMMEDIATE, _l("Straks: én mail for hver besked")),
            SelectChoice(DAILY, _l("Dagligt overblik: én samlet mail om morgenen")),
        ],
        validators=[InputRequired(message=_l("Vælg, hvornår du vil have mails."))],
    )
    sprog = SelectField(
        _l("Sprog"),
        # Each language named in itself, marked so screen readers pronounce it right.
        choices=[
            SelectChoice(code, name, render_kw={"lang": code})
            for code, name in LANGUAGE_NAMES.items()
        ],
        validators=[InputRequired(message=_l("Vælg et sprog."))],
        # One language is always chosen: HTML allows `required` on a select only with an
        # empty placeholder option first.
        render_kw={"required": False},
    )


@bp.route("", methods=["GET", "POST"])
@login_required
def index() -> Response | tuple[str, int]:
    """Show the user's settings, and save them when the form is sent."""
    user = current_actor()
    form = PreferencesForm(
        data={"levering": DAILY if user.digest else IMMEDIATE, "sprog": user.locale}
    )
    if form.validate_on_submit():
        changed = operations.save_preferences(
            db(), user, form.levering.data == DAILY, form.sprog.data
        )
        if changed:
            flash(_("Dine indstillinger er gemt."), "success")
        else:
            flash(_("Ingen ændringer: indstillingerne var allerede sådan."), "info")
        return redirect(url_for("profile.index"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("profile/index.html", form=form, user=user), status
