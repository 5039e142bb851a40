"""Acting on several cases at once: each through decide(), each result shown."""

from __future__ import annotations

from sqlalchemy import select
from support.formandskab import proposed_by_co_chair

from models import CaseEvent


def test_chair_returns_several_cases_with_one_templated_comment(
    client, logged_in, make_case, session, text_of
):
    first = make_case(title="Første", state="at_tss")
    second = make_case(title="Anden", state="at_tss")
    draft = make_case(title="Kladde")
    user = logged_in("chair@TSS")
    # The other co-chair of TSS proposed each return: this chair's action is the consent.
    for case in (first, second):
        proposed_by_co_chair(case, "tss_return", user, comment="Mangler en tidsplan.")
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
    # The policy rule's own reason, not a generic refusal.
    assert "Kun formandskaber og sekretariater kan handle på flere sager på én gang." in (
        response.get_data(as_text=True)
    )


def test_nothing_selected_is_explained(client, logged_in, text_of):
    logged_in("secretariat@TSS")
    response = client.post("/sager/samlet-handling", data={"handling": ""})
    assert response.status_code == 422
    assert "Vælg den handling" in text_of(response)
    assert "Vælg mindst én sag" in text_of(response)


def _hidden_fields(html: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html)


def test_an_irreversible_bulk_action_asks_first_without_javascript(
    client, logged_in, make_case, session, text_of
):
    import html as html_lib

    first = make_case(title="Første", state="at_tss")
    second = make_case(title="Anden", state="at_tss")
    user = logged_in("chair@TSS")
    for case in (first, second):
        proposed_by_co_chair(case, "tss_reject", user, comment="Uden for aftalen.")
    asked = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_reject",
            "sag": [f"{c.id}:{c.version}" for c in (first, second)],
            "kommentar": "»{titel}« falder uden for aftalen.",
        },
    )
    assert asked.status_code == 200
    page = text_of(asked)
    assert "Bekræft: Afvis" in page
    assert "Du er ved at udføre »Afvis« på 2 sager." in page
    assert "Det kan ikke fortrydes." in page
    assert "Første" in page and "Anden" in page
    assert "Afvist" in page  # the state each case would go to
    for case in (first, second):
        session.refresh(case)
        assert case.state == "at_tss"  # nothing done yet
    html = asked.get_data(as_text=True)
    assert "<script" not in html.split("<main", 1)[1]
    carried = _hidden_fields(html)
    assert ("confirmed", "ja") in carried
    assert ("sag", f"{first.id}:{first.version}") in carried

    data: dict[str, list[str]] = {}
    for name, value in carried:
        data.setdefault(name, []).append(html_lib.unescape(value))
    done = client.post("/sager/samlet-handling", data=data)
    assert done.status_code == 200
    assert "2 af 2 sager udført" in text_of(done)
    for case in (first, second):
        session.refresh(case)
        assert case.state == "rejected"
        event = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq.desc())
        ).first()
        assert event.trigger == "tss_reject" and event.actor_id == user.id
        assert event.comment == f"»{case.title}« falder uden for aftalen."


def test_cancelling_a_bulk_confirmation_keeps_the_selection(
    client, logged_in, make_case, session, text_of
):
    import html as html_lib
    import re

    shown = make_case(title="Synlig i listen", state="at_tss")
    other = make_case(title="Andetsteds", state="at_tss")
    logged_in("chair@TSS")
    asked = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_reject",
            "sag": [f"{shown.id}:{shown.version}", f"{other.id}:{other.version}"],
            "kommentar": "Uden for aftalen",
        },
    )
    cancel = re.search(r'href="([^"]*valgt[^"]*)"', asked.get_data(as_text=True))
    assert cancel is not None
    assert "Fortryd – tilbage til sagslisten med de valgte sager" in text_of(asked)
    # Back on the list (narrowed by a search, so one chosen case is on another page).
    back = client.get(html_lib.unescape(cancel.group(1)) + "&q=Synlig")
    listing = back.get_data(as_text=True)
    assert back.status_code == 200
    assert re.search(rf'value="{shown.id}:{shown.version}"[^>]* checked', listing)
    assert re.search(rf'value="{other.id}:{other.version}"[^>]* checked', listing)
    assert "Også valgt (ikke på denne side af listen)" in text_of(back)
    assert 'value="signature_initiative:tss_reject" selected' in listing
    assert ">Uden for aftalen</textarea>" in listing
    for case in (shown, other):
        session.refresh(case)
        assert case.state == "at_tss"


def test_a_reversible_bulk_action_is_not_asked_twice(client, logged_in, make_case, text_of):
    case = make_case(state="at_tss")
    logged_in("chair@TSS")
    response = client.post(
        "/sager/samlet-handling",
        data={
            "handling": "signature_initiative:tss_return",
            "sag": [f"{case.id}:{case.version}"],
            "kommentar": "Revider",
        },
    )
    assert "1 af 1 sager udført" in text_of(response)
