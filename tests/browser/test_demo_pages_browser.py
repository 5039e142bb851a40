"""The demo as `make run` serves it (its clock and banner), at desktop and phone width:

- axe finds no WCAG 2.2 A/AA, `region` or `target-size` violation on its long pages (the demo
  banner sits in a landmark);
- focus is never hidden (WCAG 2.2, 2.4.11): tabbing through those pages, the focused element is
  always the one shown at its own centre, never covered by a sticky header, a banner or anything
  else laid over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    BROWSER_MARKS,
    DEMO_PASSWORD,
    chromium,
    live_demo,
    log_in,
    page_problems,
)

pytestmark = BROWSER_MARKS

LOGIN = "sekretariat.tss@demo.aftaleflow.dk"
# Long pages with many focusable elements below the fold: the dashboard, the case list and
# the implementation overview.
PAGES = ["/", "/sager", "/implementering"]
VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
TABS_PER_PAGE = 60

# What covers the focused element at its centre, or null when the top element there is the
# focused one, inside it, or its ancestor (an inline link's centre may fall on its list item's
# box: nothing else is painted over it), or when it has no box (a hidden control).
COVERED = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect();
  if (r.width === 0 || r.height === 0) return null;
  const x = Math.min(Math.max(r.left + r.width / 2, 0), innerWidth - 1);
  const y = Math.min(Math.max(r.top + r.height / 2, 0), innerHeight - 1);
  const top = document.elementFromPoint(x, y);
  if (top && (e.contains(top) || top.contains(e) || (e.labels && [...e.labels].includes(top))))
    return null;
  return {focused: e.outerHTML.slice(0, 120), covered_by: top ? top.outerHTML.slice(0, 120) : null};
}"""


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('focus')) / 'demo.db'}"
    with live_demo(url) as base_url, chromium() as browser:
        yield browser, base_url


@pytest.fixture(params=list(VIEWPORTS))
def page_at(demo_site: tuple[Any, str], request: pytest.FixtureRequest) -> Iterator[Any]:
    """A logged-in tab at desktop or phone size."""
    browser, base_url = demo_site
    width, height = VIEWPORTS[request.param]
    context = browser.new_context(
        bypass_csp=True, locale="da-DK", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(20_000)
    try:
        page = context.new_page()
        log_in(page, base_url, LOGIN, DEMO_PASSWORD)
        yield page
    finally:
        context.close()


def test_the_demo_pages_have_no_wcag_violations(demo_site: tuple[Any, str], page_at: Any) -> None:
    _browser, base_url = demo_site
    found = {}
    for path in PAGES:
        page_at.goto(base_url + path)
        assert page_at.locator(".demo-banner").count() == 1
        found[path] = page_problems(page_at)
    assert found == {path: [] for path in PAGES}


def test_the_focused_element_is_never_covered(demo_site: tuple[Any, str], page_at: Any) -> None:
    _browser, base_url = demo_site
    page = page_at
    hidden: list[dict[str, Any]] = []
    reached = 0
    for path in PAGES:
        page.goto(base_url + path)
        for tab in range(TABS_PER_PAGE):
            page.keyboard.press("Tab")
            found = page.evaluate(COVERED)
            reached += page.evaluate("() => document.activeElement !== document.body")
            if found:
                hidden.append({"page": path, "tab": tab + 1, **found})
    assert reached > TABS_PER_PAGE * len(PAGES) // 2, "tabbing reached almost nothing"
    assert hidden == []
