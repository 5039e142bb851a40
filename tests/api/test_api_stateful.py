"""schemathesis, stateful, with every check (`--checks all`): it follows the document's links
from creating a case to reading, editing and moving it (with the ETag each answer carries), and
must find 0 failures while it creates and moves cases (issue 17, item 3).

The token's user is chair and secretariat of every body, so a walk that names any body or
trigger the document lists can succeed; the create body's example is a complete proposal (its
Triple Aim texts say something), so a walk that starts from it moves the case on. Each scenario
starts from the same database (a savepoint rolled back after it), so what a scenario meets
depends only on its own steps: a plan opened once a year is there to open again, and
Hypothesis replays a scenario to the same answers. The administration family walks on its
own, as an administrator. Bounded: a fixed number of scenarios and steps, no deadline per step;
the statistics (status per operation) show the positive flows happened."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import CHECKS as REGISTERED_CHECKS
from schemathesis.checks import load_all_checks
from sqlalchemy import Connection, select
from sqlalchemy.orm import Session

from models import Body, User
from workflow.api.spec import API_PREFIX
from workflow.auth import tokens

# Enough scenarios that some walk creates a case and moves it whatever the seed: the seed
# follows the walk's code and what ran before it in the worker, and at 40 some orders of the
# suite found no move.
SCENARIOS = 100
ADMIN_SCENARIOS = 20
STEPS = 8
load_all_checks()
CHECKS = list(REGISTERED_CHECKS.get_all())


Statistics = Counter[tuple[str, str, int]]
ADMINISTRATION = "^Administration"


@dataclass
class Walked:
    """What a walk saw: the status of each call per operation, and the moves it made on the
    cases it created itself."""

    statistics: Statistics = field(default_factory=Counter)
    created_cases: set[int] = field(default_factory=set)
    moves_of_created: list[int] = field(default_factory=list)

    def count(self, method: str, path: str, status: int) -> int:
        return self.statistics[(method, API_PREFIX + path, status)]

    def summary(self) -> str:
        return "\n".join(f"{k}: {v}" for k, v in sorted(self.statistics.items()))


def walk(
    app: Flask, session: Session, token: str, family: dict[str, str], scenarios: int = SCENARIOS
) -> Walked:
    """Walk the document's links (the operations `family` includes or excludes by tag), each
    scenario from the same database, with every check; return what it saw."""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema = (
        schema.include(tag_regex=family["include"])
        if "include" in family
        else schema.exclude(tag_regex=family["exclude"])
    )
    connection = session.get_bind()
    assert isinstance(connection, Connection)

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
    walked = Walked()

    class Walk(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            super().setup()
            # The session's own savepoint ends first, so the scenario's writes nest in this one.
            session.close()
            self.start = connection.begin_nested()

        def teardown(self) -> None:
            session.close()
            self.start.rollback()
            super().teardown()

        def after_call(self, response: Any, case: Any) -> None:
            super().after_call(response, case)
            operation = case.operation
            key = (operation.method.upper(), operation.path, response.status_code)
            walked.statistics[key] += 1
            if key == ("POST", f"{API_PREFIX}/cases", 201):
                walked.created_cases.add(response.json()["id"])
            if key == ("POST", f"{API_PREFIX}/cases/{{case_id}}/transitions", 200):
                case_id = response.json()["case_id"]
                if case_id in walked.created_cases:
                    walked.moves_of_created.append(case_id)

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            super().validate_response(response, case, additional_checks=CHECKS, **kwargs)

    Walk.run(
        settings=settings(
            max_examples=scenarios,
            stateful_step_count=STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    return walked


def test_stateful_walk_creates_and_moves_cases_with_no_failures(
    make_app: Callable[..., Flask], session: Session, make_user: Callable[..., User]
) -> None:
    codes = session.scalars(select(Body.code).where(Body.active.is_(True))).all()
    user = make_user(*(f"{role}@{code}" for code in codes for role in ("chair", "secretariat")))
    token = tokens.create_token(session, user, "stateful").plain
    session.commit()
    # Every family but administration (its own walk below, as an administrator).
    walked = walk(make_app(), session, token, {"exclude": ADMINISTRATION})
    summary = walked.summary()
    # Positive flows: cases were created, edited and moved on (a transition the engine carried
    # out on a case the walk created, not a rule's refusal), with no failure on the way.
    assert walked.count("POST", "/cases", 201) > 0, summary
    assert walked.moves_of_created, summary
    assert walked.count("PATCH", "/cases/{case_id}", 200) > 0, summary


def test_stateful_admin_walk_creates_and_edits_users_and_parties_with_no_failures(
    make_app: Callable[..., Flask], session: Session, make_user: Callable[..., User]
) -> None:
    admin = make_user(is_admin=True)
    token = tokens.create_token(session, admin, "stateful-admin").plain
    session.commit()
    # Fewer scenarios: each new user's password is hashed with Argon2 (the real parameters).
    walked = walk(make_app(), session, token, {"include": ADMINISTRATION}, ADMIN_SCENARIOS)
    summary = walked.summary()
    assert walked.count("POST", "/users", 201) > 0, summary
    assert walked.count("PATCH", "/users/{user_id}", 200) > 0, summary
    assert walked.count("POST", "/users/{user_id}/memberships", 201) > 0, summary
    assert walked.count("POST", "/parties", 201) > 0, summary
    assert walked.count("PATCH", "/parties/{party_id}", 200) > 0, summary
