"""Issue 19 in Debian's Chromium: an admin opens a process in the designer, introduces an
error and sees the loader's message at the field, fixes it and sees the diagram change,
saves and publishes; new cases follow the new version, the case in flight keeps its own.
axe-core checks the designer's pages (WCAG 2.2 A/AA)."""

from __future__ import annotations

from pathlib import Path

from browser_support import BROWSER_MARKS, Steps, add_user, live_page, open_case
from playwright.sync_api import expect
from sqlalchemy.orm import Session

from models import Case, Role
from workflow.engine import core as engine
from workflow.engine.db import make_engine
from workflow.engine.processes import registry

pytestmark = BROWSER_MARKS

ADMIN = "admin@designer.test"
OLD_LABEL = 'label = "Rejst i TSS"'
NEW_LABEL = 'label = "Rejst i styregruppen"'


def _forum_case(session: Session, title: str) -> Case:
    author = add_user(session, f"{title}@designer.test", title, ("FORUM-DATA", Role.MEMBER))
    return open_case(session, author, title, process="forum_matter", origin="FORUM-DATA")


def _populate(session: Session) -> dict[str, int]:
    add_user(session, ADMIN, "Ada Admin", is_admin=True)
    old = _forum_case(session, "I gang")
    return {"old": old.id, "version": old.process_version}


def test_an_admin_changes_and_publishes_a_process_in_the_designer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'designer.db'}"
    steps = Steps("designer-")
    with live_page(url, _populate, ADMIN) as (page, base_url, ids):
        page.goto(f"{base_url}/admin")
        page.get_by_role("link", name="Procesdesigner").click()
        page.get_by_role("link", name="Sag i samarbejdsforum").click()
        source = page.get_by_label("Definitionen (TOML)")
        published = source.input_value()
        assert OLD_LABEL in published
        steps.check(page, "0-aabnet")

        # An error: a transition to a state that does not exist; the live check shows it.
        source.fill(published.replace('dest = "at_tss"', 'dest = "at_tsss"'))
        message = page.locator("#source-fejl")
        message.filter(has_text="transitions[4].dest: ukendt tilstand 'at_tsss'").wait_for()
        assert source.get_attribute("aria-invalid") == "true"
        # Without waiting for the live check: the button gives the same answer at the field.
        page.get_by_role("button", name="Kontrollér og vis diagram").click()
        summary = page.locator(".error-summary")
        assert "ukendt tilstand 'at_tsss'" in summary.inner_text()
        summary.get_by_role("link").click()
        assert page.evaluate("document.activeElement.id") == "source"
        steps.check(page, "1-fejl")

        # Fixed, with a state renamed: the diagram follows the text.
        diagram = page.locator("#designer-diagram")
        assert "Rejst i styregruppen" not in diagram.inner_html()
        page.get_by_label("Definitionen (TOML)").fill(published.replace(OLD_LABEL, NEW_LABEL))
        diagram.locator("text=Rejst i styregruppen").first.wait_for(state="attached")
        assert page.locator("#source-fejl").inner_text() == ""
        page.get_by_role("button", name="Gem kladde").click()
        expect(page.locator(".flashes")).to_contain_text("Kladden er gemt og gyldig.")
        assert "Rejst i styregruppen" in page.locator(".designer-diff").inner_text()
        steps.check(page, "2-kladde")

        new_version = ids["version"] + 1
        page.get_by_role("button", name=f"Udgiv som version {new_version}").click()
        expect(page.locator(".flashes")).to_contain_text(f"Version {new_version} er udgivet")
        in_flight = page.get_by_role("region", name="Sager i gang pr. version og tilstand")
        assert str(ids["version"]) in in_flight.inner_text()
        steps.check(page, "3-udgivet")

        db_engine = make_engine(url)
        try:
            with Session(db_engine) as session:
                assert registry.latest(session, "forum_matter").version == new_version
                new = _forum_case(session, "Ny")
                session.commit()
                old = session.get(Case, ids["old"])
                assert old is not None
                assert (old.process_version, new.process_version) == (ids["version"], new_version)
                label = engine.definition_of(new).states["at_tss"].label
                assert (engine.definition_of(old).states["at_tss"].label, label) == (
                    "Rejst i TSS", "Rejst i styregruppen",
                )  # fmt: skip
        finally:
            db_engine.dispose()
        page.goto(f"{base_url}/processer/forum_matter")
        assert "Rejst i styregruppen" in page.locator("main").inner_text()

        # The same draft as a form: a reminder changed at its input, saved.
        page.goto(f"{base_url}/admin/procesdesigner/forum_matter")
        page.get_by_role("link", name="Rediger tilstande og overgange i en formular").click()
        page.locator("summary", has_text="Tilstand: Rejst i styregruppen (at_tss)").click()
        reminders = page.locator("#f-states-at_tss-reminders")
        reminders.fill("om en uge")
        page.get_by_role("button", name="Gem kladde").click()
        assert (
            "skal være hele antal dage"
            in page.locator("#f-states-at_tss-reminders-fejl").inner_text()
        )
        steps.check(page, "4-formular-fejl")
        page.locator("#f-states-at_tss-reminders").fill("10, 3")
        page.get_by_role("button", name="Gem kladde").click()
        expect(page.locator(".flashes")).to_contain_text("Kladden er gemt og gyldig.")
        steps.check(page, "4-formular")

        # The case in flight moved to the new version by an explicit mapping.
        page.goto(f"{base_url}/admin/procesdesigner/forum_matter")
        page.get_by_role("link", name=f"Flyt sager i gang til version {new_version}").click()
        steps.check(page, "5-flyt")
        page.get_by_label(f"Version {ids['version']}, tilstanden draft (1 sag)").select_option(
            "draft"
        )
        page.get_by_role("button", name="Flyt de valgte sager").click()
        expect(page.locator(".flashes")).to_contain_text("1 sag er flyttet")
    assert steps.problems == {}
