"""The processes' logs: readable text by default, one JSON object a line when configured, every
line with the request id (workflow.engine.request_id), and no personal data or secrets.

Settings: AFTALEFLOW_LOG_FORMAT (`text`, the default, or `json`) and AFTALEFLOW_LOG_LEVEL
(`INFO` by default). Each request writes one access line on the `aftaleflow.access` logger with
its route *pattern* (`/sager/<int:case_id>`), never the path or query string as sent: a path
may hold a reset or calendar token, a query string a search for a person's name. As a last
defence every line is scrubbed of e-mail addresses, CPR-like numbers, bearer tokens and
`password=`/`token=`-style values before it is written.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from workflow.engine import request_id

FORMAT_ENV = "AFTALEFLOW_LOG_FORMAT"
LEVEL_ENV = "AFTALEFLOW_LOG_LEVEL"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"
# Attributes every LogRecord has; anything else was passed in `extra=` and goes into the JSON.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "request_id"}
_HANDLER_NAME = "aftaleflow"

EMAIL_PATTERN = r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
_EMAIL = re.compile(EMAIL_PATTERN)
# A day and month of a date, two digits of year, four more: what a Danish CPR number looks like,
# standing alone (not inside a request id's hex or a longer number).
CPR_PATTERN = r"(?<![\w-])(?:0[1-9]|[12]\d|3[01])(?:0[1-9]|1[0-2])\d{2}-?\d{4}(?![\w-])"
_CPR = re.compile(CPR_PATTERN)
_BEARER = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")
_SECRET_VALUE = re.compile(
    r"(?i)\b(password|passwd|adgangskode|token|secret|api[_-]?key|nøgle|key|authorization)"
    r"(\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s,;&\"'\\]+)"
)
_DSN_PASSWORD = re.compile(r"(://[^/\s:@]+:)[^@\s/]+@")
REDACTED = "[skjult]"


def scrub(text: str) -> str:
    """`text` with e-mail addresses, CPR-like numbers, credentials and secrets replaced."""
    text = _DSN_PASSWORD.sub(lambda m: f"{m.group(1)}{REDACTED}@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)} {REDACTED}", text)
    text = _SECRET_VALUE.sub(lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}", text)
    text = _EMAIL.sub(REDACTED, text)
    return _CPR.sub(REDACTED, text)


class RequestIdFilter(logging.Filter):
    """Give every record the request id bound where it was logged ('-' outside one)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = request_id.current() or "-"
        return True


class _Scrubbing(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


class TextFormatter(_Scrubbing):
    """One readable line: time, level, logger, [request id], message."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, request_id, message and the extras, each
    text scrubbed before it is serialised (so the line stays valid JSON)."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", None) or request_id.current(),
            "message": scrub(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else value
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        if record.stack_info:
            entry["stack"] = scrub(self.formatStack(record.stack_info))
        return json.dumps(entry, ensure_ascii=False, default=lambda v: scrub(str(v)))


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """The configured format: 'text' or 'json' (a clear error for anything else)."""
    env = os.environ if environ is None else environ
    chosen = (env.get(FORMAT_ENV) or "text").strip().lower()
    if chosen not in ("text", "json"):
        raise ValueError(f"{FORMAT_ENV} skal være text eller json, ikke '{chosen}'.")
    return chosen


def log_level(environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    chosen = (env.get(LEVEL_ENV) or "INFO").strip().upper()
    level = logging.getLevelName(chosen)
    if not isinstance(level, int):
        raise ValueError(
            f"{LEVEL_ENV} skal være DEBUG, INFO, WARNING, ERROR eller CRITICAL, ikke '{chosen}'."
        )
    return level


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever sys.stderr is when a record comes (a test runner may swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _value: Any) -> None:
        pass


def make_handler(stream: Any = None, fmt: str | None = None) -> logging.Handler:
    """A handler writing scrubbed lines with request ids in the chosen format (to `stream`,
    default the process's standard error)."""
    handler: logging.Handler = (
        logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    )
    handler.set_name(_HANDLER_NAME)
    handler.addFilter(RequestIdFilter())
    handler.setFormatter(JsonFormatter() if (fmt or log_format()) == "json" else TextFormatter())
    return handler


def configure(environ: Mapping[str, str] | None = None, stream: Any = None) -> logging.Handler:
    """Send the root logger's records through our handler (once; a second call replaces it)."""
    root = logging.getLogger()
    for existing in list(root.handlers):
        if existing.get_name() == _HANDLER_NAME:
            root.removeHandler(existing)
    handler = make_handler(stream, log_format(environ))
    root.addHandler(handler)
    root.setLevel(log_level(environ))
    return handler
