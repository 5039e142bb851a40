"""Web fixtures: the app on the test's rolled-back session, a client and logged-in users."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from functools import cache
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import User
from workflow.app import create_app
from workflow.auth import passwords

PASSWORD = "korrekt hest batteri hæfteklamme"


@cache
def password_hash() -> str:
    """One real Argon2 hash, reused: hashing per test would only slow the suite down."""
    return passwords.hash_password(PASSWORD)


def build_app(session: Session, database_url: str, **config: Any) -> Flask:
    """An app whose requests all use the test's session, so they see the fixture data."""
    return create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "SESSION_FACTORY": lambda: session,
            "WTF_CSRF_ENABLED": False,
            **config,
        }
    )


@pytest.fixture
def make_app(session: Session, database_url: str) -> Callable[..., Flask]:
    """Build an app on the test's session with extra config, e.g. WTF_CSRF_ENABLED=True."""

    def make(**config: Any) -> Flask:
        return build_app(session, database_url, **config)

    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The web app without CSRF checks (the CSRF tests turn them on)."""
    return make_app()


@pytest.fixture
def password() -> str:
    """The password of every user made by make_login_user."""
    return PASSWORD


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def make_login_user(make_user: Callable[..., User], session: Session) -> Callable[..., User]:
    """Create a user with roles (as make_user) who can log in with PASSWORD."""

    def create(*roles: str, **kwargs: Any) -> User:
        user = make_user(*roles, **kwargs)
        user.password_hash = password_hash()
        session.flush()
        return user

    return create


def _log_in(client: FlaskClient, user: User, password: str = PASSWORD, **query: str) -> Any:
    return client.post(
        "/login", query_string=query, data={"email": user.email, "password": password}
    )


@pytest.fixture
def log_in(client: FlaskClient) -> Callable[..., Any]:
    """Post the login form as `user` (optionally with another password or a query string)."""

    def post(user: User, password: str = PASSWORD, **query: str) -> Any:
        return _log_in(client, user, password, **query)

    return post


@pytest.fixture
def logged_in(client: FlaskClient, make_login_user: Callable[..., User]) -> Callable[..., User]:
    """Create a user with the given roles and log the client in as them."""

    def create(*roles: str, **kwargs: Any) -> User:
        user = make_login_user(*roles, **kwargs)
        response = _log_in(client, user)
        assert response.status_code == 303, response.get_data(as_text=True)
        return user

    return create


def _text_of(response: Any) -> str:
    body = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    text = re.sub(r"\s+", " ", html.unescape(body)).strip()
    return re.sub(r" ([,.:;!?)])", r"\1", text)


@pytest.fixture
def text_of() -> Callable[[Any], str]:
    """The response body with tags removed and whitespace collapsed, as a reader sees it."""
    return _text_of
