"""schemathesis against /api/v1/openapi.json on a seeded database, with a token: no 5xx, and
every response has a documented status, content type, headers and body schema.

Each operation is driven with data that fits the document (positive) and data that does not
(negative: wrong types, values out of range, control characters, missing fields), and every
check schemathesis has (`--checks all`): negative data must be refused with a 4xx.

Bounded: a few examples per operation and mode and no deadline per example; the whole module
runs in well under a minute."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Meeting, MeetingStatus, Membership, Notification, Party, User
from workflow.api.spec import openapi_document
from workflow.auth import tokens
from workflow.engine import clock

MAX_EXAMPLES = 10
Seeded = tuple[Flask, dict[str, str], dict[str, list[Any]]]
load_all_checks()
# Every check schemathesis has, as `--checks all`.
CHECKS = list(REGISTERED_CHECKS.get_all())


@pytest.fixture
def seeded_api(
    make_app: Callable[..., Flask],
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Any],
    body: Callable[[str], Any],
) -> Seeded:
    """The app on a seeded database with cases in several states, a meeting and a
    notification; the token of a user with roles in an SU, TSS and SKU, and an
    administrator's for the administration family; and the ids that exist, which the examples
    use half of the time."""
    user = make_user("chair@SU-NORD-SOM", "secretariat@TSS", "member@SKU")
    admin = make_user(is_admin=True)
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
        "user_id": [user.id, admin.id],
        "membership_id": list(
            session.scalars(select(Membership.id).where(Membership.user_id == user.id))
        ),
        "party_id": [session.scalars(select(Party.id).order_by(Party.id)).first()],
    }
    issued = {
        "user": tokens.create_token(session, user, "schemathesis").plain,
        "admin": tokens.create_token(session, admin, "schemathesis-admin").plain,
    }
    return make_app(), issued, existing


# schemathesis' own pytest plugin reads a pytest attribute that pytest 9 removed, so each
# operation is driven here with its Hypothesis strategy instead.
OPERATIONS = sorted(
    f"{method.upper()} {path}"
    for path, methods in openapi_document()["paths"].items()
    for method in methods
)
# Negative data needs something to break: a parameter or a body.
TAKES_INPUT = {
    f"{method.upper()} {path}"
    for path, methods in openapi_document()["paths"].items()
    for method, operation in methods.items()
    if operation.get("parameters") or operation.get("requestBody")
}
# The administration family is driven as an administrator (as anyone else, it only refuses).
ADMINISTRATION = {
    f"{method.upper()} {path}"
    for path, methods in openapi_document()["paths"].items()
    for method, operation in methods.items()
    if operation["tags"][0].startswith("Administration")
}
RUNS = [
    (label, mode)
    for label in OPERATIONS
    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    if mode.is_positive or label in TAKES_INPUT
]


@pytest.mark.parametrize(("label", "mode"), RUNS, ids=[f"{label}-{mode}" for label, mode in RUNS])
def test_api_conforms_to_its_openapi_document(
    label: str, mode: GenerationMode, seeded_api: Seeded
) -> None:
    app, issued, existing = seeded_api
    token = issued["admin" if label in ADMINISTRATION else "user"]
    method, path = label.split(" ", 1)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    # The token as configuration, not per call: negative data may leave it out (then 401).
    schema.config.update(headers={"Authorization": f"Bearer {token}"})
    if label in ADMINISTRATION and mode.is_positive:
        # An administrator's edit succeeds; through an auth provider schemathesis knows the
        # token is the real credential (a header beside the generated If-Match would count as
        # generated, so a 2xx would read as auth ignored) and probes it without and wrong.
        @schema.auth.auth(refresh_interval=None)
        class Token:
            def get(self, case: Any, context: Any) -> str:
                return token

            def set(self, case: Any, data: str, context: Any) -> None:
                case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    # Schema-valid data may still name a process, body or goal that does not exist (422), a
    # cursor the server never issued (400), an If-Match that is not the case's ETag (412) or
    # no version at all (428): documented refusals, not bugs.
    schema.config.checks.positive_data_acceptance.expected_statuses += ["400", "412", "422", "428"]
    operation = schema[path][method]

    @given(case=operation.as_strategy(mode), known=st.booleans(), pick=st.integers(0, 9))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def exercise(case: Any, known: bool, pick: int) -> None:
        # Half the positive examples name rows that exist; negative ones keep their mutation.
        for name, values in existing.items():
            if mode.is_positive and known and name in (case.path_parameters or {}):
                case.path_parameters[name] = values[pick % len(values)]
        case.call_and_validate(checks=CHECKS)

    exercise()
