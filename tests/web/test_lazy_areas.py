"""The rarely used areas' views are imported on their first request (cold start, issue 14):
each area's table of routes (`routes.py` beside its views) registers exactly what the real
blueprint registers, and a request through the stand-in runs the real views and hooks."""

from __future__ import annotations

import functools
import importlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from flask import Blueprint, Flask

from workflow.app import LAZY_AREAS
from workflow.web.routing import LazyArea, init_routing, register_lazy_area

pytestmark = pytest.mark.database_independent("route tables and blueprints, no database work")


def _names(functions: Iterable[Callable[..., Any]]) -> list[str]:
    return [f"{function.__module__}.{function.__qualname__}" for function in functions]


def _registered(register: Callable[[Flask], None]) -> dict[str, Any]:
    """Everything a blueprint leaves on a bare app: rules, views' names, hooks of every kind,
    error handlers, template globals, filters and tests."""
    app = Flask("workflow")
    init_routing(app)
    bare_globals = dict(app.jinja_env.globals)
    bare_filters = dict(app.jinja_env.filters)
    bare_tests = dict(app.jinja_env.tests)
    register(app)
    rules = sorted(
        (
            rule.rule,
            rule.endpoint,
            sorted(rule.methods or ()),
            rule.defaults,
            rule.strict_slashes,
            sorted((name, type(c).__name__) for name, c in rule._converters.items()),
            _names([app.view_functions[rule.endpoint]]),
        )
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
    )
    hooks = {
        kind: {name: _names(functions) for name, functions in getattr(app, kind).items()}
        for kind in (
            "before_request_funcs",
            "after_request_funcs",
            "teardown_request_funcs",
            "template_context_processors",
            "url_value_preprocessors",
            "url_default_functions",
        )
    }
    handlers = {
        name: {code: _names(by_class.values()) for code, by_class in codes.items()}
        for name, codes in app.error_handler_spec.items()
    }
    blueprints = {
        name: (bp.import_name, bp.url_prefix, bp.static_folder, bp.static_url_path, bp.root_path)
        for name, bp in app.blueprints.items()
    }
    return {
        "rules": rules,
        "hooks": hooks,
        "error handlers": handlers,
        "blueprints": blueprints,
        "globals": {k: v for k, v in app.jinja_env.globals.items() if bare_globals.get(k) is not v},
        "filters": {k: v for k, v in app.jinja_env.filters.items() if bare_filters.get(k) is not v},
        "tests": {k: v for k, v in app.jinja_env.tests.items() if bare_tests.get(k) is not v},
    }


@pytest.mark.parametrize("area", LAZY_AREAS, ids=lambda area: area.name)
def test_each_route_table_registers_exactly_what_the_real_blueprint_does(area: LazyArea) -> None:
    real: Blueprint = importlib.import_module(area.views).bp
    assert _registered(lambda app: register_lazy_area(app, area)) == _registered(
        lambda app: app.register_blueprint(real)
    )


@pytest.mark.parametrize("area", LAZY_AREAS, ids=lambda area: area.name)
def test_each_stand_in_calls_the_real_view_of_its_endpoint(
    area: LazyArea, monkeypatch: pytest.MonkeyPatch
) -> None:
    module = importlib.import_module(area.views)
    app = Flask("workflow")
    init_routing(app)
    register_lazy_area(app, area)
    for _rule, function, _methods in area.routes:
        # The real view, replaced by one that says who it is and what it was given.
        monkeypatch.setattr(module, function, functools.partial(dict, view=function))
        answer = app.view_functions[f"{area.name}.{function}"](code="a")
        assert answer == {"view": function, "code": "a"}


def test_the_app_starts_without_importing_the_rare_areas_views(tmp_path: Path) -> None:
    # The areas' views, and the operations pages' queries (with the scheduler's modules).
    views = [area.views for area in LAZY_AREAS] + ["workflow.ops.queries", "workflow.scheduler"]
    code = (
        "import sys\n"
        "from workflow.app import create_app\n"
        "create_app({'SECRET_KEY': 'x' * 40, 'TESTING': True})\n"
        f"print([name for name in {views!r} if name in sys.modules])\n"
    )
    env = {**os.environ, "AFTALEFLOW_DATABASE_URL": f"sqlite:///{tmp_path / 'cold.db'}"}
    run = subprocess.run(
        [sys.executable, "-c", code], env=env,
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().splitlines()[-1] == "[]"
