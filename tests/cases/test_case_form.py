"""The guided form: create a case as a draft, edit it, extra expenses, and conflicts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import select

from models import Case, CaseEvent, FocusArea, Party, PartyKind
from workflow.engine import core as engine


def _form_data(session, **overrides):
    focus = session.scalar(select(FocusArea.id).order_by(FocusArea.id))
    data = {
        "originating_body": "SU-NORD-SOM",
        "title": "Fælles akutforløb",
        "summary": "Borgere med akut behov får ét forløb.",
        "focus_area_id": str(focus),
        "national_goals": ["1", "3"],
        "role_distribution": "Kommunen visiterer, hospitalet rådgiver.",
        "general_practice_role": "Egen læge henviser.",
        "cost_driving": "y",
        "expenses-0-party_id": "",
        "expenses-0-amount": "",
    }
    data.update(overrides)
    return data


def _municipality(session):
    return session.scalar(select(Party).where(Party.kind == PartyKind.MUNICIPALITY))


def test_member_creates_a_signature_initiative_as_a_draft(client, logged_in, session, text_of):
    user = logged_in("member@SU-NORD-SOM")
    form = client.get("/sager/ny/signature_initiative")
    assert form.status_code == 200
    page = text_of(form)
    for label in ("Fokusområde", "Nationale mål", "Almen praksis' rolle", "Businesscase",
                  "Finansieringsforslag", "Kvalitet", "ESDH-sagsnummer"):  # fmt: skip
        assert label in page
    kommune = _municipality(session)
    data = _form_data(
        session, **{"expenses-0-party_id": str(kommune.id), "expenses-0-amount": "12.500,50"}
    )
    response = client.post("/sager/ny/signature_initiative", data=data)
    assert response.status_code == 303, text_of(response)
    case = session.scalar(select(Case).where(Case.title == "Fælles akutforløb"))
    assert case.state == "draft" and case.created_by_id == user.id
    assert [g.number for g in case.national_goals] == [1, 3]
    assert case.cost_driving
    assert [(e.party_id, e.amount_dkk) for e in case.expenses] == [
        (kommune.id, Decimal("12500.50"))
    ]
    detail = text_of(client.get(response.headers["Location"]))
    assert "er gemt som kladde" in detail
    assert f"{kommune.name}: 12.500,50 kr." in detail


def test_draft_can_be_saved_with_only_a_title(client, logged_in, session):
    logged_in("member@SU-NORD-SOM")
    response = client.post(
        "/sager/ny/signature_initiative",
        data={"originating_body": "SU-NORD-SOM", "title": "Kun en titel"},
    )
    assert response.status_code == 303
    assert session.scalar(select(Case).where(Case.title == "Kun en titel")) is not None


def test_missing_title_is_explained_and_the_input_kept(client, logged_in, session, text_of):
    logged_in("member@SU-NORD-SOM")
    response = client.post("/sager/ny/signature_initiative", data=_form_data(session, title=""))
    assert response.status_code == 422
    assert "Giv sagen en titel, så den kan gemmes." in text_of(response)
    assert "Kommunen visiterer, hospitalet rådgiver." in response.get_data(as_text=True)


def test_member_of_no_body_cannot_create(client, logged_in, text_of):
    logged_in()
    response = client.get("/sager/ny/signature_initiative")
    assert response.status_code == 403
    assert "Du er ikke medlem af et organ" in text_of(response)


def test_edit_saves_changes_and_audits_them(client, logged_in, make_case, session):
    case = make_case(title="Før", business_case="")
    logged_in("member@SU-NORD-SOM")
    form = client.get(f"/sager/{case.id}/rediger").get_data(as_text=True)
    assert 'value="Før"' in form
    data = _form_data(session, title="Efter", expected_version=str(case.version))
    data["business_case"] = "Gevinst på 2 mio. kr. om året"
    response = client.post(f"/sager/{case.id}/rediger", data=data)
    assert response.status_code == 303
    session.refresh(case)
    assert case.title == "Efter" and case.business_case.startswith("Gevinst")
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert events[-1].trigger == "edit"


def test_concurrent_edit_is_a_conflict_that_keeps_the_input(
    client, logged_in, make_case, make_user, session, text_of
):
    case = make_case(title="Original")
    logged_in("member@SU-NORD-SOM")
    stale = case.version
    engine.edit_case(case, make_user("member@SU-NORD-SOM"), {"summary": "Andens ændring"})
    data = _form_data(session, title="Min titel", expected_version=str(stale))
    response = client.post(f"/sager/{case.id}/rediger", data=data)
    assert response.status_code == 409
    assert "ændret af en anden" in text_of(response)
    html = response.get_data(as_text=True)
    assert 'value="Min titel"' in html
    # The form now carries the current version: saving again overwrites deliberately.
    assert f'name="expected_version" type="hidden" value="{case.version}"' in html
    session.refresh(case)
    assert case.title == "Original"


def test_removing_an_expense_row_removes_the_expense(client, logged_in, make_case, session):
    kommune = _municipality(session)
    case = make_case(title="Med udgift")
    logged_in("member@SU-NORD-SOM")
    data = _form_data(
        session, title="Med udgift", expected_version=str(case.version),
        **{"expenses-0-party_id": str(kommune.id), "expenses-0-amount": "1000"},
    )  # fmt: skip
    assert client.post(f"/sager/{case.id}/rediger", data=data).status_code == 303
    session.refresh(case)
    assert len(case.expenses) == 1
    data = _form_data(session, title="Med udgift", expected_version=str(case.version))
    assert client.post(f"/sager/{case.id}/rediger", data=data).status_code == 303
    session.expire_all()
    assert session.get(Case, case.id).expenses == []


def test_guards_read_the_form_fields(client, logged_in, make_case, session, text_of):
    """The TSS chair's recommendation is refused until business case and financing are in."""
    case = make_case(
        title="Udgiftsdrivende", state="at_tss", cost_driving=True, business_case="",
        financing_proposal="",
    )  # fmt: skip
    logged_in("chair@TSS")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_recommend",
        data={"expected_version": str(case.version)},
    )
    assert response.status_code == 422
    assert "mangler en businesscase og et finansieringsforslag" in text_of(response)


