"""The audit key: the secret that seals the audit chains and signs the checkpoints.

It is kept outside the database on purpose: someone who can write the database but not read
this key cannot recompute a chain after editing it. $AFTALEFLOW_AUDIT_KEY holds it directly
(at least 32 characters), otherwise the file $AFTALEFLOW_AUDIT_KEY_FILE (default var/audit.key,
created with mode 0600 on first use). Back it up apart from the database: without it the
trail can no longer be verified.
"""

from __future__ import annotations

import os
from pathlib import Path

from workflow.engine.keyfiles import create_key_file

KEY_ENV = "AFTALEFLOW_AUDIT_KEY"
KEY_FILE_ENV = "AFTALEFLOW_AUDIT_KEY_FILE"
DEFAULT_KEY_FILE = Path("var") / "audit.key"
MIN_LENGTH = 32

_cache: dict[tuple[str | None, str | None, str], bytes] = {}


class AuditKeyError(Exception):
    """The audit key is missing or too weak; the message says what to do."""


def key_file() -> Path:
    """Where the key file lives when $AFTALEFLOW_AUDIT_KEY is not set."""
    return Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE)


def _checked(value: str, source: str) -> bytes:
    value = value.strip()
    if len(value) < MIN_LENGTH:
        raise AuditKeyError(
            f"Revisionsnøglen i {source} er for kort ({len(value)} tegn); den skal være mindst "
            f"{MIN_LENGTH} tegn. Lav en med fx 'python -c \"import secrets; "
            "print(secrets.token_hex(32))\"'."
        )
    return value.encode("utf-8")


def load_key(*, create: bool = True) -> bytes:
    """Return the audit key, creating the key file on first use when `create` is true."""
    from_env = os.environ.get(KEY_ENV)
    # Sealed on every event: remember the key per setting instead of reading the file each time
    # (the working folder counts, since the default file is relative to it).
    cache_key = (from_env, os.environ.get(KEY_FILE_ENV), os.getcwd())
    cached = _cache.get(cache_key)
    if cached is not None:
        return cached
    path = key_file()
    if from_env:
        key = _checked(from_env, f"${KEY_ENV}")
    else:
        if not path.exists():
            if not create:
                raise AuditKeyError(
                    f"Revisionsnøglen {path} findes ikke. Sæt ${KEY_ENV} eller ${KEY_FILE_ENV}, "
                    "eller læg den sikkerhedskopierede nøglefil tilbage."
                )
            create_key_file(path)
        key = _checked(path.read_text("utf-8"), str(path))
    _cache[cache_key] = key
    return key


def read_key_file(path: Path) -> bytes:
    """The key in the file at `path` (e.g. a copy handed to an archive to check seals)."""
    return _checked(path.read_text("utf-8"), str(path))


def describe() -> str:
    """Say in Danish where the key comes from (never the key itself)."""
    if os.environ.get(KEY_ENV):
        return f"miljøvariablen ${KEY_ENV}"
    return f"filen {key_file()}"
