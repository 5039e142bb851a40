"""The annual plan's cycle on the case page (issue 16 point 8): the KKR dialogue and the budget
adoptions the secretariat records through the action form, and what they say in the history."""

from __future__ import annotations

from datetime import UTC, datetime

from workflow.engine import clock


def _plan(make_case, state):
    return make_case("implementation_plan", origin="TSS", plan_year=2021, state=state)


def test_the_secretariat_records_the_kkr_dialogue_and_the_case_shows_it(
    client, logged_in, make_case, session, text_of
):
    case = _plan(make_case, "kkr_dialogue")
    user = logged_in("secretariat@TSS")
    refused = client.post(
        f"/sager/{case.id}/handlinger/conclude_dialogue",
        data={"expected_version": str(case.version)},
    )
    assert refused.status_code == 422
    assert "registrér dialogen" in text_of(refused)
    form = text_of(client.get(f"/sager/{case.id}?handling=record_kkr_dialogue"))
    assert "Hvem deltog" in form and "Hvad blev drøftet og aftalt" in form

    response = client.post(
        f"/sager/{case.id}/handlinger/record_kkr_dialogue",
        data={
            "expected_version": str(case.version),
            "dialogue_on": "2020-08-20",
            "dialogue_participants": "KKR Hovedstadens formandskab",
            "dialogue_outcome": "Kommunerne ønsker rehabilitering prioriteret.",
        },
    )

    assert response.status_code == 303, text_of(response)
    page = text_of(client.get(f"/sager/{case.id}"))
    # Only recorded (records_only): the case stays where it was, and the message says so.
    assert "Sagen er stadig: Dialog med kommunerne via KKR." in page
    assert "Registrér dialog med kommunerne via KKR" in page
    assert "Dato for dialogen 20. august 2020" in page
    assert "Hvem deltog KKR Hovedstadens formandskab" in page
    assert "Kommunerne ønsker rehabilitering prioriteret." in page
    user.locale = "en"
    session.commit()
    english = text_of(client.get(f"/sager/{case.id}"))
    assert "Date of the dialogue 20 August 2020" in english


def test_budget_dates_in_the_wrong_year_are_refused_on_the_form(
    client, logged_in, make_case, text_of
):
    case = _plan(make_case, "awaiting_adoption")
    logged_in("secretariat@SKU")
    clock.set_time(datetime(2020, 10, 20, 9, tzinfo=UTC))
    response = client.post(
        f"/sager/{case.id}/handlinger/record_budget_adoption",
        data={
            "expected_version": str(case.version),
            "municipal_budgets_adopted_on": "2021-10-13",
            "regional_budget_adopted_on": "2020-10-06",
        },
    )
    assert response.status_code == 422
    assert "skal ligge i 2020" in text_of(response)
    response = client.post(
        f"/sager/{case.id}/handlinger/record_budget_adoption",
        data={
            "expected_version": str(case.version),
            "municipal_budgets_adopted_on": "2020-10-13",
            "regional_budget_adopted_on": "2020-10-06",
        },
    )
    assert response.status_code == 303, text_of(response)
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Regionens budget vedtaget 6. oktober 2020" in page
