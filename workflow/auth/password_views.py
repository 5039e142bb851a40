"""The user's password: change it (profile), or ask for a link by e-mail and set a new one."""

from __future__ import annotations

import math
import os
from datetime import timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from models import User
from workflow.auth import operations, passwords, reset, throttle
from workflow.auth.forms import ChangePasswordForm, ForgotPasswordForm, NewPasswordForm
from workflow.auth.login import current_actor, login, login_required
from workflow.auth.views import client_address, too_many_attempts
from workflow.sso.settings import current_settings
from workflow.web import db
from workflow.web.i18n import _, _l

bp = Blueprint("password", __name__)

Page = Response | tuple[str, int] | tuple[str, int, dict[str, str]]
WRONG_CURRENT = _l("Den nuværende adgangskode er forkert. Skriv den, du loggede ind med.")


def _locked(html: str, remaining: timedelta) -> tuple[str, int, dict[str, str]]:
    return html, 429, {"Retry-After": str(math.ceil(remaining.total_seconds()))}


@bp.route("/profil/adgangskode", methods=["GET", "POST"], endpoint="change")
@login_required
def change() -> Page:
    """Change the password: the current one, then the new one twice. Other sessions end."""
    user = current_actor()
    form = ChangePasswordForm()
    problem: str | None = None
    if form.validate_on_submit():
        remaining = throttle.locked_for(db(), [throttle.LOGIN_ACCOUNT.key(user.email)])
        if remaining is not None:
            html = render_template(
                "profile/password.html",
                form=form,
                problem=too_many_attempts(remaining),
                min_length=passwords.MIN_LENGTH,
            )
            return _locked(html, remaining)
        if not passwords.verify_password(user.password_hash, form.current_password.data or ""):
            throttle.record_failure(db(), throttle.LOGIN_ACCOUNT, user.email)
            form.current_password.errors.append(str(WRONG_CURRENT))
        else:
            problem = passwords.policy_problem(form.new_password.data or "", user.email)
            if problem is None:
                operations.change_password(db(), user, form.new_password.data, "password_changed")
                login(user)  # this session goes on with the new token; all others end
                flash(
                    _(
                        "Din adgangskode er skiftet, og du er logget ud alle andre steder. "
                        "Dine API-nøgler virker stadig; tilbagekald dem under API-nøgler, hvis "
                        "en af dem kan være kommet i forkerte hænder."
                    ),
                    "success",
                )
                return redirect(url_for("profile.index"), code=303)
            form.new_password.errors.append(problem)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "profile/password.html", form=form, problem=None, min_length=passwords.MIN_LENGTH
    ), status


def _reset_link(token: str) -> str:
    # A configured base address, not the request's Host header, which the requester controls.
    base = current_app.config.get("BASE_URL") or os.environ.get("AFTALEFLOW_BASE_URL")
    path = url_for("password.reset", token=token)
    if base:
        return str(base).rstrip("/") + path
    return request.host_url.rstrip("/") + path


@bp.route("/glemt-adgangskode", methods=["GET", "POST"], endpoint="forgot")
def forgot() -> Page:
    """Ask for a reset link; the answer is the same whether or not the address has a user."""
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        email = (form.email.data or "").strip()
        address = client_address()
        keys = [throttle.RESET_ACCOUNT.key(email), throttle.RESET_ADDRESS.key(address)]
        remaining = throttle.locked_for(db(), keys)
        if remaining is not None:
            html = render_template(
                "auth/forgot.html", form=form, problem=too_many_attempts(remaining)
            )
            return _locked(html, remaining)
        # Every request counts, found or not, so the counts tell nothing either.
        throttle.record_failure(db(), throttle.RESET_ACCOUNT, email)
        throttle.record_failure(db(), throttle.RESET_ADDRESS, address)
        user = reset.find_active_user(db(), email)
        # With local passwords off only a break-glass account can get a password by mail.
        if user is not None and current_settings().allows_password(email):
            token = reset.make_token(current_app.config["SECRET_KEY"], user)
            reset.send_link(db(), user, _reset_link(token))
        flash(
            _(
                "Hvis %(email)s hører til en bruger i Aftaleflow, har vi sendt en mail med et "
                "link, hvor du kan vælge en ny adgangskode. Linket virker i 1 time. Kommer der "
                "ingen mail, så tjek din spam-mappe, eller kontakt sekretariatet.",
                email=email,
            ),
            "info",
        )
        return redirect(url_for("auth.login"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template("auth/forgot.html", form=form, problem=None), status


@bp.route("/nulstil-adgangskode/<token>", methods=["GET", "POST"], endpoint="reset")
def reset_password(token: str) -> Page:
    """Set a new password from a mailed link (once, within the hour)."""
    user: User | None = reset.user_of(db(), current_app.config["SECRET_KEY"], token)
    if user is None:
        html = render_template("auth/reset_invalid.html")
        return html, 410 if request.method == "GET" else 422
    form = NewPasswordForm()
    if form.validate_on_submit():
        problem = passwords.policy_problem(form.new_password.data or "", user.email)
        if problem is None:
            operations.change_password(db(), user, form.new_password.data, "password_reset")
            throttle.clear(db(), throttle.LOGIN_ACCOUNT, user.email)
            flash(_("Din adgangskode er skiftet. Log ind med den nye adgangskode."), "success")
            return redirect(url_for("auth.login"), code=303)
        form.new_password.errors.append(problem)
    status = 422 if form.is_submitted() else 200
    return render_template(
        "auth/reset.html", form=form, user=user, token=token, min_length=passwords.MIN_LENGTH
    ), status
