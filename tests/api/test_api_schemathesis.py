"""schemathesis against /api/v1/openapi.json on a seeded database, with a token: no 5xx, and
every response has a documented status, content type, headers and body schema.

Bounded: a few examples per operation and no deadline per example; the whole module runs
in well under a minute (see the lead's report for the measured time)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import checks
from sqlalchemy.orm import Session

from models import Meeting, MeetingStatus, Notification, User
from workflow.api.spec import openapi_document
from workflow.auth import tokens
from workflow.engine import clock

MAX_EXAMPLES = 10
Seeded = tuple[Flask, str, dict[str, list[Any]]]
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def seeded_api(
    make_app: Callable[..., Flask],
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Any],
    body: Callable[[str], Any],
) -> Seeded:
    """The app on a seeded database with cases in several states, a meeting and a
    notification; the token of a user with roles in an SU, TSS and SKU; and the ids that
    exist, which the examples use half of the time."""
    user = make_user("chair@SU-NORD-SOM", "secretariat@TSS", "member@SKU")
    cases = [
        make_case(title="Kladde"),
        make_case(state="at_tss", title="Ved TSS"),
        make_case(state="at_sku", title="Ved SKU"),
        make_case("forum_matter", origin="FORUM-DATA", title="Forumsag"),
    ]
    meeting = Meeting(
        body_id=body("TSS").id,
        title="TSS-møde",
        starts_at=clock.now() - timedelta(hours=1),
        status=MeetingStatus.HELD,
    )
    session.add(meeting)
    session.add(
        Notification(
            idempotency_key="schemathesis-1",
            message_id="<schemathesis-1@aftaleflow>",
            recipient_id=user.id,
            kind="reminder",
            subject="Påmindelse",
            body="Fristen nærmer sig.",
        )
    )
    session.commit()
    existing = {
        "case_id": [c.id for c in cases],
        "meeting_id": [meeting.id],
        "name": ["signature_initiative", "forum_matter"],
    }
    return make_app(), tokens.create_token(session, user, "schemathesis").plain, existing


# schemathesis' own pytest plugin reads a pytest attribute that pytest 9 removed, so each
# operation is driven here with its Hypothesis strategy instead.
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, methods in openapi_document()["paths"].items()
    for method in methods
)


@pytest.mark.parametrize("label", OPERATIONS)
def test_api_conforms_to_its_openapi_document(label: str, seeded_api: Seeded) -> None:
    app, token, existing = seeded_api
    method, path = label.split(" ", 1)
    operation = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)[path][method]
    headers = {"Authorization": f"Bearer {token}"}

    @given(case=operation.as_strategy(), known=st.booleans(), pick=st.integers(0, 9))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any, known: bool, pick: int) -> None:
        for name, values in existing.items():
            if known and name in (case.path_parameters or {}):
                case.path_parameters[name] = values[pick % len(values)]
        case.call_and_validate(headers=headers, checks=CHECKS)

    exercise()
