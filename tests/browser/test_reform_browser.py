"""Issue 13 in Debian's Chromium: after the 2027 reform plan is applied, a case closed in 2021
still shows TSS (closed, with its history), a case raised after the reform is decided by its
sundhedsråd under the same process definition, and the implementation picture shows the merged
region's 46 municipalities. axe-core checks every page (WCAG 2.1 A/AA)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from browser_support import BROWSER_MARKS, Steps, add_user, live_page, open_case
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import FocusArea, Role
from workflow.engine import clock
from workflow.implementation import operations as implementation
from workflow.organisation import operations, reorganise

pytestmark = BROWSER_MARKS

ADMIN = "admin@reform.test"
PROPOSAL = {
    "summary": "Fælles forløb på tværs af sektorer.",
    "role_distribution": "Kommunen følger op, hospitalet udreder.",
    "general_practice_role": "Almen praksis henviser.",
    "triple_aim_quality": "Færre genindlæggelser.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Ét samlet forløb.",
    "business_case": "Færre indlæggelser opvejer udgiften; ingen kommunal merudgift.",
}


def _reform(session: Session) -> dict[str, int]:
    admin = add_user(session, ADMIN, "Ada Admin", is_admin=True)
    add_user(session, "formand@sku.test", "Sune SKU", ("SKU", Role.CHAIR))
    tss_chair = add_user(session, "formand@tss.test", "Tove TSS", ("TSS", Role.CHAIR))
    # A joint agreement TSS started and rejected in 2021 (SKU, a political body, starts no
    # process; TSS is closed by the reform as SKU is).
    clock.set_time(datetime(2021, 3, 1, 9, 0, tzinfo=UTC))
    old = open_case(
        session, tss_chair, "Tolkebistand 2021", process="joint_agreement", origin="TSS"
    )
    decide(old, "reject_terms", tss_chair, comment="Afvist af TSS")
    plan = reorganise.load_plan(reorganise.find_plan("sundhedsreform-2027"))
    clock.set_time(datetime(2027, 1, 4, 9, 0, tzinfo=UTC))
    operations.apply_plan(session, plan, admin)
    focus = session.scalar(select(FocusArea.id).order_by(FocusArea.id).limit(1))
    # A proposal raised after the reform goes through the same definition to its sundhedsråd.
    su_chair = add_user(session, "formand@su-nord.test", "Sofie SU", ("SU-NORD-SOM", Role.CHAIR))
    new = open_case(
        session, su_chair, "Hjemmebehandling 2027", national_goal_ids=[1], focus_area_id=focus,
        **PROPOSAL,
    )  # fmt: skip
    decide(new, "submit", su_chair)
    steering_chair = add_user(session, "formand@styr.test", "Sten Styr", ("STYR-OEST", Role.CHAIR))
    decide(new, "tss_recommend", steering_chair, comment="Anbefales")
    # An initiative spread after the merger: every municipality that is a party now.
    spread = open_case(
        session, su_chair, "Udbredelse i Østdanmark", national_goal_ids=[1], focus_area_id=focus,
        **PROPOSAL,
    )  # fmt: skip
    spread.state = "implementation"
    implementation.create_units(session, spread, admin, clock.now())
    session.commit()
    clock.set_time(None)
    return {"old": old.id, "new": new.id, "spread": spread.id}


def test_the_reform_keeps_2021_under_sku_and_moves_on_to_the_sundhedsraad(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reform.db'}"
    steps = Steps("reform-")
    with live_page(url, _reform, ADMIN) as (page, base_url, ids):
        page.goto(f"{base_url}/sager/{ids['old']}")
        facts = page.locator("dl.facts").inner_text()
        assert "Tværsektoriel Strategisk Styregruppe (TSS)" in facts
        assert "organet er nedlagt efter 31. december 2026" in facts
        steps.check(page, "1-sag-2021")

        page.goto(f"{base_url}/sager/{ids['new']}")
        facts = page.locator("dl.facts").inner_text()
        assert "Sundhedsråd Nordsjælland (SR-NORD)" in facts
        steps.check(page, "2-sag-2027")

        page.goto(f"{base_url}/organer/SKU")
        assert "Sundhedsråd Nordsjælland" in page.locator("main").inner_text()
        steps.check(page, "2-sku")

        page.goto(f"{base_url}/implementering?sag={ids['spread']}")
        grid = page.locator("svg.status-grid desc").first.text_content() or ""
        assert grid.startswith("De 46 kommuner")
        main = page.locator("main").inner_text()
        assert "Roskilde Kommune" in main and "Hillerød Kommune" in main
        steps.check(page, "3-implementering-46")
    assert steps.problems == {}
