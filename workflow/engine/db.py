"""Database engine and sessions; SQLite gets WAL, synchronous=NORMAL and a busy timeout."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.orm import Session, sessionmaker

DEFAULT_SQLITE_PATH = Path("var") / "aftaleflow.db"
BUSY_TIMEOUT_MS = 15_000


def database_url(url: str | None = None) -> str:
    """Return the URL to use: the argument, $AFTALEFLOW_DATABASE_URL, or the local SQLite file."""
    return url or os.environ.get("AFTALEFLOW_DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the single writer; NORMAL is durable with WAL and much
    # faster than FULL; the busy timeout makes writers wait instead of "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(conn: Any) -> None:
    # Take the write lock at BEGIN, so two writers queue on the busy timeout instead of one
    # failing when it upgrades a read lock (SQLite's deferred-transaction deadlock).
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """Create an engine for `url`, configuring SQLite for concurrent web and scheduler use."""
    url = database_url(url)
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        # pysqlite's own transaction handling is switched off so BEGIN IMMEDIATE is ours.
        event.listen(engine, "connect", _disable_pysqlite_begin)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _disable_pysqlite_begin(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.isolation_level = None


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Return a session factory; objects stay usable after commit (web views render them)."""
    return sessionmaker(bind=engine, expire_on_commit=False)


@contextmanager
def scratch_postgres_database(server_url: str) -> Iterator[str]:
    """Create a throw-away database on `server_url`'s server and drop it afterwards.

    Test runs and benchmarks use one each, so parallel runs never share tables.
    """
    server_url = server_url.replace("postgresql://", "postgresql+psycopg://", 1)
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"aftaleflow_scratch_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
