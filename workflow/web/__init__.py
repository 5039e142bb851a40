"""The web application's blueprints and the per-request database session they share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, current_app, g
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from workflow.engine import session_cache

EXTENSION_KEY = "aftaleflow.database"


@dataclass(frozen=True)
class Database:
    """Where a request gets its session, and whether the app closes it afterwards."""

    session_factory: Callable[[], Session]
    engine: Engine | None
    owns_sessions: bool


def init_database(app: Flask, database: Database) -> None:
    """Attach `database` to `app` and end each request's session at teardown."""
    app.extensions[EXTENSION_KEY] = database
    app.teardown_appcontext(_end_session)


def db() -> Session:
    """Return this request's session, opening it on first use."""
    session: Session | None = g.get("db_session")
    if session is None:
        database: Database = current_app.extensions[EXTENSION_KEY]
        session = database.session_factory()
        g.db_session = session
    return session


def _end_session(_error: BaseException | None) -> None:
    session: Session | None = g.pop("db_session", None)
    database: Database = current_app.extensions[EXTENSION_KEY]
    if session is not None:
        # Per-request caches kept on the session (process versions) end with the request.
        session.info.pop("process_versions", None)
        session_cache.drop(session)
    # A session handed in by the caller (tests, embedding) is the caller's to close.
    if session is not None and database.owns_sessions:
        session.close()
