"""The phone-width and axe check of issue 15: every page a crawl fetched, laid out by Chromium
at 390 × 844 px, must not scroll sideways, and axe-core must find no WCAG 2.2 A/AA violation on
it, with its `region` (all content inside landmarks) and `target-size` rules on.

The pages are not rendered again: a small loopback server serves the HTML the crawl already
has at the page's own path, the app's static files (stylesheets, scripts, fonts) and axe, and
nothing else, so the check costs layout and axe time only. One warm Chromium page per role
visits them all; axe is a script the server marks cacheable, so Chromium loads it from its
cache and reuses the compiled code instead of parsing its 650 kB on every page.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from flask import Flask
from werkzeug.exceptions import HTTPException, NotFound
from werkzeug.wrappers import Response

from support.loopback import serve

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
# Only the violations are described in full (resultTypes): the passes are not needed here.
AXE_RUN = (
    "([tags, rules]) => axe.run(document, {runOnly: {type: 'tag', values: tags},"
    " rules: rules, resultTypes: ['violations']}).then(r => r.violations.map(v =>"
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


AXE_PATH = "/__axe__/axe.min.js"
CACHED = "public, max-age=3600, immutable"


def _pages_and_static(
    app: Flask, pages: dict[str, str]
) -> Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]:
    """A WSGI app serving `pages` (path with query: HTML) at their own paths, axe at AXE_PATH,
    and the app's static files (its own and its blueprints'); 404 for anything else."""
    axe = browser_support.AXE.read_bytes()

    def serve(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        query = environ.get("QUERY_STRING", "")
        target = environ.get("RAW_URI") or (path + (f"?{query}" if query else ""))
        if target in pages:
            page = Response(pages[target], mimetype="text/html")
            return page(environ, start_response)
        if path == AXE_PATH:
            script = Response(axe, mimetype="text/javascript", headers={"Cache-Control": CACHED})
            return script(environ, start_response)
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
        response.headers["Cache-Control"] = CACHED  # fetched once per role, not per page
        return response(environ, start_response)  # type: ignore[return-value]

    return serve


def phone_problems(browser: Any, app: Flask, pages: dict[str, str]) -> dict[str, Any]:
    """The pages (path: what is wrong) wider than the phone or with axe violations (each as
    its rule and the first targets)."""
    problems: dict[str, Any] = {}
    with serve(_pages_and_static(app, pages)) as origin:
        context = browser.new_context(viewport=PHONE, locale="da-DK")
        context.set_default_timeout(15_000)
        try:
            page = context.new_page()
            for path in pages:
                # The deferred scripts wait for the stylesheets: at DOMContentLoaded the layout
                # is the styled one.
                response = page.goto(origin + path, wait_until="domcontentloaded")
                if response is None or response.status != 200:
                    problems[path] = {"served": response.status if response else None}
                    continue
                measured = page.evaluate(MEASURE)
                if measured["width"] > PHONE["width"]:
                    problems[path] = measured
                page.add_script_tag(url=origin + AXE_PATH)
                violations = page.evaluate(
                    AXE_RUN, [browser_support.WCAG_TAGS, browser_support.EXTRA_RULES]
                )
                if violations:
                    problems.setdefault(path, {})["axe"] = violations
        finally:
            context.close()
    return problems


def describe(problems: dict[str, Any]) -> str:
    """One line per problem: the page's path, then its width or axe rule and targets."""
    lines = []
    for path, found in problems.items():
        if "width" in found:
            lines.append(f"{path}: {found['width']} px wide; reaching past: {found.get('wide')}")
        if "served" in found:
            lines.append(f"{path}: the page server answered {found['served']}")
        for violation in found.get("axe", []):
            lines.append(f"{path}: axe {violation['id']} at {violation['targets']}")
    return "\n".join(lines)
