"""Acting on several cases at once: each through engine.perform(), each result shown."""

from __future__ import annotations

from sqlalchemy import select

from models import CaseEvent


def test_chair_returns_several_cases_with_one_templated_comment(
    client, logged_in, make_case, session, text_of
):
    first = make_case(title="Første", state="at_tss")
    second = make_case(title="Anden", state="at_tss")
    draft = make_case(title="Kladde")
    user = logged_in("chair@TSS")
    listing = client.get("/sager").get_data(as_text=True)
    assert f'value="{first.id}:{first.version}"' in listing
    response = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_return",
            "sag": [f"{c.id}:{c.version}" for c in (first, second, draft)],
            "kommentar": "»{titel}« (nr. {nr}) mangler en tidsplan.",
        },
    )
    assert response.status_code == 200
    page = text_of(response)
    assert "2 af 3 sager udført" in page
    assert "Afvist" in page
    assert "ikke mulig nu" in page
    for case in (first, second):
        session.refresh(case)
        assert case.state == "draft"
        event = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
        ).first()
        assert event.trigger == "tss_return" and event.actor_id == user.id
        assert event.comment == f"»{case.title}« (nr. {case.id}) mangler en tidsplan."


def test_stale_selection_is_refused_for_that_case_only(
    client, logged_in, make_case, make_user, text_of
):
    from workflow.engine import core as engine

    stale = make_case(title="Ændret imens", state="at_tss")
    fresh = make_case(title="Uændret", state="at_tss")
    old_version = stale.version
    engine.edit_case(stale, make_user("member@TSS"), {"summary": "ny"})
    logged_in("chair@TSS")
    response = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_return",
            "sag": [f"{stale.id}:{old_version}", f"{fresh.id}:{fresh.version}"],
            "kommentar": "Revider",
        },
    )
    page = text_of(response)
    assert "1 af 2 sager udført" in page
    assert "ændret af en anden" in page


def test_members_cannot_act_in_bulk(client, logged_in, make_case):
    case = make_case(state="at_tss")
    logged_in("member@TSS")
    assert 'name="sag"' not in client.get("/sager").get_data(as_text=True)
    response = client.post(
        "/sager/samlet-handling",
        data={"handling": "signature_initiative:tss_return", "sag": [f"{case.id}:1"]},
    )
    assert response.status_code == 403


def test_nothing_selected_is_explained(client, logged_in, text_of):
    logged_in("secretariat@TSS")
    response = client.post("/sager/samlet-handling", data={"handling": ""})
    assert response.status_code == 422
    assert "Vælg den handling" in text_of(response)
    assert "Vælg mindst én sag" in text_of(response)
