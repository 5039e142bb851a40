"""The request id: one short token that ties a web request to what it caused.

The web shell binds an id for each request (a trusted `X-Request-ID` header, or a new one), the
scheduler one for each job it runs; the log lines, the audit event (`case_events.request_id`,
`admin_audit.request_id`) and the outbox rows (`notifications.request_id`) written
meanwhile carry it, so an operator can follow one request from the web server's log to the
trail and the mail it caused. The id is a correlation tag, not evidence: it is not part of an
event's seal (workflow.engine.chain).

Only ids of 8 to 64 letters, digits, '-', '_', '.' and ':' are taken from a header, so a
client cannot write a line break or a name into the logs through it.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

MAX_LENGTH = 64
_VALID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_current: ContextVar[str | None] = ContextVar("aftaleflow_request_id", default=None)


def new(prefix: str = "") -> str:
    """A fresh id: 32 hex digits, after `prefix` (e.g. 'sweep-')."""
    return f"{prefix}{secrets.token_hex(16)}"[:MAX_LENGTH]


def is_valid(value: str | None) -> bool:
    """Whether `value` may be taken as an id from outside."""
    return bool(value) and _VALID.match(value or "") is not None


def current() -> str | None:
    """The id bound in this context (thread or task), if any."""
    return _current.get()


def bind(value: str | None) -> object:
    """Bind `value` in this context; return the token that `reset` takes."""
    return _current.set(value)


def reset(token: object) -> None:
    """Undo a `bind`."""
    _current.reset(token)  # type: ignore[arg-type]


@contextmanager
def bound(value: str | None = None, *, prefix: str = "") -> Iterator[str]:
    """Run the block with `value` (or a new id) bound; yield it."""
    chosen = value or new(prefix)
    token = _current.set(chosen)
    try:
        yield chosen
    finally:
        _current.reset(token)
