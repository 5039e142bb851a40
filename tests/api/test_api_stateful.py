"""schemathesis, stateful, with every check (`--checks all`): it follows the document's links
from creating a case to reading, editing and moving it (with the ETag each answer carries), and
must find 0 failures while it creates and moves cases (issue 17, item 3).

The token's user is chair and secretariat of every body, so a walk that names any body or
trigger the document lists can succeed. Bounded: a fixed number of scenarios and steps, no
deadline per step; the statistics (status per operation) show the positive flows happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, User
from workflow.auth import tokens

SCENARIOS = 40
STEPS = 8
load_all_checks()
CHECKS = list(REGISTERED_CHECKS.get_all())


def test_stateful_walk_creates_and_moves_cases_with_no_failures(
    make_app: Callable[..., Flask], session: Session, make_user: Callable[..., User]
) -> None:
    codes = session.scalars(select(Body.code).where(Body.active.is_(True))).all()
    user = make_user(*(f"{role}@{code}" for code in codes for role in ("chair", "secretariat")))
    token = tokens.create_token(session, user, "stateful").plain
    app = make_app()
    # The walk leaves out the webhook and notification families: with them the bounded walk
    # spent its steps on their links and never moved a case. test_api_schemathesis and
    # tests/api/test_api_webhooks.py drive them.
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app).exclude(
        path_regex=r"/(webhooks|webhook-deliveries|notifications)(/|$)"
    )

    # The token through an auth provider (not a fixed header), so schemathesis knows it is the
    # real credential and probes each operation without it and with a wrong one.
    @schema.auth.auth(refresh_interval=None)
    class Token:
        def get(self, case: Any, context: Any) -> str:
            return token

        def set(self, case: Any, data: str, context: Any) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}

    # The walk follows flows with valid data; test_api_schemathesis drives every operation
    # with invalid data as well.
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    # Walk the document's own links (not links guessed from field names: a meeting id is
    # not a case id).
    schema.config.phases.stateful.inference.algorithms = []
    # Documented refusals of well-formed requests: a rule not met (422), a stale or missing
    # version (412, 428), a cursor never issued (400).
    schema.config.checks.positive_data_acceptance.expected_statuses += ["400", "412", "422", "428"]
    statistics: Counter[tuple[str, str, int]] = Counter()

    class Walk(schema.as_state_machine()):  # type: ignore[misc]
        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            operation = case.operation
            statistics[(operation.method.upper(), operation.path, response.status_code)] += 1

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            super().validate_response(response, case, additional_checks=CHECKS, **kwargs)

    Walk.run(
        settings=settings(
            max_examples=SCENARIOS,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    created = statistics[("POST", "/api/v1/cases", 201)]
    moved = statistics[("POST", "/api/v1/cases/{case_id}/transitions", 200)]
    edited = statistics[("PATCH", "/api/v1/cases/{case_id}", 200)]
    summary = "\n".join(f"{k}: {v}" for k, v in sorted(statistics.items()))
    assert created > 0, summary
    # Since the Triple Aim rule reads the texts (issue 16, point 7) the generated cases seldom
    # meet every rule: a move the walk reaches may end in the rule's documented refusal (422).
    # Either way the walk went from creating a case to moving it, and found no failure.
    refused_by_a_rule = statistics[("POST", "/api/v1/cases/{case_id}/transitions", 422)]
    assert moved + refused_by_a_rule > 0, summary
    assert edited > 0, summary
