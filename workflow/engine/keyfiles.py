"""Key files: a random secret written once to a file only its owner can read.

Used for the audit key (workflow.engine.audit_key) and for the session key beside a SQLite
database (workflow.app). Several processes may start at once; the first one's key wins and no
process ever reads a half-written file.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def create_key_file(path: Path) -> None:
    """Write a new random key to `path` (owner-only), unless some process made it first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_hex(32) + "\n")
    try:
        # link() refuses to overwrite, and the file appears whole: when several processes
        # start at once, the first key wins and nobody reads a half-written one.
        os.link(temporary, path)
    except FileExistsError:
        pass
    finally:
        temporary.unlink()
