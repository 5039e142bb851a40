"""Issue 3's journey in Debian's Chromium: an SU member drafts a cost-driving signature
initiative in the guided form, the SU co-chairs recommend it to TSS, the TSS chair is refused by
the financing rule, the SU adds business case and financing, TSS recommends, SKU approves and
the secretariat's board shows the implementation follow-ups. axe-core checks every page on
the way (WCAG 2.1 A/AA); screenshots of each step go to var/test-artefacts/browser/."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from browser_support import (
    BROWSER_MARKS,
    Steps,
    add_user,
    body,
    chromium,
    live_app,
    open_action,
    page_as,
)
from sqlalchemy.orm import Session

from models import Meeting, MeetingStatus, Role
from workflow.engine import clock

pytestmark = BROWSER_MARKS

TITLE = "Sammenhængende forløb for borgere med KOL"
MEMBER = "medlem@su-nord.test"
SU_CHAIR = "formand@su-nord.test"
SU_CO_CHAIR = "medformand@su-nord.test"
TSS_CHAIR = "formand@tss.test"
TSS_CO_CHAIR = "medformand@tss.test"
SKU_CHAIR = "formand@sku.test"
SECRETARIAT = "sekretariat@su-nord.test"


class Journey(Steps):
    """The module's live server, and each step's screenshot and axe's findings."""

    def __init__(self, url: str) -> None:
        super().__init__("rejse-")
        self.url = url


def _people(session: Session) -> None:
    add_user(session, MEMBER, "Mads Medlem", ("SU-NORD-SOM", Role.MEMBER))
    add_user(session, SU_CHAIR, "Sofie Formand", ("SU-NORD-SOM", Role.CHAIR))
    add_user(session, TSS_CHAIR, "Tove Formand", ("TSS", Role.CHAIR))
    add_user(session, SKU_CHAIR, "Svend Formand", ("SKU", Role.CHAIR))
    add_user(session, SECRETARIAT, "Sara Sekretær", ("SU-NORD-SOM", Role.SECRETARIAT))
    # The SU's and TSS's other co-chairs: their chairmanships decide when both have.
    add_user(session, SU_CO_CHAIR, "Mette Medformand", ("SU-NORD-SOM", Role.CHAIR))
    add_user(session, TSS_CO_CHAIR, "Torben Medformand", ("TSS", Role.CHAIR))
    # SKU approves at a meeting of SKU, not by its chairmanship: one was held an hour ago.
    session.add(
        Meeting(
            body_id=body(session, "SKU").id, title="Møde i SKU", status=MeetingStatus.HELD,
            starts_at=clock.now() - timedelta(hours=1),
        )
    )  # fmt: skip
    session.commit()


@pytest.fixture(scope="module")
def journey(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Journey]:
    url = f"sqlite:///{Path(tmp_path_factory.mktemp('journey')) / 'journey.db'}"
    with live_app(url, _people) as (base_url, _extra):
        yield Journey(base_url)


def _draft(browser: Any, journey: Journey) -> int:
    """The SU member fills the guided form: cost-driving, without business case or financing."""
    with page_as(browser, journey.url, MEMBER) as page:
        page.get_by_role("link", name="Ny sag").first.click()
        page.get_by_role("link", name=re.compile("Signaturindsats")).first.click()
        page.wait_for_url("**/sager/ny/signature_initiative")
        journey.check(page, "1-ny-sag")
        page.get_by_label("Titel", exact=True).fill(TITLE)
        page.get_by_label("Resumé", exact=True).fill("Ét forløb på tværs af sektorer for KOL.")
        focus = page.get_by_label("Fokusområde", exact=True)
        focus.select_option(index=1)
        page.locator("input[name=national_goals]").nth(0).check()
        page.locator("input[name=national_goals]").nth(1).check()
        page.get_by_label("Sagen giver en eller flere parter nye opgaver med merudgift").check()
        page.get_by_label("Rolle- og opgavefordeling", exact=True).fill(
            "Kommunen står for forløbet, hospitalet rådgiver."
        )
        page.get_by_label("Almen praksis' rolle", exact=True).fill("Egen læge henviser.")
        party = page.get_by_label("Part, række 1")
        municipality = party.locator("option", has_text="Kommune").first.get_attribute("value")
        assert municipality
        party.select_option(municipality)
        page.get_by_label("Beløb i kr., række 1").fill("250000")
        page.get_by_label("Befolkningens sundhed", exact=True).fill("Færre med uopdaget KOL.")
        page.get_by_label("Kvalitet", exact=True).fill("Færre indlæggelser.")
        page.get_by_label("Økonomi", exact=True).fill("Merudgift i kommunerne.")
        page.get_by_label("Borgerens oplevelse", exact=True).fill("Ét samlet forløb.")
        page.get_by_role("button", name="Gem kladde").click()
        page.wait_for_url(re.compile(r".*/sager/\d+$"))
        assert page.get_by_text(f"Sagen »{TITLE}« er gemt som kladde.").is_visible()
        journey.check(page, "2-kladde")
        return int(page.url.rsplit("/", 1)[1])


