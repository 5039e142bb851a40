"""Indicators kept in the web app: the secretariats of TSS and SKU and admins create and edit
them (audited); initiatives are linked to them from the case's implementation page (audited on
the case); the case page links to its implementation page."""

from __future__ import annotations

import re

from sqlalchemy import select

from models import AdminAuditEntry, CaseEvent, Indicator
from workflow.implementation import indicators

NEW = {
    "code": "genind",
    "name": "Genindlæggelser",
    "definition": "Andel akutte genindlæggelser inden for 30 dage",
    "data_source": "Landspatientregistret",
    "direction": "down",
    "unit": "%",
    "national_goal": "2",
}


def _audit(session, code):
    return session.scalars(
        select(AdminAuditEntry)
        .where(AdminAuditEntry.object_type == "indicator", AdminAuditEntry.object_id == code)
        .order_by(AdminAuditEntry.id)
    ).all()


def test_the_secretariat_creates_and_edits_an_indicator(client, logged_in, session, text_of):
    user = logged_in("secretariat@SKU")
    assert "Ny indikator" in text_of(client.get("/indikatorer"))
    created = client.post("/indikatorer/ny", data=NEW)
    assert created.status_code == 302 and created.location.endswith("/indikatorer/GENIND")
    indicator = session.scalar(select(Indicator).where(Indicator.code == "GENIND"))
    assert (indicator.name, indicator.direction.value, indicator.national_goal.number) == (
        "Genindlæggelser", "down", 2,
    )  # fmt: skip
    assert indicator.data_source == "Landspatientregistret"
    page = text_of(client.get("/indikatorer/GENIND"))
    assert "Landspatientregistret" in page and "Lavere er bedre" in page

    form = client.get("/indikatorer/GENIND/ret").get_data(as_text=True)
    assert 'value="Landspatientregistret"' in form
    edited = client.post(
        "/indikatorer/GENIND/ret",
        data={**NEW, "code": "ANDET", "direction": "up", "data_source": "eSundhed",
              "national_goal": ""},
    )  # fmt: skip
    assert edited.status_code == 302
    session.refresh(indicator)
    assert (indicator.code, indicator.direction.value, indicator.data_source) == (
        "GENIND", "up", "eSundhed",
    )  # fmt: skip
    assert indicator.national_goal is None
    audit = _audit(session, "GENIND")
    assert [a.action for a in audit] == ["create_indicator", "update_indicator"]
    assert {a.actor_id for a in audit} == {user.id}


def test_a_taken_code_or_a_missing_name_is_explained(client, logged_in, session, text_of):
    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    logged_in(is_admin=True)
    taken = client.post("/indikatorer/ny", data={**NEW, "name": "Noget andet"})
    assert taken.status_code == 400
    assert "Der findes allerede en indikator med koden GENIND." in text_of(taken)
    assert session.scalar(select(Indicator.name).where(Indicator.code == "GENIND")) == (
        "Genindlæggelser"
    )
    nameless = client.post("/indikatorer/ny", data={**NEW, "code": "NY", "name": ""})
    assert nameless.status_code == 400
    assert "Giv indikatoren et navn." in text_of(nameless)
    assert session.scalar(select(Indicator).where(Indicator.code == "NY")) is None


def test_only_admins_and_the_secretariats_keep_the_registry(client, logged_in, session, text_of):
    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    logged_in("chair@SU-NORD-SOM")
    assert "Ny indikator" not in text_of(client.get("/indikatorer"))
    assert "Ret indikatoren" not in text_of(client.get("/indikatorer/GENIND"))
    refused = client.get("/indikatorer/ny")
    assert refused.status_code == 403
    assert "Kun sekretariaterne for TSS og SKU kan vedligeholde indikatorerne." in text_of(refused)
    assert client.post("/indikatorer/ny", data={**NEW, "code": "X"}).status_code == 403
    assert client.post("/indikatorer/GENIND/ret", data=NEW).status_code == 403
    assert session.scalar(select(Indicator).where(Indicator.code == "X")) is None


