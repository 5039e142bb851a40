"""The pages work with JavaScript turned off (issue 3, item 8): in Chromium without JavaScript
an SU member logs in, creates a draft through the guided form, and the SU chair finds it on
the dashboard, opens the case page and recommends it through the action's form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    BROWSER_MARKS,
    add_user,
    chromium,
    live_app,
    log_in,
    new_page,
    open_action,
    page_as,
    shot,
)
from sqlalchemy.orm import Session

from models import Role

pytestmark = BROWSER_MARKS

TITLE = "Udskrivning uden JavaScript"
MEMBER = "medlem@nojs.test"
CHAIR = "formand@nojs.test"
CO_CHAIR = "medformand@nojs.test"


def _people(session: Session) -> None:
    add_user(session, MEMBER, "Mads Medlem", ("SU-NORD-SOM", Role.MEMBER))
    add_user(session, CHAIR, "Sofie Formand", ("SU-NORD-SOM", Role.CHAIR))
    add_user(session, CO_CHAIR, "Mette Medformand", ("SU-NORD-SOM", Role.CHAIR))


@pytest.fixture(scope="module")
def base_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('nojs')) / 'nojs.db'}"
    with live_app(url, _people) as (served_at, _extra):
        yield served_at


def _ships_no_script(page: Any) -> None:
    """The page's only scripts are the app's own files (DKFDS and site.js, which enhance it,
    docs/design.md): no inline script, nothing from another host. This test runs with them
    off, so nothing it does depends on them."""
    sources = page.eval_on_selector_all("script", "scripts => scripts.map(s => s.src)")
    origin = page.url.split("/", 3)[:3]
    assert all(src.split("/", 3)[:3] == origin for src in sources), sources
    assert all("/static/" in src for src in sources), sources


def _assert_javascript_is_off(browser: Any) -> None:
    """The context really runs no page script (else this test would prove nothing)."""
    with new_page(browser, javascript=False) as page:
        page.set_content("<title>uden</title><script>document.title = 'med';</script>")
        assert page.title() == "uden"


def _create_draft(page: Any, base_url: str) -> int:
    log_in(page, base_url, MEMBER)
    _ships_no_script(page)
    page.get_by_role("link", name="Ny sag").first.click()
    page.get_by_role("link", name=re.compile("Signaturindsats")).first.click()
    page.wait_for_url("**/sager/ny/signature_initiative")
    page.get_by_label("Titel", exact=True).fill(TITLE)
    page.get_by_label("Resumé", exact=True).fill("Færre genindlæggelser efter udskrivning.")
    page.get_by_label("Fokusområde", exact=True).select_option(index=1)
    page.locator("input[name=national_goals]").nth(0).check()
    page.get_by_label("Rolle- og opgavefordeling", exact=True).fill(
        "Hospitalet udskriver, kommunen følger op."
    )
    page.get_by_label("Almen praksis' rolle", exact=True).fill("Egen læge får epikrisen.")
    page.get_by_label("Kvalitet", exact=True).fill("Færre genindlæggelser.")
    page.get_by_label("Økonomi", exact=True).fill("Ingen merudgift.")
    page.get_by_label("Borgerens oplevelse", exact=True).fill("Tryg overgang til hjemmet.")
    shot(page, "uden-js-1-ny-sag")
    page.get_by_role("button", name="Gem kladde").click()
    page.wait_for_url(re.compile(r".*/sager/\d+$"))
    assert page.get_by_text(f"Sagen »{TITLE}« er gemt som kladde.").is_visible()
    shot(page, "uden-js-2-kladde")
    return int(page.url.rsplit("/", 1)[1])


def test_a_draft_is_created_and_recommended_without_javascript(
    base_url: str, real_clock: None
) -> None:
    with chromium() as browser:
        _assert_javascript_is_off(browser)
        with new_page(browser, javascript=False) as page:
            case_id = _create_draft(page, base_url)
        with page_as(browser, base_url, CHAIR, javascript=False) as page:
            assert page.get_by_role("heading", name="Til beslutning").is_visible()
            assert page.get_by_role("link", name=TITLE).first.is_visible()
            shot(page, "uden-js-3-overblik")
            page.get_by_role("link", name=TITLE).first.click()
            page.wait_for_url(f"**/sager/{case_id}")
            _ships_no_script(page)
            # <details> opens natively: no script is needed to reach the form.
            form = open_action(page, "Indstil til TSS")
            form.get_by_label("Kommentar").fill("Indstilles uden JavaScript.")
            form.get_by_role("button", name="Indstil til TSS").click()
            page.wait_for_url(f"**/sager/{case_id}")
            shot(page, "uden-js-4-foreslaaet")
            # One co-chair's decision is a proposal until the other co-chair consents.
            assert page.get_by_text("er registreret som forslag").is_visible()
            assert not page.get_by_text("Sagen er nu: Til behandling i TSS.").is_visible()
        with page_as(browser, base_url, CO_CHAIR, javascript=False) as page:
            page.goto(f"{base_url}/sager/{case_id}")
            _ships_no_script(page)
            form = open_action(page, "Indstil til TSS")
            form.get_by_role("button", name="Indstil til TSS").click()
            page.wait_for_url(f"**/sager/{case_id}")
            shot(page, "uden-js-5-indstillet")
            assert page.get_by_text("Sagen er nu: Til behandling i TSS.").is_visible()
            history = page.locator("section[aria-labelledby=historik]")
            assert history.get_by_text("Indstilles uden JavaScript.").is_visible()