def _act(
    browser: Any,
    journey: Journey,
    email: str,
    case_id: int,
    action: str,
    step: str,
    *,
    confirm: bool = False,
    at_meeting: bool = False,
) -> Any:
    """Log in as `email`, open the case and fire `action` (confirming an irreversible one on
    its confirmation page); return the page's main text."""
    with page_as(browser, journey.url, email) as page:
        journey.check(page, f"{step}-overblik")
        page.goto(f"{journey.url}/sager/{case_id}")
        form = open_action(page, action)
        form.get_by_label("Kommentar").fill(f"{action} – {step}.")
        if at_meeting:
            form.get_by_label("Møde").select_option(index=1)  # the held meeting
        form.get_by_role("button", name=action).click()
        page.wait_for_load_state()
        if confirm:
            asking = page.locator("main").inner_text()
            assert "Det kan ikke fortrydes." in asking
            assert "Sagen er nu" not in asking  # nothing happened yet
            journey.check(page, f"{step}-bekraeft")
            page.get_by_role("button", name=f"Bekræft: {action}").click()
            page.wait_for_load_state()
        journey.check(page, f"{step}-sag")
        return page.locator("main").inner_text()


def test_cost_driving_initiative_from_draft_to_the_secretariats_follow_up(
    journey: Journey, real_clock: None
) -> None:
    with chromium() as browser:
        case_id = _draft(browser, journey)

        text = _act(browser, journey, SU_CHAIR, case_id, "Indstil til TSS", "3-su-formand")
        assert "Din beslutning »Indstil til TSS« er registreret som forslag." in text
        assert "Sagen er nu" not in text  # awaiting the other co-chair
        text = _act(browser, journey, SU_CO_CHAIR, case_id, "Indstil til TSS", "3-su-medformand")
        assert "Sagen er nu: Til behandling i TSS." in text

        refused = _act(
            browser, journey, TSS_CHAIR, case_id, "Indstil til godkendelse i SKU", "4-tss-afvist"
        )
        assert "mangler en businesscase og et finansieringsforslag" in refused
        assert "Finansiering skal følge med" in refused
        assert "Sagen er nu" not in refused

        with page_as(browser, journey.url, MEMBER) as page:
            page.goto(f"{journey.url}/sager/{case_id}")
            page.get_by_role("link", name="Rediger sagens oplysninger").click()
            journey.check(page, "5-rediger")
            page.get_by_label("Businesscase", exact=True).fill("Gevinst efter tre år.")
            page.get_by_label("Finansieringsforslag", exact=True).fill("Puljemidler år 1-2.")
            page.get_by_role("button", name="Gem ændringer").click()
            page.wait_for_url(f"**/sager/{case_id}")
            journey.check(page, "6-rettet")
            history = page.locator("section[aria-labelledby=historik]").inner_text()
            assert "businesscase" in history and "finansieringsforslag" in history

        text = _act(browser, journey, TSS_CHAIR, case_id, "Indstil til godkendelse i SKU", "7-tss")
        assert "er registreret som forslag" in text and "Sagen er nu" not in text
        text = _act(
            browser, journey, TSS_CO_CHAIR, case_id, "Indstil til godkendelse i SKU",
            "7-tss-medformand",
        )  # fmt: skip
        assert "Sagen er nu: Til beslutning i SKU." in text

        text = _act(
            browser, journey, SKU_CHAIR, case_id, "Godkend", "8-sku", confirm=True, at_meeting=True
        )
        assert "Sagen er nu: Udbredelse og implementering." in text

        with page_as(browser, journey.url, SECRETARIAT) as page:
            later = page.locator("section[aria-labelledby=senere-frister]")
            rows = later.locator("tr", has=page.get_by_role("link", name=TITLE))
            kinds = rows.locator("td:nth-child(3)").all_inner_texts()
            assert any("Opfølgning" in kind for kind in kinds), later.inner_text()
            journey.check(page, "9-sekretariat")
    assert journey.problems == {}
