"""Issue 11's SU member in Debian's Chromium: on a saved draft the member has no actions, sees
who can submit it (the SU's chair and secretariat, by name) and asks them; a second ask the
same day is refused in words. axe-core checks every page on the way (WCAG 2.1 A/AA)."""

from __future__ import annotations

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
    page_problems,
    shot,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Role
from workflow.engine import core as engine

pytestmark = BROWSER_MARKS

MEMBER = "medlem@su-nord.test"


def _people_and_draft(session: Session) -> int:
    member = add_user(session, MEMBER, "Mads Medlem", ("SU-NORD-SOM", Role.MEMBER))
    add_user(session, "formand@su-nord.test", "Sofie Formand", ("SU-NORD-SOM", Role.CHAIR))
    add_user(session, "sekr@su-nord.test", "Sara Sekretær", ("SU-NORD-SOM", Role.SECRETARIAT))
    su = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
    assert su is not None
    case = engine.create_case(
        session,
        process="signature_initiative",
        title="Forløb for borgere med KOL",
        originating_body=su,
        actor=member,
        summary="Ét forløb på tværs af sektorer.",
    )
    return case.id


@pytest.fixture
def real_clock() -> Iterator[None]:
    from workflow.engine import clock

    clock.set_time(None)
    yield


def test_su_member_on_a_draft_sees_who_can_submit_and_asks_them(
    tmp_path: Path, real_clock: None
) -> None:
    url = f"sqlite:///{tmp_path / 'next-step.db'}"
    violations: dict[str, list[dict[str, Any]]] = {}
    with (
        live_app(url, _people_and_draft) as (base_url, case_id),
        chromium() as browser,
        new_page(browser) as page,
    ):
        log_in(page, base_url, MEMBER)
        page.goto(f"{base_url}/sager/{case_id}")
        panel = page.locator("section[aria-labelledby=naeste-skridt]")
        text = panel.inner_text()
        assert "Indstil til TSS" in text
        assert "Sofie Formand" in text and "Sara Sekretær" in text
        assert "Du har ingen handlinger" not in page.locator("main").inner_text()
        shot(page, "naeste-skridt-1-kladde")
        violations["kladde"] = page_problems(page)

        panel.get_by_role("button", name="Bed om indstilling").click()
        page.wait_for_load_state()
        assert page.get_by_text("Din anmodning er sendt til 2 personer.").is_visible()
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Mads Medlem bad om indstilling" in history
        violations["spurgt"] = page_problems(page)

        page.locator("section[aria-labelledby=naeste-skridt]").get_by_role(
            "button", name="Bed om indstilling"
        ).click()
        page.wait_for_load_state()
        assert "allerede bedt om sagens næste skridt i dag" in page.locator("main").inner_text()
        shot(page, "naeste-skridt-2-afvist")
        violations["afvist"] = page_problems(page)
    assert {k: v for k, v in violations.items() if v} == {}
