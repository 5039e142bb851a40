"""The admin pages' forms: users, memberships, bodies, parties and planning areas (all with
CSRF)."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import (
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
    ValidationError,
)

from models import BodyKind, PartyKind, Role
from workflow.auth.passwords import MIN_LENGTH as MIN_PASSWORD
from workflow.web.fields import DayField, EmailLineField, LineField
from workflow.web.i18n import LANGUAGE_NAMES, _l

EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
BODY_CODE = r"^[A-ZÆØÅ][A-ZÆØÅ0-9-]*$"
NONE = 0  # the value of "none" in a select of ids


NO_SUCH_PARTY = _l("Parten findes ikke. Vælg en part fra listen, eller vælg 'Ingen part'.")


class PartyField(SelectField):  # type: ignore[misc]
    """A select of party ids (0: none): anything else is refused with a Danish sentence."""

    data: Any

    def process_formdata(self, valuelist: list[str]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(str(NO_SUCH_PARTY)) from None

    def pre_validate(self, form: FlaskForm) -> None:
        try:
            super().pre_validate(form)
        except ValidationError:
            raise ValidationError(str(NO_SUCH_PARTY)) from None


class FingerprintForm(FlaskForm):  # type: ignore[misc]
    """A form that carries the fingerprint of the values it was opened with."""

    fingerprint = HiddenField()


class UserForm(FingerprintForm):
    """A user's name, e-mail, language and admin flag."""

    name = LineField(
        _l("Navn"),
        validators=[
            InputRequired(message=_l("Skriv brugerens navn.")),
            Length(max=200, message=_l("Navnet er for langt (højst 200 tegn).")),
        ],
    )
    email = EmailLineField(
        _l("E-mail"),
        validators=[
            InputRequired(message=_l("Skriv brugerens e-mailadresse.")),
            Length(max=254, message=_l("E-mailadressen er for lang (højst 254 tegn).")),
            Regexp(EMAIL, message=_l("Skriv en e-mailadresse som navn@eksempel.dk.")),
        ],
        render_kw={"spellcheck": "false", "autocomplete": "off"},
    )
    locale = SelectField(
        _l("Sprog"), choices=[SelectChoice(k, v) for k, v in LANGUAGE_NAMES.items()]
    )
    is_admin = BooleanField(_l("Administrator (kan ændre brugere, organer og parter)"))
    party_id = PartyField(
        _l("Part"),
        coerce=int,
        default=NONE,
        description=_l("Kommunen, hospitalet eller almen praksis, brugeren svarer for i høringer."),
    )


class NewUserForm(UserForm):
    """A new user, with the password they first log in with."""

    password = PasswordField(
        _l("Adgangskode"),
        validators=[
            InputRequired(message=_l("Skriv en adgangskode.")),
            Length(
                min=MIN_PASSWORD,
                message=_l("Adgangskoden skal være mindst %(count)s tegn.", count=MIN_PASSWORD),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class EditUserForm(UserForm):
    """An existing user; a new password is optional."""

    new_password = PasswordField(
        _l("Ny adgangskode (udfyld kun for at skifte den)"),
        validators=[
            Optional(),
            Length(
                min=MIN_PASSWORD,
                message=_l("Adgangskoden skal være mindst %(count)s tegn.", count=MIN_PASSWORD),
            ),
        ],
        render_kw={"autocomplete": "new-password"},
    )


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """A button that changes something: only the CSRF token."""


class MembershipForm(FlaskForm):  # type: ignore[misc]
    """A new membership: body, role and since when."""

    body_id = SelectField(_l("Organ"), coerce=int)
    role = SelectField(_l("Rolle"), choices=[SelectChoice(r.value, r.value) for r in Role])
    since = DayField(_l("Fra (valgfri)"), validators=[Optional()])


class EndMembershipForm(FlaskForm):  # type: ignore[misc]
    """End a membership on a date (today if none)."""

    until = DayField(_l("Til og med (valgfri, ellers i dag)"), validators=[Optional()])


class BodyForm(FingerprintForm):
    """A body's names, kind, place in the organisation and material deadline."""

    name = LineField(
        _l("Navn"),
        validators=[InputRequired(message=_l("Skriv organets navn.")), Length(max=200)],
    )
    name_en = LineField(_l("Navn på engelsk (valgfrit)"), validators=[Optional(), Length(max=200)])
    kind = SelectField(_l("Art"), choices=[SelectChoice(k.value, k.value) for k in BodyKind])
    parent_id = SelectField(_l("Hører under"), coerce=int)
    planning_area_id = SelectField(_l("Planområde"), coerce=int)
    material_deadline_days = IntegerField(
        _l("Materialefrist (dage før mødet)"),
        validators=[
            InputRequired(message=_l("Skriv antal dage, fx 8.")),
            NumberRange(min=0, max=60, message=_l("Skriv et antal dage mellem 0 og 60.")),
        ],
    )
    material_deadline_working_days = BooleanField(
        _l("Tæl arbejdsdage (spring weekender og helligdage over)")
    )
    # The body's terms (seed 000 l.66-67): its joint chairmanship may decide on its behalf.
    formandskab_decides = BooleanField(
        _l("Formandskabet kan træffe beslutninger på organets vegne mellem møderne")
    )
    active = BooleanField(_l("Aktivt organ"))


class NewBodyForm(BodyForm):
    """A new body, with the code processes will know it by."""

    code = LineField(
        _l("Kode"),
        validators=[
            InputRequired(message=_l("Skriv organets kode, fx SU-NORD-SOM.")),
            Length(max=32, message=_l("Koden er for lang (højst 32 tegn).")),
            Regexp(
                BODY_CODE,
                message=_l("Koden skal begynde med et stort bogstav og bestå af A-Å, 0-9 og -."),
            ),
        ],
    )


class PartyForm(FingerprintForm):
    """A party's name, planning area and whether it is active."""

    name = LineField(
        _l("Navn"),
        validators=[InputRequired(message=_l("Skriv partens navn.")), Length(max=200)],
    )
    planning_area_id = SelectField(_l("Planområde"), coerce=int)
    active = BooleanField(_l("Aktiv part"))


class NewPartyForm(PartyForm):
    """A new party, with the code and kind it is known by."""

    code = LineField(
        _l("Kode"),
        validators=[
            InputRequired(message=_l("Skriv partens kode, fx HOSP-BOH.")),
            Length(max=64, message=_l("Koden er for lang (højst 64 tegn).")),
            Regexp(
                BODY_CODE,
                message=_l("Koden skal begynde med et stort bogstav og bestå af A-Å, 0-9 og -."),
            ),
        ],
    )
    kind = SelectField(_l("Art"), choices=[SelectChoice(k.value, k.value) for k in PartyKind])


class PlanningAreaForm(FingerprintForm):
    """A planning area's name."""

    name = LineField(
        _l("Navn"),
        validators=[
            InputRequired(message=_l("Skriv planområdets navn, fx Planområde Nord.")),
            Length(max=200, message=_l("Navnet er for langt (højst 200 tegn).")),
        ],
    )


class NewPlanningAreaForm(PlanningAreaForm):
    """A new planning area, with the code implementation scopes refer to."""

    code = LineField(
        _l("Kode"),
        validators=[
            InputRequired(message=_l("Skriv planområdets kode, fx NORD.")),
            Length(max=32, message=_l("Koden er for lang (højst 32 tegn).")),
            Regexp(
                BODY_CODE,
                message=_l("Koden skal begynde med et stort bogstav og bestå af A-Å, 0-9 og -."),
            ),
        ],
    )