def test_indicators_are_linked_from_the_implementation_page(
    client, logged_in, session, make_case, text_of
):
    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    case = make_case(title="Fælles akutindsats", state="implementation")
    logged_in("member@SU-NORD-SOM")
    case_page = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert f'href="/implementering/sag/{case.id}"' in case_page
    assert "Implementering pr. enhed" in case_page
    page = text_of(client.get(f"/implementering/sag/{case.id}"))
    assert "Ingen indikatorer er knyttet til sagen." in page

    linked = client.post(
        f"/indikatorer/sag/{case.id}", data={"indicator": "GENIND", "action": "link"}
    )
    assert linked.status_code == 302
    page = text_of(client.get(f"/implementering/sag/{case.id}"))
    assert "GENIND – Genindlæggelser" in page
    assert [c.id for c in indicators.linked_cases(session, session.scalar(
        select(Indicator).where(Indicator.code == "GENIND")))] == [case.id]  # fmt: skip
    client.post(f"/indikatorer/sag/{case.id}", data={"indicator": "GENIND", "action": "unlink"})
    assert "Ingen indikatorer er knyttet til sagen." in text_of(
        client.get(f"/implementering/sag/{case.id}")
    )
    triggers = session.scalars(
        select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()
    assert triggers[-2:] == [indicators.LINK_TRIGGER, indicators.UNLINK_TRIGGER]


def test_a_member_of_another_body_may_not_link(client, logged_in, session, make_case):
    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    case = make_case(state="implementation")
    logged_in("member@SU-SYD-SOM")
    response = client.post(
        f"/indikatorer/sag/{case.id}", data={"indicator": "GENIND", "action": "link"},
        follow_redirects=True,
    )  # fmt: skip
    assert "Kun medlemmer af det organ, der har sagen" in response.get_data(as_text=True)
    assert indicators.linked_indicators(session, case) == []


def test_the_plan_case_page_links_to_the_plans_lines(client, logged_in, session, make_user):
    from workflow.implementation import annual_cycle

    plan = annual_cycle.create_plan(session, 2021, make_user("secretariat@TSS"))
    logged_in("member@TSS")
    html = client.get(f"/sager/{plan.id}").get_data(as_text=True)
    assert 'href="/rapporter/plan/2021"' in html


def test_an_indicator_names_only_the_initiatives_the_reader_may_see(
    client, logged_in, session, make_case, make_user, text_of
):
    genind = indicators.define_indicator(
        session, code="GENIND", name="Genindlæggelser", direction="down"
    )
    draft = make_case(title="Syds kladde om genindlæggelser", origin="SU-SYD-SOM")
    indicators.set_link(session, draft, genind, make_user("member@SU-SYD-SOM"), True)
    logged_in("member@TSS")
    assert "Syds kladde om genindlæggelser" not in text_of(client.get("/indikatorer/GENIND"))
    client.post("/logout")
    logged_in("member@SU-SYD-SOM")
    assert "Syds kladde om genindlæggelser" in text_of(client.get("/indikatorer/GENIND"))


def test_the_link_select_starts_empty_and_an_empty_choice_links_nothing(
    client, logged_in, session, make_case, text_of
):
    indicators.define_indicator(session, code="GENIND", name="Genindlæggelser", direction="down")
    case = make_case(title="Fælles akutindsats", state="implementation")
    logged_in("member@SU-NORD-SOM")
    html = client.get(f"/implementering/sag/{case.id}").get_data(as_text=True)
    assert re.search(r'name="indicator"[^>]*>\s*<option[^>]*value=""', html)
    refused = client.post(f"/indikatorer/sag/{case.id}", data={"indicator": "", "action": "link"})
    assert refused.status_code == 302
    assert "Vælg en indikator." in text_of(client.get(refused.headers["Location"]))
    assert indicators.linked_indicators(session, case) == []
