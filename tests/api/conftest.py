"""Fixtures of the API tests: held meetings (the `api` client per user is in support.api)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from models import Meeting, MeetingStatus
from workflow.engine import clock


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
