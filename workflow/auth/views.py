"""Login and logout: e-mail and password, Argon2 hashes, local `next` redirects only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from models import User
from workflow.auth import operations, passwords, throttle
from workflow.auth.login import current_actor, current_user, login, login_required, logout
from workflow.cases.forms import LoginForm
from workflow.sso.logout import provider_logout
from workflow.sso.settings import current_settings
from workflow.web import db
from workflow.web.i18n import LOCALES, _, _l

bp = Blueprint("auth", __name__)

WRONG_CREDENTIALS = _l("Forkert e-mail eller adgangskode. Prøv igen.")
INACTIVE_USER = _l(
    "Din bruger er deaktiveret og kan ikke logge ind. Kontakt en administrator, "
    "hvis du skal have adgang igen."
)


def safe_next(target: str | None) -> str | None:
    """Return `target` if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return None
    # Browsers read '\' as '/' and drop tabs and newlines, so '/\evil' would leave the site.
    if "\\" in target or any(ord(char) < 32 or ord(char) == 127 for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target if _answers_get(parts.path) else None


def _answers_get(path: str) -> bool:
    """Whether a GET of `path` reaches a page (a form's POST address does not)."""
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return False
    return True


def authenticate(session: Session, email: str, password: str) -> tuple[User | None, str | None]:
    """Return the user the credentials belong to, or None and the message to show."""
    user = session.scalar(select(User).where(func.lower(User.email) == email.strip().lower()))
    # With local passwords switched off only the break-glass accounts may use one; the others
    # get the answer of a wrong password, so the form tells nothing about who is which.
    if user is None or not user.password_hash or not current_settings().allows_password(email):
        passwords.burn_verification_time(password)
        return None, str(WRONG_CREDENTIALS)
    if not passwords.verify_password(user.password_hash, password):
        return None, str(WRONG_CREDENTIALS)
    if not user.active:
        return None, str(INACTIVE_USER)
    if passwords.needs_rehash(user.password_hash):
        operations.rehash_password(session, user, password)
    return user, None


def client_address() -> str:
    """The client's address (the proxy's view of it when AFTALEFLOW_TRUSTED_PROXIES is set)."""
    return request.remote_addr or "ukendt"


def too_many_attempts(remaining: timedelta) -> str:
    """The refusal of a locked account or address, the same whether the account exists."""
    minutes = throttle.minutes_left(remaining)
    if minutes == 1:
        return _("For mange forsøg – prøv igen om 1 minut.")
    return _("For mange forsøg – prøv igen om %(minutes)s minutter.", minutes=minutes)


@dataclass(frozen=True)
class LoginAttempt:
    """The outcome of one login: the user, or the message to show and the HTTP status."""

    user: User | None
    problem: str | None = None
    status: int = 422
    retry_after: timedelta | None = None


def attempt_login(email: str, password: str) -> LoginAttempt:
    """Check the credentials unless the account or the address is locked; count failures."""
    address = client_address()
    keys = [throttle.LOGIN_ACCOUNT.key(email), throttle.LOGIN_ADDRESS.key(address)]
    remaining = throttle.locked_for(db(), keys)
    if remaining is not None:
        return LoginAttempt(None, too_many_attempts(remaining), 429, remaining)
    user, problem = authenticate(db(), email, password)
    if user is not None:
        throttle.clear(db(), throttle.LOGIN_ACCOUNT, email)
    elif problem == str(WRONG_CREDENTIALS):
        throttle.record_failure(db(), throttle.LOGIN_ACCOUNT, email)
        throttle.record_failure(db(), throttle.LOGIN_ADDRESS, address)
    return LoginAttempt(user, problem)


@bp.route("/login", methods=["GET", "POST"], endpoint="login")
def login_page() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    """Show the login form, and log the user in when the credentials match."""
    next_path = safe_next(request.args.get("next"))
    if current_user() is not None:
        return redirect(next_path or url_for("dashboard.index"))
    form = LoginForm()
    attempt = LoginAttempt(None, status=422 if request.method == "POST" else 200)
    if form.validate_on_submit():
        attempt = attempt_login(form.email.data or "", form.password.data or "")
        if attempt.user is not None:
            # A fresh session at login: nothing from before the login carries over.
            session.clear()
            login(attempt.user)
            flash(_("Velkommen, %(name)s.", name=attempt.user.name), "success")
            return redirect(next_path or url_for("dashboard.index"), code=303)
    action = url_for("auth.login", next=next_path) if next_path else url_for("auth.login")
    sso = current_settings()
    html = render_template(
        "auth/login.html",
        form=form,
        problem=attempt.problem,
        action=action,
        providers=list(sso.providers.values()),
        local_passwords=sso.local_passwords,
        next_path=next_path,
    )
    if attempt.retry_after is not None:
        seconds = str(math.ceil(attempt.retry_after.total_seconds()))
        return html, attempt.status, {"Retry-After": seconds}
    return html, attempt.status


@bp.post("/logout", endpoint="logout")
@login_required
def logout_page() -> Response:
    """Log out, here and in every other browser, and return to the login page; after a
    single sign-on, go on to the provider so its session ends too."""
    at_provider = provider_logout(url_for("auth.login", _external=True))
    logout(current_actor())
    session.clear()
    flash(_("Du er logget ud."), "success")
    return redirect(at_provider or url_for("auth.login"), code=303)


@bp.post("/sprog", endpoint="language")
@login_required
def language() -> Response:
    """Save the user's choice of language (audited) and return to the page they were on."""
    user = current_actor()
    chosen = request.form.get("sprog", "")
    if chosen in LOCALES:
        operations.set_locale(db(), user, chosen)
    back = safe_next(request.form.get("tilbage")) or url_for("dashboard.index")
    return redirect(back, code=303)
