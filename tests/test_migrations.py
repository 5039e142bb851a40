"""Migrations: upgrade from empty, round trip, models in step, records protected."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import DatabaseError

from models import Base
from workflow.engine import migrate
from workflow.engine.db import make_engine, scratch_postgres_database


@pytest.fixture
def empty_engine(tmp_path) -> Iterator[Engine]:
    """An empty database: a scratch PostgreSQL database under $TEST_DATABASE_URL, else SQLite."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            engine = make_engine(url)
            yield engine
            engine.dispose()
        return
    engine = make_engine(f"sqlite:///{tmp_path / 'migrations.db'}")
    yield engine
    engine.dispose()


def test_upgrade_from_empty_creates_every_table(empty_engine):
    assert not migrate.is_initialised(empty_engine)
    migrate.upgrade(empty_engine)
    assert migrate.is_initialised(empty_engine)
    tables = set(inspect(empty_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_downgrade_and_upgrade_round_trip(empty_engine):
    migrate.upgrade(empty_engine)
    migrate.downgrade(empty_engine)
    assert set(inspect(empty_engine).get_table_names()) <= {"alembic_version"}
    migrate.upgrade(empty_engine)
    assert "cases" in inspect(empty_engine).get_table_names()


def test_migrations_match_the_models(empty_engine):
    migrate.upgrade(empty_engine)
    with empty_engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []


@pytest.mark.parametrize(
    "statement",
    [
        "DELETE FROM cases",
        "DELETE FROM case_events",
        "UPDATE case_events SET comment = 'rettet'",
        "DELETE FROM users",
    ],
)
def test_records_cannot_be_deleted_nor_the_audit_trail_changed(empty_engine, statement):
    migrate.upgrade(empty_engine)
    with empty_engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (email, name, is_admin, active, locale, digest, created_at) "
                "VALUES ('a@b.dk', 'A', FALSE, TRUE, 'da', FALSE, '2020-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO bodies (code, name, kind, material_deadline_days, "
                "material_deadline_working_days, active) VALUES ('X', 'X', 'forum', 7, FALSE, TRUE)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO cases (process, process_version, state, title, summary, "
                "originating_body_id, current_body_id, principled, political, interface_change,"
                " cost_driving, large_task, business_case, financing_proposal, "
                "role_distribution, general_practice_role, triple_aim_quality, "
                "triple_aim_economy, triple_aim_experience, journal_description, extra, "
                "created_at, updated_at, state_entered_at, version) VALUES ('p', 1, 's', 't', "
                "'', 1, 1, FALSE, FALSE, FALSE, FALSE, FALSE, '', '', '', '', '', '', '', '', "
                "'{}', '2020-01-01', '2020-01-01', '2020-01-01', 1)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO case_events (case_id, seq, trigger, to_state, comment, data, "
                "created_at, prev_hash, hash) VALUES (1, 1, 'create', 's', '', '{}', "
                "'2020-01-01', '0', '1')"
            )
        )
    with pytest.raises(DatabaseError, match="never deleted"), empty_engine.begin() as connection:
        connection.execute(text(statement))
