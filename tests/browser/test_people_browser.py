"""In Chromium, on the demo: the KKR observer's dashboard shows what KKR was informed of and the
implementation picture, and a municipality's respondent finds the consultation to answer; axe
finds no WCAG 2.1 A/AA violations on either page."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, axe_violations, chromium, live_app, new_page, shot
from playwright.sync_api import Page, expect

from workflow import demo
from workflow.engine import clock

pytestmark = BROWSER_MARKS


def _build_demo(session: Any) -> None:
    demo.run(session, progress=lambda _line: None)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The demo on a live server at the demo's date, and Chromium."""
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('people')) / 'people.db'}"
    with live_app(url, _build_demo) as (base_url, _extra), chromium() as browser:
        yield browser, base_url


@pytest.fixture
def demo_clock() -> Iterator[None]:
    """The server answers at the demo's date, as `aftaleflow serve --demo-clock` does."""
    clock.set_time(demo.load_script().today)
    yield
    clock.set_time(None)


def _log_in(page: Page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(f"{login}@{demo.MAIL_DOMAIN}")
    page.get_by_label("Adgangskode").fill(demo.PASSWORD)
    page.get_by_role("button", name="Log ind").click()
    page.wait_for_url(f"{base_url}/")


def test_the_kkr_observer_sees_what_kkr_was_informed_of(demo_server, demo_clock) -> None:
    browser, base_url = demo_server
    with new_page(browser) as page:
        _log_in(page, base_url, "observatoer.kkr")
        informed = page.get_by_role("table", name="Beslutninger til orientering, nyeste først")
        expect(informed).to_be_visible()
        first = informed.get_by_role("row").nth(1)
        expect(first.get_by_role("cell").nth(2)).to_have_text("SKU")
        expect(first.get_by_role("cell").nth(3)).to_have_text("Godkend")
        picture = page.get_by_role(
            "table", name="Indsatser under implementering og deres fremdrift"
        )
        expect(picture).to_be_visible()
        expect(page.get_by_role("img", name="Kommunernes status for", exact=False)).to_be_visible()
        shot(page, "observatoer-kkr-forside")
        assert axe_violations(page) == []
        first.get_by_role("link").click()
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        assert "/sager/" in page.url


def test_a_municipality_respondent_finds_the_consultation(demo_server, demo_clock) -> None:
    browser, base_url = demo_server
    with new_page(browser) as page:
        _log_in(page, base_url, "hoering.dragoer")
        page.goto(f"{base_url}/hoering")
        expect(page.get_by_text("Dragør Kommune").first).to_be_visible()
        shot(page, "hoering-dragoer")
        assert axe_violations(page) == []
