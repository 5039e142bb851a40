"""Flask-Login glue, typed: the login manager, the current user and `login_required`."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_login  # type: ignore[import-untyped,unused-ignore]
from flask import Flask, abort, flash, redirect, request, url_for
from werkzeug.wrappers import Response

from models import User
from workflow import policy
from workflow.auth import operations
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


def _load_user(session_id: str) -> User | None:
    """The user of a login cookie's "id:token", while the token is the user's current one."""
    user_id, _colon, token = session_id.partition(":")
    if not token or not user_id.isdigit() or len(user_id) > 18:
        return None
    # With the user's standing and the process versions' mark, which every page asks for next.
    user = policy.load_user(db(), int(user_id))
    # A deactivated user's open session ends at their next request; so does every session
    # from before a logout or a password change, which gave the user a new token.
    if user is None or not user.active or not user.session_token:
        return None
    if not hmac.compare_digest(user.session_token.encode(), token.encode()):
        return None
    return user


def login_required(view: View) -> View:
    """Send anonymous visitors to the login page, remembering where they were going."""
    return cast(View, flask_login.login_required(view))


def login(user: User) -> bool:
    """Log `user` in for this browser session only (remember-me is off)."""
    operations.start_session(db(), user)
    return bool(flask_login.login_user(user, remember=False))


def logout(user: User) -> None:
    """Log `user` out here and everywhere: a copy of the login cookie stops working too."""
    operations.end_sessions(db(), user)
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
