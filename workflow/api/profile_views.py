"""The profile page where a user creates and revokes their own API tokens."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import ApiToken
from workflow.api.i18n import _
from workflow.auth import tokens
from workflow.auth.login import current_actor, login_required
from workflow.web import db
from workflow.web.fields import LineField

bp = Blueprint("api_tokens", __name__, url_prefix="/profil/tokens")


class CreateTokenForm(FlaskForm):  # type: ignore[misc]
    """A name for the new token; the CSRF token comes with FlaskForm."""

    name = LineField(render_kw={"maxlength": tokens.NAME_MAX_LENGTH, "autocomplete": "off"})


class RevokeTokenForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: the token to revoke is in the address."""


def _page(form: CreateTokenForm, plain: str | None = None, problem: str | None = None) -> str:
    return render_template(
        "api/tokens.html",
        form=form,
        tokens=tokens.tokens_of(db(), current_actor()),
        plain=plain,
        problem=problem,
    )


@bp.get("")
@login_required
def index() -> str:
    """List the user's tokens, with a form to create one."""
    return _page(CreateTokenForm())


@bp.post("")
@login_required
def create() -> tuple[str, int]:
    """Create a token and show it this once (never through a flash, which sits in a cookie)."""
    form = CreateTokenForm()
    if not form.validate_on_submit():
        return _page(form, problem=_("Formularen kunne ikke sendes. Prøv igen.")), 400
    try:
        issued = tokens.create_token(db(), current_actor(), form.name.data or "")
    except tokens.TokenError as error:
        return _page(form, problem=str(error)), 422
    response = _page(CreateTokenForm(formdata=None), plain=issued.plain)
    return response, 201


@bp.post("/<int:token_id>/tilbagekald")
@login_required
def revoke(token_id: int) -> Response:
    """Revoke one of the user's own tokens."""
    form = RevokeTokenForm()
    session = db()
    token = session.get(ApiToken, token_id)
    user = current_actor()
    if token is None or token.user_id != user.id:
        abort(404)
    if form.validate_on_submit() and tokens.revoke_token(session, token, user):
        flash(
            _("API-nøglen »%(name)s« er tilbagekaldt.", name=token.name or token.prefix), "success"
        )
    return redirect(url_for("api_tokens.index"), code=303)
