"""PostgreSQL copies with pg_dump and pg_restore (custom format), run as child processes.

The connection comes from the configured SQLAlchemy URL; the password travels in PGPASSWORD,
not on the command line, so other users cannot read it in the process list.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from sqlalchemy.engine import URL


class ToolError(RuntimeError):
    """pg_dump or pg_restore is missing or failed; the message says what to do."""


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise ToolError(
            f"Programmet {name} findes ikke. Installér PostgreSQL' klientværktøjer i samme "
            "hovedversion som serveren (Debian/Ubuntu: 'apt install postgresql-client'), "
            "og prøv igen."
        )
    return found


def _libpq(url: URL) -> tuple[str, dict[str, str]]:
    """The libpq connection URI for `url` without its password, and the environment with it."""
    environment = dict(os.environ)
    if url.password is not None:
        environment["PGPASSWORD"] = str(url.password)
    plain = url.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), environment


def _run(command: list[str], environment: dict[str, str], what: str) -> None:
    result = subprocess.run(command, env=environment, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        detail = (result.stderr or result.stdout).strip()
        raise ToolError(f"{what} mislykkedes ({Path(command[0]).name} svarede: {detail})")


def dump(url: URL, target: Path) -> None:
    """Write the database at `url` to `target` in pg_dump's custom format (one snapshot)."""
    uri, environment = _libpq(url)
    command = [_tool("pg_dump"), "--format=custom", f"--file={target}", f"--dbname={uri}"]
    _run(command, environment, "Backup af PostgreSQL-databasen")


def load(copy: Path, url: URL, *, replace_existing: bool) -> None:
    """Restore `copy` into the database at `url` in one transaction: all of it or nothing.

    With `replace_existing` the dump's tables are dropped first (they exist when the target was
    migrated, or holds data and the restore is forced)."""
    uri, environment = _libpq(url)
    command = [
        _tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
        "--no-privileges", f"--dbname={uri}",
    ]  # fmt: skip
    if replace_existing:
        command += ["--clean", "--if-exists"]
    _run([*command, str(copy)], environment, "Gendannelsen af PostgreSQL-databasen")
