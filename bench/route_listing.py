"""Every route of the app, with what decides how it answers: `python -m bench.route_listing`.

For a change to how the app is built (the cold start, issue 14): run it in two checkouts and
diff the outputs; they must be identical. One line per rule (address, endpoint, methods,
defaults, slashes, converters, the view function), then the hooks, error handlers, template
context processors, filters and globals.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any


def _names(functions: Iterable[Callable[..., Any]]) -> list[str]:
    return [f"{function.__module__}.{function.__qualname__}" for function in functions]


def listing() -> list[str]:
    from workflow.app import create_app

    app = create_app({"DATABASE_URL": "sqlite://", "SECRET_KEY": "x" * 40, "TESTING": True})
    lines = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda rule: (rule.rule, rule.endpoint)):
        view = app.view_functions[rule.endpoint]
        converters = sorted(
            (name, type(converter).__name__, converter.regex)
            for name, converter in rule._converters.items()
        )
        lines.append(
            f"{rule.rule} {rule.endpoint} {sorted(rule.methods or ())} {rule.defaults} "
            f"{rule.strict_slashes} {rule.subdomain!r} {rule.host!r} {rule.redirect_to!r} "
            f"{converters} {view.__module__}.{view.__qualname__}"
        )
    hooks_by_kind: tuple[tuple[str, dict[Any, list[Callable[..., Any]]]], ...] = (
        ("before_request", app.before_request_funcs),
        ("after_request", app.after_request_funcs),
        ("teardown_request", app.teardown_request_funcs),
        ("context_processor", app.template_context_processors),
        ("url_value_preprocessor", app.url_value_preprocessors),
        ("url_default", app.url_default_functions),
    )
    for name, hooks in hooks_by_kind:
        for scope, functions in sorted(hooks.items(), key=lambda item: str(item[0])):
            lines.append(f"{name} {scope}: {_names(functions)}")
    for scope, by_code in sorted(app.error_handler_spec.items(), key=lambda item: str(item[0])):
        for code, handlers in sorted(by_code.items(), key=lambda item: str(item[0])):
            found = {exception.__name__: handlers[exception] for exception in handlers}
            lines.append(f"errorhandler {scope} {code}: {sorted(_names(found.values()))}")
    lines.append(f"filters {sorted(app.jinja_env.filters)}")
    lines.append(f"globals {sorted(app.jinja_env.globals)}")
    return lines


if __name__ == "__main__":
    print("\n".join(listing()))
