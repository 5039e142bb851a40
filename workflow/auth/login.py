"""Flask-Login glue, typed: the login manager, the current user and `login_required`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_login  # type: ignore[import-untyped,unused-ignore]
from flask import Flask, abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from models import User
from workflow.web import db
from workflow.web.i18n import _

View = TypeVar("View", bound=Callable[..., Any])


def init_login(app: Flask) -> None:
    """Set up Flask-Login: strong session protection, no remember-me, Danish messages."""
    manager = flask_login.LoginManager()
    manager.login_view = "auth.login"
    manager.unauthorized_handler(_unauthorized)
    # "strong" ends the session when the client's address or browser changes.
    manager.session_protection = "strong"
    manager.user_loader(_load_user)
    manager.init_app(app)


def _unauthorized() -> Response:
    """Send an anonymous visitor to the login page, to come back to a page they can GET."""
    flash(_("Log ind for at se siden."), "info")
    if request.method in ("GET", "HEAD"):
        query = request.query_string.decode("utf-8", "replace")
        target = request.path + (f"?{query}" if query else "")
    else:
        target = _page_behind_form()
    return redirect(url_for("auth.login", next=target))


def _page_behind_form() -> str:
    """The page a refused POST came from: its case's page, else the page that sent it."""
    case_id = (request.view_args or {}).get("case_id")
    if isinstance(case_id, int):
        return url_for("cases.detail", case_id=case_id)
    referrer = request.referrer or ""
    if referrer.startswith(request.host_url):
        return "/" + referrer.removeprefix(request.host_url)
    return url_for("dashboard.index")


def _load_user(user_id: str) -> User | None:
    if not user_id.isdigit():
        return None
    user = db().get(User, int(user_id))
    # A deactivated user's open session ends at their next request.
    return user if user is not None and user.active else None


def login_required(view: View) -> View:
    """Send anonymous visitors to the login page, remembering where they were going."""
    return cast(View, flask_login.login_required(view))


def login(user: User) -> bool:
    """Log `user` in for this browser session only (remember-me is off)."""
    return bool(flask_login.login_user(user, remember=False))


def logout() -> None:
    """Log the current user out."""
    flask_login.logout_user()


def current_user() -> User | None:
    """Return the logged-in user, or None for an anonymous visitor."""
    user = flask_login.current_user
    if user is None or not user.is_authenticated:
        return None
    return cast(User, user._get_current_object())


def current_actor() -> User:
    """Return the logged-in user of a view behind `login_required`."""
    user = current_user()
    if user is None:
        abort(401)
    return user
