"""Fixtures of the search tests: an API client per user (as in tests/api)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.api import Api

from models import User
from workflow.auth import tokens


@pytest.fixture
def api(
    client: FlaskClient, make_user: Callable[..., User], session: Session
) -> Callable[..., Api]:
    """Make a user with roles ('member@TSS') and a token; return a client acting as them."""

    def make(*roles: str, **kwargs: Any) -> Api:
        user = make_user(*roles, **kwargs)
        issued = tokens.create_token(session, user, "test")
        return Api(client, user, issued.plain)

    return make
