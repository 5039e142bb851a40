"""Issue 11's daily paths in Chromium, on the demo at the demo's date, for the two roles that
only read or answer: the KKR observer (what KKR was informed of, an informed case, the
implementation picture, and no action it cannot use) and a municipality's consultation
respondent (finds the open consultation on the dashboard, answers it with a file, sees the
answer recorded and the consultation no longer asking; another municipality's respondent does
not get Dragør's answer form). axe finds no WCAG 2.1 A/AA violation on any page on the way, and
no id is used twice."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import BROWSER_MARKS, Steps, chromium, live_app, page_as
from playwright.sync_api import Page, expect

from workflow import demo
from workflow.engine import clock

pytestmark = BROWSER_MARKS

CONSULTATION = "Digital genoptræningsplan – deling mellem hospital og kommune"
OTHER_CONSULTATION = "Fælles retningslinjer for medicinhåndtering ved sektorovergange"
INFORMED_CASE = "Sårbare gravide – tidlig opsporing og fælles forløb"
PDF = b"%PDF-1.4\n% Dragoer Kommunes hoeringssvar\n"


def _build_demo(session: Any) -> None:
    demo.run(session, progress=lambda _line: None)


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, str]]:
    """The demo on a live server at the demo's date, and Chromium."""
    folder = Path(tmp_path_factory.mktemp("people"))
    url = f"sqlite:///{folder / 'people.db'}"
    config = {"AFTALEFLOW_ATTACHMENTS_DIR": str(folder / "bilag")}
    with live_app(url, _build_demo, config) as (base_url, _extra), chromium() as browser:
        yield browser, base_url


@pytest.fixture
def demo_clock() -> Iterator[None]:
    """The server answers at the demo's date, as `aftaleflow serve --demo-clock` does."""
    clock.set_time(demo.load_script().today)
    yield
    clock.set_time(None)


def _as(browser: Any, base_url: str, login: str) -> Any:
    """A tab logged in as the demo's user `login` (the part of the address before the @)."""
    return page_as(browser, base_url, f"{login}@{demo.MAIL_DOMAIN}", demo.PASSWORD)


def _post_forms(page: Page) -> int:
    """How many forms in the page's main content would change something."""
    return page.locator("main form[method=post]").count()


def test_the_kkr_observer_reads_what_kkr_was_informed_of_and_can_do_nothing_else(
    demo_server, demo_clock
) -> None:
    browser, base_url = demo_server
    steps = Steps()
    with _as(browser, base_url, "observatoer.kkr") as page:
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
        menu = page.get_by_role("navigation", name="Hovedmenu")
        expect(menu.get_by_role("link", name="Ny sag")).to_have_count(0)
        assert _post_forms(page) == 0
        steps.check(page, "observatoer-kkr-1-forside")

        page.get_by_role("link", name="Se hele listen over orienteringer").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            "Orientering: det har SKU godkendt"
        )
        assert "Siden kan kun læses." in page.locator("main").inner_text()
        assert _post_forms(page) == 0
        steps.check(page, "observatoer-kkr-2-orienteringer")

        page.locator("main").get_by_role("link", name=INFORMED_CASE).first.click()
        expect(page.get_by_role("heading", level=1)).to_have_text(INFORMED_CASE)
        assert "Udbredelse og implementering" in page.locator("dl.facts").inner_text()
        actions = page.locator("section[aria-labelledby=handlinger]").inner_text()
        assert "Sagen behandles af Samordningsudvalg Syd (somatik)." in actions
        panel = page.locator("section[aria-labelledby=naeste-skridt]").inner_text()
        assert "Meld implementering afsluttet" in panel
        expect(page.get_by_role("link", name="Rediger sagens oplysninger")).to_have_count(0)
        expect(page.locator("main").get_by_role("button")).to_have_count(0)
        assert _post_forms(page) == 0
        steps.check(page, "observatoer-kkr-3-sag")

        page.get_by_role("link", name="Implementering pr. enhed").click()
        expect(page.get_by_role("heading", level=1)).to_have_text(
            f"Implementering: {INFORMED_CASE}"
        )
        units = page.get_by_role("table").filter(has_text="Bornholms Regionskommune")
        expect(units.get_by_role("row", name="Dragør Kommune")).to_have_count(1)
        expect(page.locator("main").get_by_role("button")).to_have_count(0)
        assert _post_forms(page) == 0
        steps.check(page, "observatoer-kkr-4-implementering")

        page.get_by_role("link", name="Implementering i regionen").click()
        # Wait for the region's page: the unit page being left names the case too, and a
        # page caught mid-navigation has no text yet.
        page.wait_for_url(re.compile(r"/implementering\?"))
        expect(page.locator("main")).to_contain_text(INFORMED_CASE)
        assert _post_forms(page) == 0
        steps.check(page, "observatoer-kkr-5-regionen")
    assert steps.problems == {}


