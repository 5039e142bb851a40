"""Browser tests: Debian's Chromium through Playwright against a live server, and axe-core's
WCAG 2.1 A/AA checks on the key pages. They skip, saying why, without /usr/bin/chromium."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from browser_support import (
    BROWSER_MARKS,
    add_user,
    axe_violations,
    chromium,
    live_app,
    log_in,
    new_page,
    open_case,
    page_as,
    shot,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import FocusArea, Role

CHAIR = "formand@su-nord.test"
CO_CHAIR = "medformand@su-nord.test"

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page

# Skip with the reason, or fail where $AFTALEFLOW_REQUIRE_BROWSER=1 (CI), as the others do.
pytestmark = BROWSER_MARKS


@dataclass(frozen=True)
class LiveServer:
    url: str
    case_id: int
    chair_email: str
    co_chair_email: str


def _chairs_and_draft(session: Session) -> int:
    """The organisation's SU chair and co-chair, and a complete draft of the chair's."""
    chair = add_user(session, CHAIR, "Sofie Formand", ("SU-NORD-SOM", Role.CHAIR))
    # The other co-chair of the SU: the chairmanship decides when both have.
    add_user(session, CO_CHAIR, "Mads Medformand", ("SU-NORD-SOM", Role.CHAIR))
    session.commit()
    focus = session.scalar(select(FocusArea.id).order_by(FocusArea.id))
    case = open_case(
        session,
        chair,
        "Fælles akutforløb for ældre",
        national_goal_ids=[1, 2],
        summary="Ét forløb på tværs af sektorer.",
        focus_area_id=focus,
        role_distribution="Kommunen visiterer, hospitalet rådgiver.",
        general_practice_role="Egen læge henviser.",
    )
    return case.id


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The app on 127.0.0.1 in a thread, on its own seeded SQLite file."""
    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'browser.db'}"
    with live_app(url, _chairs_and_draft) as (base_url, case_id):
        yield LiveServer(base_url, case_id, CHAIR, CO_CHAIR)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    with new_page(browser) as opened:
        yield opened


def _log_in(page: Page, server: LiveServer, email: str | None = None) -> None:
    log_in(page, server.url, email or server.chair_email)


def test_chair_logs_in_opens_the_case_and_recommends_it(
    page: Page, browser: Browser, live_server: LiveServer, real_clock: None
) -> None:
    _log_in(page, live_server)
    shot(page, "1-overblik")
    assert page.get_by_role("heading", name="Til beslutning").is_visible()
    # The decision link names its case for screen readers (visually hidden).
    page.get_by_role("link", name=re.compile(r"^Indstil til TSS\W+Fælles akutforløb")).click()
    page.wait_for_url(f"**/sager/{live_server.case_id}?handling=submit*")
    shot(page, "2-sag")
    form = page.locator("#handling-submit")
    assert form.get_attribute("open") is not None
    form.get_by_label("Kommentar").fill("Indstilles af formandskabet.")
    form.get_by_role("button", name="Indstil til TSS").click()
    page.wait_for_url(f"**/sager/{live_server.case_id}")
    shot(page, "3-foreslaaet")
    # One co-chair alone is not the chairmanship: the decision waits for the other co-chair.
    assert page.get_by_text("er registreret som forslag").is_visible()
    assert page.get_by_text("den anden medformand har givet sit samtykke").is_visible()
    assert not page.get_by_text("Sagen er nu: Til behandling i TSS.").is_visible()

    with page_as(browser, live_server.url, live_server.co_chair_email) as other:
        other.goto(f"{live_server.url}/sager/{live_server.case_id}?handling=submit")
        consent = other.locator("#handling-submit")
        consent.get_by_role("button", name="Indstil til TSS").click()
        other.wait_for_url(f"**/sager/{live_server.case_id}")
        shot(other, "4-indstillet")
        assert other.get_by_text("Sagen er nu: Til behandling i TSS.").is_visible()
        assert (
            other.locator("section[aria-labelledby=historik]")
            .get_by_text("Indstilles af formandskabet.")
            .is_visible()
        )


@pytest.mark.parametrize(
    "path",
    ["/login", "/", "/sager", "/sager/{case_id}", "/sager/ny/signature_initiative"],
)
def test_pages_have_no_wcag_violations(
    page: Page, live_server: LiveServer, real_clock: None, path: str
) -> None:
    if path != "/login":
        _log_in(page, live_server)
    page.goto(live_server.url + path.format(case_id=live_server.case_id))
    shot(page, "axe" + path.replace("/", "_").replace("{case_id}", "sag"))
    assert axe_violations(page) == []
