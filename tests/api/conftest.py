"""Fixtures of the API tests: a client per user with a bearer token, and held meetings."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session
from support.api import Api

from models import Meeting, MeetingStatus, User
from workflow.auth import tokens
from workflow.engine import clock


@pytest.fixture
def api(
    client: FlaskClient, make_user: Callable[..., User], session: Session
) -> Callable[..., Api]:
    """Make a user with roles ('chair@TSS') and a token; return a client acting as them."""

    def make(*roles: str, **kwargs: Any) -> Api:
        user = make_user(*roles, **kwargs)
        issued = tokens.create_token(session, user, "test")
        return Api(client, user, issued.plain)

    return make


@pytest.fixture
def meeting(session: Session, body: Callable[[str], Any]) -> Callable[[str], Meeting]:
    """A held meeting of the body, two hours ago."""

    def make(code: str) -> Meeting:
        found = Meeting(
            body_id=body(code).id,
            title=f"Møde i {code}",
            starts_at=clock.now() - timedelta(hours=2),
            status=MeetingStatus.HELD,
        )
        session.add(found)
        session.commit()
        return found

    return make
