"""The implementation plan's lines in the web app: added and changed through a form until SKU
adopts the plan, each change audited on the plan case; CSRF-protected; TSS and SKU only."""

from __future__ import annotations

import re
from decimal import Decimal

from sqlalchemy import select

from models import CaseEvent, PlanItem
from workflow.implementation import annual_cycle, indicators

LINE = {
    "title": "Akutfunktioner i kommunerne",
    "purpose": "Færre forebyggelige indlæggelser",
    "anchoring": "Samordningsudvalg Nord",
    "responsible_start": "TSS",
    "responsible_delivery": "Kommunerne i Planområde Nord",
    "starts_on": "2021-02-01",
    "ends_on": "2021-12-31",
    "economy": "Inden for kommunernes ramme",
    "economy_dkk": "250000",
}


def _plan(session, make_user, year=2021):
    return annual_cycle.create_plan(session, year, make_user("secretariat@TSS"))


def _events(session, plan, trigger):
    return session.scalars(
        select(CaseEvent)
        .where(CaseEvent.case_id == plan.id, CaseEvent.trigger == trigger)
        .order_by(CaseEvent.seq)
    ).all()


def test_tss_adds_and_changes_a_plan_line(
    client, logged_in, session, make_user, make_case, text_of
):
    plan = _plan(session, make_user)
    initiative = make_case(title="Fælles akutindsats")
    genind = indicators.define_indicator(
        session, code="GENIND", name="Genindlæggelser", direction="down"
    )
    logged_in("secretariat@TSS")
    assert "Tilføj en indsats" in text_of(client.get("/rapporter/plan/2021"))
    form = client.get("/rapporter/plan/2021/ny")
    assert "GENIND – Genindlæggelser" in text_of(form)

    added = client.post(
        "/rapporter/plan/2021/ny",
        data={**LINE, "initiative_case_id": str(initiative.id), "indicator_ids": [genind.id]},
    )
    assert added.status_code == 302
    [item] = annual_cycle.plan_items(session, plan)
    assert (item.responsible_delivery, item.economy_dkk) == (LINE["responsible_delivery"], 250000)
    assert item.initiative == initiative and item.indicators == [genind]
    page = text_of(client.get("/rapporter/plan/2021"))
    assert "Akutfunktioner i kommunerne" in page and "Samordningsudvalg Nord" in page
    assert "GENIND" in page and "250.000 kr." in page

    edit_url = f"/rapporter/plan/2021/indsats/{item.id}"
    assert 'value="Akutfunktioner i kommunerne"' in client.get(edit_url).get_data(as_text=True)
    changed = client.post(
        edit_url, data={**LINE, "purpose": "Færre indlæggelser og genindlæggelser",
                        "economy_dkk": "300000"},
    )  # fmt: skip
    assert changed.status_code == 302
    session.refresh(item)
    assert item.purpose == "Færre indlæggelser og genindlæggelser"
    assert item.economy_dkk == Decimal("300000")
    assert item.initiative is None and item.indicators == []
    [event] = _events(session, plan, annual_cycle.ITEM_CHANGED_TRIGGER)
    assert event.data["changed"]["purpose"] == {
        "old": "Færre forebyggelige indlæggelser",
        "new": "Færre indlæggelser og genindlæggelser",
    }
    assert event.data["changed"]["economy_dkk"]["old"] == "250000.00"
    assert event.data["changed"]["indicators"] == {"old": "GENIND", "new": ""}
    assert len(_events(session, plan, annual_cycle.ITEM_TRIGGER)) == 1


def test_a_faulty_line_is_explained_and_not_saved(client, logged_in, session, make_user, text_of):
    plan = _plan(session, make_user)
    logged_in("member@SKU")
    response = client.post(
        "/rapporter/plan/2021/ny",
        data={**LINE, "starts_on": "2021-06-01", "ends_on": "2021-01-01",
              "initiative_case_id": "999999"},
    )  # fmt: skip
    assert response.status_code == 400
    text = text_of(response)
    assert "Slutdatoen ligger før startdatoen. Ret tidsplanen." in text
    assert "Der er ingen sag nr. 999999." in text
    assert annual_cycle.plan_items(session, plan) == []
    missing = client.post("/rapporter/plan/2021/ny", data={**LINE, "purpose": ""})
    assert missing.status_code == 400
    assert "Beskriv indsatsens formål." in text_of(missing)


