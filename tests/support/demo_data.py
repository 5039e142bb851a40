"""The demo organisation and cases (`aftaleflow demo`) in a database of their own, built once
per test process and shared by the modules that crawl, fuzz or read the demo. Each module
works inside a transaction that is rolled back (`demo_session`), so none sees another's
writes. On SQLite the first process builds the file and the others copy it."""

from __future__ import annotations

import fcntl
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from workflow import demo
from workflow.engine import migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed


@dataclass(frozen=True)
class DemoDatabase:
    url: str
    engine: Engine


def _build(url: str) -> None:
    """Migrate, seed and fill the database at `url` with the demo, committed."""
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        with Session(engine, expire_on_commit=False) as session:
            seed.run(session)
            session.commit()
            demo.run(session, progress=lambda _line: None)
            session.commit()
    finally:
        engine.dispose()


def _sqlite_copy(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the demo SQLite file, built once for all the run's processes (the xdist
    workers share the parent of their base temporary folders)."""
    shared = tmp_path_factory.getbasetemp().parent / "demo-database"
    shared.mkdir(exist_ok=True)
    built = shared / "demo.db"
    with (shared / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not built.exists():
            _build(f"sqlite:///{shared / 'building.db'}")
            (shared / "building.db").rename(built)
    mine = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(built, mine)
    return f"sqlite:///{mine}"


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDatabase]:
    """The demo in a scratch database on $TEST_DATABASE_URL's server, or in a SQLite file."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as url:
            _build(url)
            engine = make_engine(url)
            yield DemoDatabase(url, engine)
            engine.dispose()
        return
    url = _sqlite_copy(tmp_path_factory)
    engine = make_engine(url)
    yield DemoDatabase(url, engine)
    engine.dispose()


@contextmanager
def demo_session(database: DemoDatabase) -> Iterator[Session]:
    """A session on the demo whose commits are savepoints in one transaction rolled back at
    the end."""
    connection = database.engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


__all__ = ["DemoDatabase", "demo_database", "demo_session"]
