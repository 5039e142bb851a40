"""The demo organisation and cases (`aftaleflow demo`) in a database of their own, built once
per test run and shared by the modules that crawl, fuzz or read the demo. Each module
works inside a transaction that is rolled back (`demo_session`), so none sees another's
writes. The first process builds the demo once for the run and every process works on a copy
of its own: on SQLite a copy of the file, on PostgreSQL a database made from the built one as
its template (the build takes minutes under load, the copy seconds)."""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
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


def _shared_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder shared by all the run's processes and by no other run: the base temporary
    folder of the run (an xdist worker's own is a folder inside it)."""
    base = tmp_path_factory.getbasetemp()
    run = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    shared = run / "demo-database"
    shared.mkdir(exist_ok=True)
    return shared


@contextmanager
def _build_lock(shared: Path) -> Iterator[None]:
    """Held while the demo is built and while a process copies it."""
    with (shared / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _sqlite_copy(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A copy of the demo SQLite file, built once for all the run's processes."""
    shared = _shared_folder(tmp_path_factory)
    built = shared / "demo.db"
    with _build_lock(shared):
        if not built.exists():
            _build(f"sqlite:///{shared / 'building.db'}")
            (shared / "building.db").rename(built)
    mine = tmp_path_factory.mktemp("demo") / "demo.db"
    shutil.copyfile(built, mine)
    return f"sqlite:///{mine}"


TEMPLATE_NAME_FILE = "postgres-template"


def _admin(server: str) -> Engine:
    return make_engine(
        server.replace("postgresql://", "postgresql+psycopg://", 1), isolation_level="AUTOCOMMIT"
    )


@contextmanager
def postgres_copy(server: str, shared: Path) -> Iterator[str]:
    """A scratch database made from the run's demo template, which the first process builds
    (the run's controller drops it at the end: `pytest_sessionfinish`). The copy is made under
    the build lock, so no process is connected to the template while the server copies it.
    `shared`: the folder of the run's processes, holding the lock and the template's name."""
    named = shared / TEMPLATE_NAME_FILE
    with ExitStack() as copied:
        with _build_lock(shared):
            if not named.exists():
                template = f"aftaleflow_scratch_demo_{os.getpid()}_{uuid.uuid4().hex[:8]}"
                admin = _admin(server)
                try:
                    with admin.connect() as connection:
                        connection.execute(text(f'CREATE DATABASE "{template}"'))
                    try:
                        _build(admin.url.set(database=template).render_as_string(False))
                    except BaseException:
                        with admin.connect() as connection:
                            connection.execute(text(f'DROP DATABASE "{template}" WITH (FORCE)'))
                        raise
                    named.write_text(template)
                finally:
                    admin.dispose()
            url = copied.enter_context(scratch_postgres_database(server, named.read_text()))
        yield url


def drop_postgres_template(shared: Path, server: str) -> None:
    """Drop the run's demo template, if a process built one."""
    named = shared / TEMPLATE_NAME_FILE
    if not named.exists():
        return
    admin = _admin(server)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{named.read_text()}" WITH (FORCE)'))
    finally:
        admin.dispose()
    named.unlink()


@pytest.fixture(scope="session")
def demo_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoDatabase]:
    """The demo in a scratch database on $TEST_DATABASE_URL's server, or in a SQLite file."""
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with postgres_copy(server, _shared_folder(tmp_path_factory)) as url:
            engine = make_engine(url)
            yield DemoDatabase(url, engine)
            engine.dispose()
        return
    url = _sqlite_copy(tmp_path_factory)
    engine = make_engine(url)
    yield DemoDatabase(url, engine)
    engine.dispose()


def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the run's controller (not in an xdist worker): drop the PostgreSQL demo template."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server or hasattr(session.config, "workerinput"):
        return
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is not None:
        drop_postgres_template(factory.getbasetemp() / "demo-database", server)


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
