"""The phone-width check of issue 15: the pages a crawl fetched, laid out by Chromium at
390 × 844 px, must not scroll sideways, and axe-core must find no WCAG A/AA violation on them
with its `region` rule on (all content inside landmarks).

The pages are not rendered again: the browser is given the HTML the crawl already has, at
the address of a small server that serves the app's static files (stylesheets, scripts,
fonts) and nothing else, so the check costs layout time only and runs on either database.
axe, the slow part, runs once per kind of page (Flask endpoint): pages of one kind share
their template.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.serving import make_server

PHONE = {"width": 390, "height": 844}
# The document's width, and the first elements that reach past the viewport (for the message).
MEASURE = (
    "() => { const wide = [], edge = document.documentElement.clientWidth + 1;"
    " const width = document.documentElement.scrollWidth;"
    " if (width < edge) return {width: width};"
    " for (const e of document.querySelectorAll('body *')) {"
    "   if (e.getBoundingClientRect().right > edge && e.offsetParent !== null)"
    "     wide.push(e.outerHTML.slice(0, 120)); }"
    " return {width: width, wide: wide.slice(-3)}; }"
)
AXE_RUN = (
    "([tags, rules]) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
    " rules: rules}).then(r => r.violations.map(v =>"
    " ({id: v.id, targets: v.nodes.slice(0, 3).map(n => n.target)})))"
)


def _browser_support() -> ModuleType:
    """tests/browser/browser_support.py (Chromium, axe and the run/skip/fail decision), which
    is importable by name only from the browser tests' own folder."""
    path = Path(__file__).resolve().parents[1] / "browser" / "browser_support.py"
    spec = importlib.util.spec_from_file_location("browser_support", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


browser_support = _browser_support()


@contextmanager
def phone_browser() -> Iterator[Any]:
    """One Chromium for the module, or None where the browser tests skip (no Chromium)."""
    if browser_support.DECISION == "skip":
        yield None
        return
    with browser_support.chromium() as browser:
        yield browser


def kind_of(app: Flask, path: str) -> str:
    """The endpoint that answers `path`."""
    try:
        endpoint, _args = app.url_map.bind("localhost").match(path.split("?", 1)[0])
    except HTTPException:
        return path
    return str(endpoint)


@contextmanager
def static_files(app: Flask) -> Iterator[str]:
    """Serve the app's static files (its own and its blueprints') on a loopback port; yield
    the address. Nothing else is served: no page, no database."""

    def serve(environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        try:
            endpoint, args = app.url_map.bind("localhost").match(path)
        except HTTPException as refused:
            return refused(environ, start_response)  # type: ignore[return-value]
        if endpoint != "static" and not str(endpoint).endswith(".static"):
            return NotFound()(environ, start_response)  # type: ignore[return-value]
        with app.test_request_context(path):
            response = app.make_response(app.view_functions[endpoint](**args))
            response.direct_passthrough = False
            response.get_data()
        return response(environ, start_response)  # type: ignore[return-value]

    server = make_server("127.0.0.1", 0, serve, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def phone_problems(browser: Any, app: Flask, pages: dict[str, str]) -> dict[str, Any]:
    """The pages (path: what is wrong) wider than the phone or with axe violations."""
    problems: dict[str, Any] = {}
    checked: set[str] = set()
    with static_files(app) as origin:
        context = browser.new_context(viewport=PHONE, locale="da-DK")
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            page.goto(origin + "/static/site.js")  # the pages' own address for their links
            for path, html in pages.items():
                # The deferred scripts wait for the stylesheets: at DOMContentLoaded the layout is
                # the styled one.
                page.set_content(html, wait_until="domcontentloaded")
                measured = page.evaluate(MEASURE)
                if measured["width"] > PHONE["width"]:
                    problems[path] = measured
                kind = kind_of(app, path)
                if kind in checked:
                    continue
                checked.add(kind)
                page.add_script_tag(path=str(browser_support.AXE))
                violations = page.evaluate(
                    AXE_RUN, [browser_support.WCAG_TAGS, browser_support.EXTRA_RULES]
                )
                if violations:
                    problems.setdefault(path, {})["axe"] = violations
        finally:
            context.close()
    return problems