@pytest.mark.parametrize(
    ("typed", "kroner"),
    [
        ("250.000", Decimal("250000.00")),
        ("1.250.000,75", Decimal("1250000.75")),
        ("250000", Decimal("250000.00")),
        ("12500.5", Decimal("12500.50")),
        ("250 000 kr.", Decimal("250000.00")),
    ],
)
def test_amounts_are_read_the_danish_way(app, typed, kroner):
    from werkzeug.datastructures import MultiDict

    from workflow.cases.forms import ExpenseForm

    with app.test_request_context():
        form = ExpenseForm(formdata=MultiDict({"amount": typed}))
        assert form.amount.data == kroner


def test_the_expense_grid_has_a_total_and_shows_amounts_as_danes_write_them(
    client, logged_in, make_case, session, text_of
):
    first, second = session.scalars(
        select(Party).where(Party.kind == PartyKind.MUNICIPALITY).order_by(Party.id).limit(2)
    ).all()
    case = make_case(title="Med udgifter")
    logged_in("member@SU-NORD-SOM")
    data = _form_data(
        session, title="Med udgifter", expected_version=str(case.version),
        **{"expenses-0-party_id": str(first.id), "expenses-0-amount": "2.400.000",
           "expenses-1-party_id": str(second.id), "expenses-1-amount": "1234,50"},
    )  # fmt: skip
    assert client.post(f"/sager/{case.id}/rediger", data=data).status_code == 303
    page = text_of(client.get(f"/sager/{case.id}"))
    assert f"{first.name}: 2.400.000 kr." in page
    assert "I alt: 2.401.234,50 kr." in page
    assert "2.400.000,00" not in page
    form = client.get(f"/sager/{case.id}/rediger").get_data(as_text=True)
    assert 'value="2.400.000"' in form and 'value="1.234,50"' in form
    assert "I alt" in text_of(client.get(f"/sager/{case.id}/rediger"))
    assert "2.401.234,50 kr." in text_of(client.get(f"/sager/{case.id}/rediger"))
    # The amounts shown read back unchanged when the form is saved as it is.
    session.refresh(case)
    resaved = _form_data(
        session, title="Med udgifter", expected_version=str(case.version),
        **{"expenses-0-party_id": str(first.id), "expenses-0-amount": "2.400.000",
           "expenses-1-party_id": str(second.id), "expenses-1-amount": "1.234,50"},
    )  # fmt: skip
    assert client.post(f"/sager/{case.id}/rediger", data=resaved).status_code == 303
    session.expire_all()
    amounts = sorted(e.amount_dkk for e in session.get(Case, case.id).expenses)
    assert amounts == [Decimal("1234.50"), Decimal("2400000.00")]


def test_the_form_asks_for_the_populations_health(client, logged_in, make_case, session, text_of):
    """Triple Aim's population health has a field of its own, with the same substance rule at
    the boundary as the other aims (issue 16, point 7)."""
    case = make_case(triple_aim_population="")
    logged_in("member@SU-NORD-SOM")
    form = text_of(client.get(f"/sager/{case.id}/rediger"))
    assert "Hvad betyder forslaget for befolkningens sundhed?" in form
    placeholder = _form_data(
        session, expected_version=str(case.version), triple_aim_population="ikke relevant"
    )
    refused = client.post(f"/sager/{case.id}/rediger", data=placeholder)
    assert refused.status_code in (400, 422)
    assert "Beskriv med egne ord" in text_of(refused)
    data = _form_data(
        session,
        expected_version=str(case.version),
        triple_aim_population="Færre borgere i regionen udvikler KOL.",
    )
    assert client.post(f"/sager/{case.id}/rediger", data=data).status_code == 303
    session.refresh(case)
    assert case.triple_aim_population == "Færre borgere i regionen udvikler KOL."
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Befolkningens sundhed Færre borgere i regionen udvikler KOL." in page
