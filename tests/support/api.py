"""A client for /api/v1 as one user, and the assertion every refusal shares."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from models import User
from workflow.auth import tokens

PROBLEM = "application/problem+json"


@dataclass
class Api:
    """Calls /api/v1 as one user, with their bearer token."""

    client: FlaskClient
    user: User
    token: str

    def headers(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", **(extra or {})}

    def get(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers(headers), **kwargs)

    def post(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self.client.post(
            f"/api/v1{path}", json=json, headers=self.headers(headers), **kwargs
        )

    def patch(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self.client.patch(
            f"/api/v1{path}", json=json, headers=self.headers(headers), **kwargs
        )

    def put(
        self, path: str, json: Any = None, headers: dict[str, str] | None = None, **kwargs: Any
    ) -> Any:
        return self.client.put(f"/api/v1{path}", json=json, headers=self.headers(headers), **kwargs)

    def delete(self, path: str, headers: dict[str, str] | None = None, **kwargs: Any) -> Any:
        return self.client.delete(f"/api/v1{path}", headers=self.headers(headers), **kwargs)

    def act(self, case_id: int, trigger: str, **body: Any) -> Any:
        """Fire `trigger` at the case's current version."""
        version = self.get(f"/cases/{case_id}").get_json()["version"]
        payload = {"trigger": trigger, "expected_version": version, **body}
        return self.post(f"/cases/{case_id}/transitions", json=payload)


def problem_of(response: Any, status: int) -> dict[str, Any]:
    """Assert a problem document with Danish and English messages; return it."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.content_type == PROBLEM
    problem = response.get_json()
    assert problem["status"] == status
    assert problem["type"].startswith("/api/v1/docs#problem-")
    assert problem["detail"] == problem["detail_da"]
    assert problem["detail_da"] and problem["detail_en"]
    assert problem["reasons"] == {"da": problem["detail_da"], "en": problem["detail_en"]}
    return problem


def by_chairmanship(api: Any, role: str, case_id: int, trigger: str, **body: Any) -> Any:
    """A formandskab decision between meetings through the API (seed 000): one co-chair of the
    body proposes it (the case stays), the other consents and the decision is taken."""
    proposal = api(role).act(case_id, trigger, **body)
    assert proposal.status_code == 200, proposal.get_data(as_text=True)
    return api(role).act(case_id, trigger, **body)


def held_meeting(session: Any, code: str) -> int:
    """A meeting of the body held an hour ago (a body whose terms keep decisions to its
    meetings, such as SKU, decides there), committed for the API to see; return its id."""
    from sqlalchemy import select

    from models import Body
    from tests.support.formandskab import held_meeting_of

    meeting = held_meeting_of(session, session.scalar(select(Body).where(Body.code == code)))
    session.commit()
    return int(meeting.id)


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