def test_lines_are_locked_once_sku_has_adopted_the_plan(
    client, logged_in, session, make_user, text_of
):
    plan = _plan(session, make_user)
    item = annual_cycle.add_plan_item(
        session, plan, make_user("secretariat@TSS"), title="Akutfunktioner", purpose="Færre"
    )
    plan.state = "in_effect"
    session.commit()
    logged_in("secretariat@TSS")
    page = text_of(client.get("/rapporter/plan/2021"))
    assert "Planen er tiltrådt af SKU og kan ikke ændres." in page
    assert "Tilføj en indsats" not in page and " Ret " not in page
    refused = client.get("/rapporter/plan/2021/ny", follow_redirects=True)
    assert "Planen er tiltrådt af SKU og kan ikke ændres." in text_of(refused)
    posted = client.post(f"/rapporter/plan/2021/indsats/{item.id}", data=LINE)
    assert posted.status_code == 400
    assert "Planen er tiltrådt af SKU og kan ikke ændres" in text_of(posted)
    session.refresh(item)
    assert item.title == "Akutfunktioner"
    assert _events(session, plan, annual_cycle.ITEM_CHANGED_TRIGGER) == []


def test_only_tss_and_sku_edit_the_plan(client, logged_in, session, make_user, text_of):
    plan = _plan(session, make_user)
    logged_in("chair@SU-NORD-SOM")
    assert "Tilføj en indsats" not in text_of(client.get("/rapporter/plan/2021"))
    assert client.get("/rapporter/plan/2021/ny").status_code == 403
    assert client.post("/rapporter/plan/2021/ny", data=LINE).status_code == 403
    assert annual_cycle.plan_items(session, plan) == []
    assert client.get("/rapporter/plan/2030").status_code == 404


def test_the_plan_form_needs_its_csrf_token(
    make_app, make_login_user, password, session, make_user
):
    plan = _plan(session, make_user)
    client = make_app(WTF_CSRF_ENABLED=True).test_client()
    user = make_login_user("secretariat@TSS")
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    client.post("/login", data={"email": user.email, "password": password,
                                "csrf_token": token.group(1)})  # fmt: skip
    assert client.post("/rapporter/plan/2021/ny", data=LINE).status_code == 400
    assert session.scalars(select(PlanItem).where(PlanItem.plan_case_id == plan.id)).all() == []
    form = client.get("/rapporter/plan/2021/ny").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
    saved = client.post("/rapporter/plan/2021/ny", data={**LINE, "csrf_token": token})
    assert saved.status_code == 302
    assert len(annual_cycle.plan_items(session, plan)) == 1


def test_a_plan_line_links_its_initiative_only_for_those_who_may_open_it(
    client, logged_in, session, make_user, make_case, text_of
):
    plan = _plan(session, make_user)
    draft = make_case(title="Syds kladde", origin="SU-SYD-SOM")
    member = make_user("secretariat@TSS", "member@SU-SYD-SOM")
    annual_cycle.add_plan_line(
        session, plan, member,
        annual_cycle.PlanLine(title="Akutfunktioner", purpose="Færre indlæggelser",
                              initiative_case_id=draft.id),
    )  # fmt: skip
    link = f'href="/sager/{draft.id}"'
    logged_in("secretariat@TSS")
    page = client.get("/rapporter/plan/2021").get_data(as_text=True)
    assert "Akutfunktioner" in page and link not in page
    cycle = client.get("/rapporter/aarshjul", query_string={"aar": 2020}).get_data(as_text=True)
    assert link not in cycle
    client.post("/logout")
    logged_in("secretariat@TSS", "member@SU-SYD-SOM")
    assert link in client.get("/rapporter/plan/2021").get_data(as_text=True)
