"""Shared fixtures: a migrated, seeded database (SQLite or $TEST_DATABASE_URL), a session per
test inside a rolled-back transaction, a controllable clock and factories."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from models import Body, Case, Membership, Role, User
from workflow.engine import clock, migrate
from workflow.engine import core as workflow_engine
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed

# The suite seals its audit chains with a key of its own, never a developer's var/audit.key.
os.environ["AFTALEFLOW_AUDIT_KEY"] = "aftaleflow-test-audit-key-" + "0" * 32

# Fixtures shared by every folder of the suite: meetings and footprints (support.engine), an SMTP
# server and its delivery settings (support.mail), the app, client and logged-in users
# (support.web), and the demo's own database, built once per process (support.demo_data).
pytest_plugins = [
    "support.engine",
    "support.mail",
    "support.web",
    "support.api",
    "support.demo_data",
]

START = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The database under test: a scratch database on $TEST_DATABASE_URL's PostgreSQL server,
    or a fresh SQLite file."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        with scratch_postgres_database(url) as scratch:
            yield scratch
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"


@pytest.fixture(scope="session")
def db_engine(database_url: str) -> Iterator[Engine]:
    """A migrated database holding the real organisation and the process definitions."""
    engine = make_engine(database_url)
    migrate.upgrade(engine)
    with Session(engine) as session:
        seed.run(session)
    yield engine
    engine.dispose()


@pytest.fixture
def session(db_engine: Engine) -> Iterator[Session]:
    """A session whose commits are savepoints inside one transaction rolled back after the test."""
    connection = db_engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    yield session
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture(autouse=True)
def audit_checkpoint_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkpoint folder per test, so no test writes to var/ or sees another's checkpoints."""
    folder = tmp_path / "audit-checkpoints"
    monkeypatch.setenv("AFTALEFLOW_AUDIT_CHECKPOINT_DIR", str(folder))
    return folder


@pytest.fixture(autouse=True)
def frozen_clock() -> Iterator[datetime]:
    """Freeze the engine clock at 1 September 2020, 10:00 Danish time."""
    clock.set_time(START)
    yield START
    # Also drop a demo's shifted clock (`clock.run_from`), so no later test in the worker, or
    # a module fixture built between tests, runs on another test's date.
    clock.reset()


@pytest.fixture
def body(session: Session) -> Callable[[str], Body]:
    """Return the seeded body with the given code."""

    def get(code: str) -> Body:
        found = session.scalar(select(Body).where(Body.code == code))
        assert found is not None, code
        return found

    return get


@pytest.fixture
def make_user(session: Session, body: Callable[[str], Body]) -> Callable[..., User]:
    """Create a user holding roles given as 'role@BODY' strings, e.g. 'chair@TSS'."""
    counter = iter(range(1, 10_000))

    def create(*roles: str, name: str | None = None, is_admin: bool = False) -> User:
        number = next(counter)
        user = User(
            email=f"user{number}@test.aftaleflow.dk",
            name=name or f"Testbruger {number}",
            is_admin=is_admin,
        )
        session.add(user)
        session.flush()
        for spec in roles:
            role, _, code = spec.partition("@")
            session.add(Membership(user_id=user.id, body_id=body(code).id, role=Role(role)))
        session.flush()
        return user

    return create


COMPLETE_PROPOSAL: dict[str, Any] = {
    "summary": "Fælles indsats for borgere med kronisk sygdom.",
    "role_distribution": "Kommunen står for opfølgning, hospitalet for udredning.",
    "general_practice_role": "Almen praksis henviser og følger op.",
    "triple_aim_quality": "Færre genindlæggelser.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Borgeren oplever ét samlet forløb.",
    "business_case": "Færre genindlæggelser opvejer udgiften; ingen kommunal merudgift.",
}


@pytest.fixture
def make_case(
    session: Session, body: Callable[[str], Body], make_user: Callable[..., User]
) -> Callable[..., Case]:
    """Open a case through the engine; `state=` then places it there (a test shortcut only)."""

    def create(
        process: str = "signature_initiative",
        *,
        origin: str = "SU-NORD-SOM",
        state: str | None = None,
        complete: bool = True,
        goals: bool = True,
        **fields: Any,
    ) -> Case:
        author = make_user(f"member@{origin}")
        values = {**(COMPLETE_PROPOSAL if complete else {}), **fields}
        focus = session.scalar(text("SELECT id FROM focus_areas ORDER BY id LIMIT 1"))
        if goals:
            values.setdefault("focus_area_id", focus)
        case = workflow_engine.create_case(
            session,
            process=process,
            title=values.pop("title", "Testsag"),
            originating_body=body(origin),
            actor=author,
            national_goal_ids=[1, 2] if goals else None,
            **values,
        )
        if state is not None:
            definition = workflow_engine.definition_of(case)
            case.state = state
            spec = definition.states[state]
            case.current_body_id = (
                case.originating_body_id if spec.body == "originating" else body(spec.body).id
            )
            session.commit()
        return case

    return create


@pytest.fixture
def states_dir() -> Path:
    """The states/ folder of this checkout."""
    return Path(__file__).resolve().parent.parent / "states"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On PostgreSQL, skip the tests of SQLite itself, and the tests whose result does not
    depend on the database (`database_independent(reason)`): the SQLite run has run them."""
    on_postgres = bool(os.environ.get("TEST_DATABASE_URL"))
    sqlite_only = pytest.mark.skip(reason="tests SQLite itself; this run uses PostgreSQL")
    for item in items:
        independent = item.get_closest_marker("database_independent")
        if independent is not None and not independent.args:
            raise pytest.UsageError(f"{item.nodeid}: database_independent needs its reason")
        if not on_postgres:
            continue
        if "sqlite_only" in item.keywords:
            item.add_marker(sqlite_only)
        if independent is not None:
            why = independent.args[0]
            item.add_marker(pytest.mark.skip(reason=f"runs in the SQLite run only: {why}"))
