"""URL converters: every `<int:…>` in the app's addresses stops at the database's id range."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask, url_for
from werkzeug.routing import IntegerConverter, Rule

from workflow.engine import values


def at_most(limit: int) -> str:
    """A regular expression for the whole numbers 0 to `limit`, written without leading zeros.

    Bounding the number in the pattern (not in `to_python`) lets a larger number match no
    rule at all, so it is a plain 404 (and the API's catch-all answers it), never a 405.
    """
    digits = str(limit)
    shorter = [f"[1-9][0-9]{{0,{len(digits) - 2}}}"] if len(digits) > 1 else []
    same_length = []
    for position, digit in enumerate(digits):
        rest = len(digits) - position - 1
        low = "1" if position == 0 else "0"
        top = int(digit) - (0 if rest == 0 else 1)
        if top >= int(low):
            same_length.append(
                f"{digits[:position]}[{low}-{top}]" + (f"[0-9]{{{rest}}}" if rest else "")
            )
    return "|".join(["0", *shorter, *same_length])


class BoundedIntConverter(IntegerConverter):
    """`<int:…>` up to the id bound: a number beyond any stored id matches no route (404)
    instead of reaching the database, which cannot compare it (SQLite's 2**63, PostgreSQL's
    2**31) and answers with an error."""

    regex = f"(?:{at_most(values.ID_MAX)})"


class LazyBuildRule(Rule):
    """A rule that writes its URL builders when an address is first built from it.

    Werkzeug compiles two builder functions per rule (from a syntax tree) as the rule is added:
    for the app's 200-odd rules that was three quarters of `create_app`, in the master, before
    any worker could answer, though most rules are never built from in a worker's life. The
    builders are the same, only written on first use (and then kept on the rule).
    """

    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        slot = "_build_unknown" if append_unknown else "_build"

        def build_first(rule: LazyBuildRule, **values: Any) -> tuple[str, str]:
            builder = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            setattr(rule, slot, builder)
            return builder(**values)  # type: ignore[no-any-return]

        return build_first


def init_routing(app: Flask) -> None:
    """Use the bounded converter and the lazily built rule for every rule registered after
    this call."""
    app.url_map.converters["int"] = BoundedIntConverter
    app.url_rule_class = LazyBuildRule


def id_url(endpoint: str, name: str) -> Callable[[int], str]:
    """`url_for(endpoint, name=id)` for any id, the address built once: for a page that links
    to many rows of one kind (building an address costs Werkzeug about 40 calls)."""
    sentinel = str(values.ID_MAX)
    ids: dict[str, Any] = {name: values.ID_MAX}
    head, found, tail = url_for(endpoint, **ids).rpartition(sentinel)
    assert found, (endpoint, name)
    return lambda record_id: f"{head}{int(record_id)}{tail}"
