"""URL converters: every `<int:…>` in the app's addresses stops at the database's id range."""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, Map

from workflow.engine import values


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` with an upper bound: a number beyond any stored id matches no route (404),
    instead of reaching the database, which cannot compare it (SQLite's 2**63, PostgreSQL's
    2**31) and answers with an error."""

    def __init__(self, map: Map, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", values.ID_MAX)
        super().__init__(map, *args, **kwargs)


def init_routing(app: Flask) -> None:
    """Use the bounded converter for every rule registered after this call."""
    app.url_map.converters["int"] = BoundedIntConverter
