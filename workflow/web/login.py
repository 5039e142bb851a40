"""Flask-Login glue, typed: the login manager, the current user and `login_required`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar, cast

import flask_login  # type: ignore[import-untyped,unused-ignore]
from flask import Flask, abort

from models import User
from workflow.web import db

View = TypeVar("View", bound=Callable[..., Any])


def init_login(app: Flask) -> None:
    """Set up Flask-Login: strong session protection, no remember-me, Danish messages."""
    manager = flask_login.LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = "Log ind for at se siden."
    manager.login_message_category = "info"
    # "strong" ends the session when the client's address or browser changes.
    manager.session_protection = "strong"
    manager.user_loader(_load_user)
    manager.init_app(app)


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