def test_a_municipality_respondent_answers_the_consultation_on_the_dashboard(
    demo_server, demo_clock
) -> None:
    browser, base_url = demo_server
    steps = Steps()
    with _as(browser, base_url, "hoering.dragoer") as page:
        waiting = page.locator("section[aria-labelledby=hoeringer-til-svar]")
        expect(waiting.get_by_role("heading")).to_have_text("Høringer, der venter på jeres svar")
        expect(waiting.get_by_role("link", name=CONSULTATION)).to_be_visible()
        expect(waiting.get_by_role("link", name=OTHER_CONSULTATION)).to_be_visible()
        assert "svarer på høringer for Dragør Kommune" in page.locator("main").inner_text()
        steps.check(page, "hoering-dragoer-1-forside")

        waiting.get_by_role("link", name=CONSULTATION).click()
        expect(page.get_by_role("heading", level=1)).to_have_text("Høring om sagen")
        answer = page.locator(
            "section", has=page.get_by_role("heading", name="Svar på vegne af Dragør Kommune")
        )
        expect(answer).to_have_count(1)
        expect(page.get_by_role("heading", name="Svar på vegne af")).to_have_count(1)
        row = page.get_by_role("row", name="Dragør Kommune")
        expect(row).to_contain_text("Afventer svar")
        steps.check(page, "hoering-dragoer-2-hoering")

        answer.get_by_label("Høringssvar", exact=True).fill(
            "Dragør Kommune tiltræder; genoptræningsplanen bør deles inden udskrivelsen."
        )
        answer.get_by_label("Høringssvar som fil (valgfrit)").set_input_files(
            {"name": "dragoer-hoeringssvar.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        answer.get_by_role("button", name="Send høringssvaret").click()
        page.wait_for_load_state()
        assert (
            "Høringssvaret fra Dragør Kommune er registreret."
            in page.locator(".flashes").inner_text()
        )
        row = page.get_by_role("row", name="Dragør Kommune")
        expect(row).to_contain_text("Har svaret")
        expect(row).to_contain_text("genoptræningsplanen bør deles inden udskrivelsen")
        expect(row.get_by_role("link", name="Hent høringssvaret")).to_be_visible()
        expect(page.get_by_text("I har allerede svaret.")).to_be_visible()
        steps.check(page, "hoering-dragoer-3-svaret")

        page.get_by_role("navigation", name="Hovedmenu").get_by_role(
            "link", name="Overblik"
        ).click()
        waiting = page.locator("section[aria-labelledby=hoeringer-til-svar]")
        expect(waiting.get_by_role("link", name=CONSULTATION)).to_have_count(0)
        expect(waiting.get_by_role("link", name=OTHER_CONSULTATION)).to_be_visible()
        steps.check(page, "hoering-dragoer-4-forside")

        page.get_by_role("navigation", name="Hovedmenu").get_by_role(
            "link", name="Høringer"
        ).click()
        expect(page.get_by_role("row").filter(has_text=CONSULTATION)).to_contain_text("Har svaret")
        steps.check(page, "hoering-dragoer-5-hoeringer")

    with _as(browser, base_url, "hoering.taarnby") as page:
        page.locator("section[aria-labelledby=hoeringer-til-svar]").get_by_role(
            "link", name=CONSULTATION
        ).click()
        expect(page.get_by_role("heading", name="Svar på vegne af Dragør Kommune")).to_have_count(0)
        expect(page.get_by_role("heading", name="Svar på vegne af Tårnby Kommune")).to_have_count(1)
        expect(page.get_by_role("row", name="Dragør Kommune")).to_contain_text("Har svaret")
        steps.check(page, "hoering-taarnby-1-hoering")
    assert steps.problems == {}
