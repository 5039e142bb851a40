"""Forms of the user's own account: change the password, ask for a reset link, set a new one.
CSRF comes with FlaskForm; the password policy is checked in the views (it needs the e-mail)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField
from wtforms.validators import EqualTo, InputRequired, Length

from workflow.auth.passwords import MAX_LENGTH
from workflow.web.fields import EmailLineField
from workflow.web.i18n import _l

TOO_LONG = _l("Adgangskoden må højst være %(count)s tegn.", count=MAX_LENGTH)


class NewPasswordForm(FlaskForm):  # type: ignore[misc]
    """A new password, typed twice."""

    new_password = PasswordField(
        _l("Ny adgangskode"),
        validators=[
            InputRequired(message=_l("Skriv din nye adgangskode.")),
            Length(max=MAX_LENGTH, message=TOO_LONG),
        ],
        render_kw={"autocomplete": "new-password"},
    )
    repeat = PasswordField(
        _l("Gentag den nye adgangskode"),
        validators=[
            InputRequired(message=_l("Skriv den nye adgangskode igen.")),
            EqualTo(
                "new_password",
                message=_l("De to nye adgangskoder er ikke ens. Skriv den samme i begge felter."),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ChangePasswordForm(NewPasswordForm):
    """The current password, then the new one twice."""

    current_password = PasswordField(
        _l("Nuværende adgangskode"),
        validators=[
            InputRequired(message=_l("Skriv din nuværende adgangskode.")),
            Length(max=MAX_LENGTH, message=TOO_LONG),
        ],
        render_kw={"autocomplete": "current-password"},
    )


class ForgotPasswordForm(FlaskForm):  # type: ignore[misc]
    """The e-mail address to send a reset link to."""

    email = EmailLineField(
        _l("E-mail"),
        validators=[
            InputRequired(message=_l("Skriv din e-mailadresse.")),
            Length(max=254, message=_l("E-mailadressen er for lang (højst 254 tegn).")),
        ],
        render_kw={"autocomplete": "username", "spellcheck": "false"},
    )
