"""/healthz and /readyz: liveness, and readiness as JSON naming each check — the database, its
migrations and the scheduler's heartbeat, which a stopped scheduler lets go stale."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from workflow import scheduler
from workflow.app import create_app
from workflow.engine import clock, migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.ops import queries
from workflow.organisation import seed
from workflow.scheduler import SchedulerConfig
from workflow.web import EXTENSION_KEY, Database


def test_healthz_is_liveness_without_login(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_readyz_is_unready_until_a_scheduler_has_swept(client, session):
    response = client.get("/readyz")
    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unready"
    assert body["checks"]["database"]["ok"] is True
    assert body["checks"]["migrations"]["ok"] is True
    assert body["checks"]["migrations"]["database"] == body["checks"]["migrations"]["code"]
    assert body["checks"]["scheduler"] == {
        "ok": False, "last_sweep": None, "age_seconds": None, "limit_seconds": 180.0,
    }  # fmt: skip

    scheduler.sweep(session, config=SchedulerConfig())
    response = client.get("/readyz")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ready"
    assert body["checks"]["scheduler"]["ok"] is True
    assert body["checks"]["scheduler"]["age_seconds"] == 0.0


def test_readyz_turns_unready_when_the_heartbeat_is_older_than_its_limit(
    client, session, monkeypatch
):
    monkeypatch.setenv("AFTALEFLOW_HEARTBEAT_LIMIT", "300")
    scheduler.sweep(session, config=SchedulerConfig())
    start = clock.now()
    clock.set_time(start + timedelta(seconds=300))
    assert client.get("/readyz").status_code == 200
    clock.set_time(start + timedelta(seconds=301))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"]["scheduler"] == {
        "ok": False, "last_sweep": start.isoformat(), "age_seconds": 301.0, "limit_seconds": 300.0,
    }  # fmt: skip


def test_the_heartbeat_limit_defaults_to_three_sweep_intervals():
    assert queries.heartbeat_limit({}) == timedelta(seconds=180)
    assert queries.heartbeat_limit({"AFTALEFLOW_SCHEDULER_INTERVAL": "20"}) == timedelta(seconds=60)
    assert queries.heartbeat_limit({"AFTALEFLOW_HEARTBEAT_LIMIT": "900"}) == timedelta(seconds=900)
    with pytest.raises(ValueError, match="AFTALEFLOW_HEARTBEAT_LIMIT skal være et heltal"):
        queries.heartbeat_limit({"AFTALEFLOW_HEARTBEAT_LIMIT": "snart"})


def test_readyz_names_a_database_behind_the_code_s_migrations(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0009")
    engine.dispose()
    app = create_app({"TESTING": True, "DATABASE_URL": url})
    response = app.test_client().get("/readyz")
    _close(app)
    assert response.status_code == 503
    checks = response.get_json()["checks"]
    assert checks["database"]["ok"] is True
    assert checks["migrations"]["ok"] is False
    assert checks["migrations"]["database"] == ["0009"]
    assert checks["migrations"]["code"] and "0009" not in checks["migrations"]["code"]


def test_readyz_says_when_the_database_cannot_be_reached(tmp_path):
    missing = tmp_path / "no-such-folder" / "x" / "db.sqlite"
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{missing}"})
    shutil.rmtree(missing.parent)  # the app made the folder (its key file); take it away
    response = app.test_client().get("/readyz")
    _close(app)
    assert response.status_code == 503
    body = response.get_json()
    assert body["checks"]["database"]["ok"] is False
    assert body["checks"]["scheduler"]["ok"] is False


# --- a real scheduler, stopped ------------------------------------------------------------


@pytest.fixture
def own_database(db_engine: Engine, tmp_path) -> Iterator[str]:
    """A migrated, seeded database of its own whose commits are real (for the scheduler's
    own connections)."""

    def prepare(url: str) -> None:
        engine = make_engine(url)
        migrate.upgrade(engine)
        with Session(engine) as setup:
            seed.run(setup)
            setup.commit()
        engine.dispose()

    if db_engine.dialect.name == "postgresql":
        with scratch_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            prepare(url)
            yield url
        return
    url = f"sqlite:///{tmp_path / 'readyz.db'}"
    prepare(url)
    yield url


def _wait_until_ready(app: Flask) -> dict:
    """Poll /readyz until the running scheduler's first sweep shows (or give up)."""
    client = app.test_client()
    deadline = time.monotonic() + 60
    while True:
        response = client.get("/readyz")
        if response.status_code == 200 or time.monotonic() > deadline:
            return response.get_json()
        time.sleep(0.1)


def test_a_stopped_scheduler_turns_readyz_unready_after_the_heartbeat_limit(own_database):
    engine = make_engine(own_database)
    app = create_app({"TESTING": True, "DATABASE_URL": own_database})
    config = replace(SchedulerConfig(), interval=1.0)
    limit = queries.heartbeat_limit()
    try:
        scheduler.start_background(engine, config)
        try:
            body = _wait_until_ready(app)
            assert body["status"] == "ready", body
        finally:
            scheduler.stop_background(engine)
        client = app.test_client()
        started = clock.now()
        # Within the limit a stopped scheduler still counts: one missed tick is no alarm.
        clock.set_time(started + limit)
        assert client.get("/readyz").status_code == 200
        clock.set_time(started + limit + timedelta(seconds=1))
        response = client.get("/readyz")
        assert response.status_code == 503
        body = response.get_json()
        assert body["status"] == "unready"
        assert body["checks"]["scheduler"]["ok"] is False
        assert body["checks"]["database"]["ok"] is True
    finally:
        _close(app)
        engine.dispose()


def _close(app: Flask) -> None:
    """Close the pool of an app that made its own engine."""
    database: Database = app.extensions[EXTENSION_KEY]
    if database.engine is not None:
        database.engine.dispose()
