"""Focus is never hidden (WCAG 2.2, 2.4.11): tabbing through long pages of the demo at desktop
and phone width, the focused element is always the one shown at its own centre, never covered
by a sticky header, a banner or anything else laid over it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, DEMO_PASSWORD, chromium, live_demo, log_in

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


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_focused_element_is_never_covered(demo_site: tuple[Any, str], viewport: str) -> None:
    browser, base_url = demo_site
    width, height = VIEWPORTS[viewport]
    context = browser.new_context(
        bypass_csp=True, locale="da-DK", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    hidden: list[dict[str, Any]] = []
    reached = 0
    try:
        log_in(page, base_url, LOGIN, DEMO_PASSWORD)
        for path in PAGES:
            page.goto(base_url + path)
            for tab in range(TABS_PER_PAGE):
                page.keyboard.press("Tab")
                found = page.evaluate(COVERED)
                reached += page.evaluate("() => document.activeElement !== document.body")
                if found:
                    hidden.append({"page": path, "tab": tab + 1, **found})
    finally:
        context.close()
    assert reached > TABS_PER_PAGE * len(PAGES) // 2, "tabbing reached almost nothing"
    assert hidden == []
