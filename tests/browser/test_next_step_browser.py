"""Issue 11's SU member in Debian's Chromium: on a saved draft the member has no actions, sees
who can submit it (the SU's chair and secretariat, by name) and asks them; a second ask the
same day is refused in words. axe-core checks every page on the way (WCAG 2.1 A/AA)."""

from __future__ import annotations

from pathlib import Path

from browser_support import BROWSER_MARKS, Steps, add_user, live_page, open_case
from sqlalchemy.orm import Session

from models import Role

pytestmark = BROWSER_MARKS

MEMBER = "medlem@su-nord.test"


def _people_and_draft(session: Session) -> int:
    member = add_user(session, MEMBER, "Mads Medlem", ("SU-NORD-SOM", Role.MEMBER))
    add_user(session, "formand@su-nord.test", "Sofie Formand", ("SU-NORD-SOM", Role.CHAIR))
    add_user(session, "sekr@su-nord.test", "Sara Sekretær", ("SU-NORD-SOM", Role.SECRETARIAT))
    case = open_case(
        session, member, "Forløb for borgere med KOL", summary="Ét forløb på tværs af sektorer."
    )
    return case.id


def test_su_member_on_a_draft_sees_who_can_submit_and_asks_them(
    tmp_path: Path, real_clock: None
) -> None:
    url = f"sqlite:///{tmp_path / 'next-step.db'}"
    steps = Steps("naeste-skridt-")
    with live_page(url, _people_and_draft, MEMBER) as (page, base_url, case_id):
        page.goto(f"{base_url}/sager/{case_id}")
        panel = page.locator("section[aria-labelledby=naeste-skridt]")
        text = panel.inner_text()
        assert "Indstil til TSS" in text
        assert "Sofie Formand" in text and "Sara Sekretær" in text
        assert "Du har ingen handlinger" not in page.locator("main").inner_text()
        steps.check(page, "1-kladde")

        panel.get_by_role("button", name="Bed om indstilling").click()
        page.wait_for_load_state()
        assert page.get_by_text("Din anmodning er sendt til 2 personer.").is_visible()
        history = page.locator("section[aria-labelledby=historik]").inner_text()
        assert "Mads Medlem bad om indstilling" in history
        steps.check(page, "1-spurgt")

        page.locator("section[aria-labelledby=naeste-skridt]").get_by_role(
            "button", name="Bed om indstilling"
        ).click()
        page.wait_for_load_state()
        assert "allerede bedt om sagens næste skridt i dag" in page.locator("main").inner_text()
        steps.check(page, "2-afvist")
    assert steps.problems == {}
