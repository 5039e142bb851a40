"""URL converters: every `<int:…>` in the app's addresses stops at the database's id range.
Rules that write their URL builders on first use; areas whose views are imported on first use."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Blueprint, Flask, url_for
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


APP_ROOT = Path(__file__).resolve().parent.parent  # the workflow package

# A route of a lazily imported area: (rule under the area's prefix, view function's name, the
# methods). The endpoint is the area's name and the function's name, as Flask makes it.
Route = tuple[str, str, tuple[str, ...]]
GET: tuple[str, ...] = ("GET",)
POST: tuple[str, ...] = ("POST",)
GET_POST: tuple[str, ...] = ("GET", "POST")


class LazyArea:
    """A rarely used area whose view module is imported on the area's first request.

    The area's addresses are in a table kept beside its views (`routes.py`), so every rule,
    and so every `url_for` to the area, exists from the start without importing the views, their
    forms and what only they use. The stand-in blueprint registered in the real one's place has
    the same name, prefix, rules, endpoints, static folder, `before_request` hooks and
    template globals; each of its views and hooks imports the real module on its first call
    and calls the real function of the same name. `tests/web/test_lazy_areas.py` checks that
    each stand-in registers exactly what the real blueprint does (`bench.route_listing` prints
    the same app), and that the real one has no kind of hook the stand-in would not run.
    """

    def __init__(
        self,
        name: str,
        views: str,
        url_prefix: str,
        routes: tuple[Route, ...],
        *,
        static_folder: str | None = None,
        before_request: tuple[str, ...] = (),
        template_globals: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.views = views  # the module that defines the real blueprint `bp`
        self.url_prefix = url_prefix
        self.routes = routes
        self.static_folder = static_folder
        self.before_request = before_request  # the real blueprint's hooks' names, in order
        # Globals the real blueprint adds to every template: name -> "module:attribute".
        self.template_globals = dict(template_globals or {})

    def module(self) -> ModuleType:
        """The area's view module, imported on first use (then taken from `sys.modules`)."""
        return importlib.import_module(self.views)

    def blueprint(self) -> Blueprint:
        """The stand-in blueprint: the real one's rules, with views that import on first call."""
        stand_in = Blueprint(
            self.name,
            self.views,
            url_prefix=self.url_prefix,
            static_folder=self.static_folder,
            static_url_path="/static" if self.static_folder else None,
            # The real one's (the views' folder), given so Flask need not look the module up.
            root_path=str(APP_ROOT.joinpath(*self.views.split(".")[1:-1])),
        )
        for rule, function, methods in self.routes:
            stand_in.add_url_rule(rule, function, self._call(function), methods=list(methods))
        for hook in self.before_request:
            stand_in.before_request(self._call(hook))
        for name, target in self.template_globals.items():
            module, attribute = target.split(":")
            stand_in.add_app_template_global(
                getattr(importlib.import_module(module), attribute), name
            )
        return stand_in

    def _call(self, function: str) -> Callable[..., Any]:
        """A stand-in for the view module's `function` (a view or a hook)."""

        def call(**arguments: Any) -> Any:
            return getattr(self.module(), function)(**arguments)

        # The real function's names: what Flask-WTF's exemptions and the route listing go by.
        call.__name__ = call.__qualname__ = function
        call.__module__ = self.views
        return call


def register_lazy_area(app: Flask, area: LazyArea) -> None:
    """Register `area`'s stand-in blueprint on `app` (its views are imported when first asked
    for)."""
    app.register_blueprint(area.blueprint())
