"""SQLite copies through SQLite's online backup API: a consistent copy while the app runs."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path


def snapshot(database: Path, target: Path) -> None:
    """Copy the live database file `database` to `target` as one self-contained file."""
    with closing(sqlite3.connect(database)) as source, closing(sqlite3.connect(target)) as copy:
        # One step (pages=-1) holds a read snapshot for the whole copy; under WAL the app's
        # writers carry on meanwhile, and the copy is the database as of that snapshot.
        source.backup(copy)
        # The copy is a single file: no -wal beside it when it is packed or restored.
        copy.execute("PRAGMA journal_mode=DELETE")


def load(copy: Path, database: Path) -> None:
    """Replace the contents of `database` (made if missing) with the copy, page by page."""
    database.parent.mkdir(parents=True, exist_ok=True)
    with closing(sqlite3.connect(copy)) as source, closing(sqlite3.connect(database)) as target:
        source.backup(target)
        # The app runs SQLite in WAL mode (workflow.engine.db); keep the restored file so.
        target.execute("PRAGMA journal_mode=WAL")


def revisions(copy: Path) -> list[str]:
    """The Alembic revisions recorded in a copy ([] when it was never migrated)."""
    with closing(sqlite3.connect(copy)) as connection:
        found = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).fetchone()
        if found is None:
            return []
        return sorted(
            row[0] for row in connection.execute("SELECT version_num FROM alembic_version")
        )
