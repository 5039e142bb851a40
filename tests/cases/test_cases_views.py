"""The case page: fields, timeline, deadlines, and actions through the engine."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from support.formandskab import decide, proposed_by_co_chair

from models import CaseEvent, Deadline, DeadlineKind, Meeting, MeetingStatus
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.formandskab import PROPOSED


@pytest.fixture
def meeting(session, body):
    """Create a meeting of a body."""

    def create(code, starts_at, title="", status=MeetingStatus.PLANNED):
        row = Meeting(body_id=body(code).id, title=title, starts_at=starts_at, status=status)
        session.add(row)
        session.flush()
        return row

    return create


def _form(html: str, trigger: str) -> str:
    match = re.search(rf'<details class="action" id="handling-{trigger}".*?</details>', html, re.S)
    assert match is not None, f"no form for {trigger}"
    return match.group(0)


def _actions(html: str) -> list[str]:
    return re.findall(r'<details class="action" id="handling-([a-z_]+)"', html)


def test_case_page_shows_fields_state_and_timeline(
    client, logged_in, make_case, make_user, text_of
):
    case = make_case(
        title="Sammenhængende forløb for KOL",
        esdh_case_number="20-123456",
        cost_driving=True,
        business_case="Gevinst efter to år.",
    )
    chair = make_user("chair@SU-NORD-SOM", name="Anne Formand")
    with clock.frozen_at(datetime(2020, 11, 13, 8, 30, tzinfo=UTC)):
        decide(case, "submit", chair, comment="Klar til TSS.")
    logged_in("member@TSS")
    response = client.get(f"/sager/{case.id}")
    assert response.status_code == 200
    page = text_of(response)
    assert "Sammenhængende forløb for KOL" in page
    assert "Proces Signaturindsats" in page
    assert "Tilstand Til behandling i TSS" in page
    assert "Behandles i Tværsektoriel Strategisk Styregruppe (TSS)" in page
    assert "Fælles indsats for borgere med kronisk sygdom." in page
    assert "Medfører merudgifter for en eller flere parter: Ja" in page
    assert "Principiel: Nej" in page
    assert "Businesscase Gevinst efter to år." in page
    assert "Finansieringsforslag Ikke udfyldt" in page
    assert "Almen praksis henviser og følger op." in page
    assert "Borgerens oplevelse Borgeren oplever ét samlet forløb." in page
    assert "ESDH-sagsnummer 20-123456" in page
    # Timeline: who, what, when (Danish time), the state change and the comment.
    assert "1. september 2020 kl. 10:00 Sagen blev oprettet" in page
    assert (
        "13. november 2020 kl. 09:30 Indstil til TSS – Anne Formand "
        "(som formandskab, formandskabsbeslutning på organets vegne)" in page
    )
    assert "Fra »Kladde i samordningsudvalget« til »Til behandling i TSS«" in page
    assert "Klar til TSS." in page


def test_case_page_shows_only_the_actions_the_user_may_take(client, logged_in, make_case):
    case = make_case(state="at_tss")
    logged_in("chair@TSS")
    html = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert _actions(html) == ["tss_recommend", "tss_return", "tss_reject"]
    assert f'action="/sager/{case.id}/handlinger/tss_return"' in html
    assert f'name="expected_version" value="{case.version}"' in _form(html, "tss_return")


def test_member_has_no_actions_and_is_told_who_has(
    client, logged_in, make_case, make_user, text_of
):
    make_user("chair@TSS", name="Tina Formand")
    case = make_case(state="at_tss")
    logged_in("member@SU-NORD-SOM")
    response = client.get(f"/sager/{case.id}")
    assert _actions(response.get_data(as_text=True)) == []
    page = text_of(response)
    assert "Se under »Næste skridt«, hvem der kan tage det næste skridt." in page
    assert "Tina Formand" in page
    assert "Bed om behandling" in page


def test_action_form_asks_for_the_declared_fields(client, logged_in, make_case):
    case = make_case(state="at_tss")
    logged_in("chair@TSS")
    form = _form(client.get(f"/sager/{case.id}").get_data(as_text=True), "tss_return")
    assert '<label class="form-label" for="tss_return-comment">Hvad skal revideres' in form
    assert '<textarea class="form-input" id="tss_return-comment" name="comment"' in form
    assert "(skal udfyldes)" in form


def test_decision_form_lists_meetings_of_the_current_body(client, logged_in, make_case, meeting):
    case = make_case(state="at_tss")
    meeting("TSS", datetime(2020, 8, 24, 7, 0, tzinfo=UTC), title="TSS august")
    meeting(
        "TSS",
        datetime(2020, 8, 17, 7, 0, tzinfo=UTC),
        title="Aflyst TSS",
        status=MeetingStatus.CANCELLED,
    )
    meeting("SKU", datetime(2020, 8, 25, 7, 0, tzinfo=UTC), title="SKU september")
    logged_in("secretariat@TSS")
    form = _form(client.get(f"/sager/{case.id}").get_data(as_text=True), "tss_recommend")
    assert '<select class="form-select" id="tss_recommend-meeting_id" name="meeting_id"' in form
    assert "TSS august – 24. august 2020 kl. 09:00" in form
    assert "Aflyst TSS" not in form
    assert "SKU september" not in form
    assert "Vælg mødet, hvor beslutningen blev truffet" in form


def test_performing_an_action_moves_the_case_and_says_so(
    client, logged_in, make_case, session, text_of
):
    case = make_case()
    chair = logged_in("chair@SU-NORD-SOM")
    # The other co-chair proposed it: this chair's action is the consent that takes it.
    proposed_by_co_chair(case, "submit", chair, comment="Godkendt på mødet i SU.")
    response = client.post(
        f"/sager/{case.id}/handlinger/submit",
        data={"expected_version": str(case.version), "comment": "Godkendt på mødet i SU."},
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/sager/{case.id}"
    assert case.state == "at_tss"
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Handlingen »Indstil til TSS« er udført. Sagen er nu: Til behandling i TSS." in page
    assert "Godkendt på mødet i SU." in page
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)).all()
    assert [e.trigger for e in events] == ["create", PROPOSED, "submit"]


def test_secretariat_records_a_decision_on_a_meeting(
    client, logged_in, make_case, meeting, session, text_of
):
    case = make_case(state="at_tss")
    tss = meeting("TSS", datetime(2020, 8, 27, 7, 0, tzinfo=UTC), title="TSS august")
    logged_in("secretariat@TSS")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_recommend",
        data={"expected_version": str(case.version), "meeting_id": str(tss.id)},
    )
    assert response.status_code == 303
    assert case.state == "at_sku"
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Besluttet på mødet: TSS august den 27. august 2020 kl. 09:00" in page


def test_refused_action_shows_the_guard_message_and_keeps_the_input(
    client, logged_in, make_case, text_of
):
    case = make_case(state="at_tss", cost_driving=True, business_case="")
    logged_in("chair@TSS")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_recommend",
        data={"expected_version": str(case.version), "comment": "Vi anbefaler indsatsen."},
    )
    assert response.status_code == 422
    assert case.state == "at_tss"
    page = text_of(response)
    assert "Handlingen »Indstil til godkendelse i SKU« blev ikke udført." in page
    assert "mangler en businesscase og et finansieringsforslag" in page
    form = _form(response.get_data(as_text=True), "tss_recommend")
    assert "open" in form.split(">", 1)[0]
    assert ">Vi anbefaler indsatsen.</textarea>" in form
    assert 'aria-describedby="handling-tss_recommend-fejl"' in form


def test_missing_required_field_is_linked_to_its_input(client, logged_in, make_case, text_of):
    case = make_case(state="at_tss")
    logged_in("chair@TSS")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_return",
        data={"expected_version": str(case.version), "comment": "  "},
    )
    assert response.status_code == 422
    assert "Feltet 'Hvad skal revideres' skal udfyldes." in text_of(response)
    form = _form(response.get_data(as_text=True), "tss_return")
    assert re.search(
        r'<p class="form-error-message" id="tss_return-comment-fejl">'
        r"Feltet &#39;Hvad skal revideres",
        form,
    )
    assert 'aria-describedby="tss_return-comment-fejl" aria-invalid="true"' in form
    assert '<a href="#tss_return-comment">' in form
    assert case.state == "at_tss"


def test_secretariat_decision_without_meeting_is_explained(
    client, logged_in, make_case, meeting, text_of
):
    case = make_case(state="at_tss")
    meeting("TSS", datetime(2020, 8, 27, 7, 0, tzinfo=UTC), title="TSS august")
    logged_in("secretariat@TSS")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_reject",
        data={"expected_version": str(case.version), "comment": "Ligger uden for aftalen."},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "Sekretariatet registrerer beslutninger, der er truffet på et møde: angiv mødet." in page
    form = _form(response.get_data(as_text=True), "tss_reject")
    assert 'id="tss_reject-meeting_id-fejl"' in form
    assert ">Ligger uden for aftalen.</textarea>" in form
    assert case.state == "at_tss"


def test_stale_version_is_refused_as_a_conflict(client, logged_in, make_case, make_user, text_of):
    case = make_case(state="at_tss")
    logged_in("chair@TSS")
    stale = case.version
    # A colleague changes the case after the chair opened the page.
    engine.edit_case(case, make_user("member@SU-NORD-SOM"), {"summary": "Ny tekst"})
    assert case.version > stale
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_return",
        data={"expected_version": str(stale), "comment": "Mangler økonomi."},
    )
    assert response.status_code == 409
    assert "Sagen er blevet ændret af en anden, siden du åbnede den" in text_of(response)
    form = _form(response.get_data(as_text=True), "tss_return")
    assert ">Mangler økonomi.</textarea>" in form
    assert f'name="expected_version" value="{case.version}"' in form
    assert case.state == "at_tss"
    assert "Sagens oplysninger blev ændret" in text_of(response)
    assert "(ændret: resumé)" in text_of(response)


def test_user_who_may_not_act_gets_the_engine_reason(client, logged_in, make_case, text_of):
    case = make_case(state="at_sku")
    logged_in("member@SU-NORD-SOM")
    response = client.post(
        f"/sager/{case.id}/handlinger/sku_approve", data={"expected_version": str(case.version)}
    )
    assert response.status_code == 403
    assert "Det kan kun formandskabet for SKU eller sekretariatet for SKU." in text_of(response)
    assert case.state == "at_sku"


def test_action_not_possible_in_the_state_is_explained(client, logged_in, make_case, text_of):
    case = make_case(state="at_tss")
    logged_in("chair@SKU")
    response = client.post(
        f"/sager/{case.id}/handlinger/sku_approve", data={"expected_version": str(case.version)}
    )
    assert response.status_code == 409
    assert "Handlingen 'sku_approve' er ikke mulig nu" in text_of(response)


def test_action_without_version_is_refused(client, logged_in, make_case, text_of):
    case = make_case()
    logged_in("chair@SU-NORD-SOM")
    response = client.post(f"/sager/{case.id}/handlinger/submit", data={})
    assert response.status_code == 400
    assert "Formularen mangler sagens version" in text_of(response)
    assert case.state == "draft"


def test_unknown_case_is_not_found(client, logged_in, text_of):
    logged_in("member@TSS")
    response = client.get("/sager/999999")
    assert response.status_code == 404
    assert "Siden findes ikke" in text_of(response)


def test_case_page_lists_open_deadlines(client, logged_in, make_case, make_user, meeting):
    meeting("TSS", datetime(2020, 10, 1, 7, 0, tzinfo=UTC), title="TSS oktober")
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    logged_in("member@TSS")
    html = client.get(f"/sager/{case.id}").get_data(as_text=True)
    section = re.search(r'<section aria-labelledby="frister">.*?</section>', html, re.S)
    assert section is not None
    assert "21. september 2020 kl. 23:59" in section.group(0)
    assert "Materialefrist" in section.group(0)


def test_case_page_shows_a_deadline_added_or_met_at_once(
    client, logged_in, make_case, session, text_of
):
    # The page reads the deadlines only for a case whose kept next deadline says it has one:
    # a deadline written, then met, shows and goes at once.
    case = make_case()
    logged_in("member@SU-NORD-SOM")
    assert "Sagen har ingen åbne frister." in text_of(client.get(f"/sager/{case.id}"))
    due = Deadline(
        case_id=case.id, kind=DeadlineKind.FOLLOW_UP, state=case.state,
        body_id=case.current_body_id, due_at=datetime(2020, 12, 1, 10, 0, tzinfo=UTC),
    )  # fmt: skip
    session.add(due)
    session.commit()
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "1. december 2020 kl. 11:00" in page and "Sagen har ingen åbne frister." not in page
    due.met_at = clock.now()
    session.commit()
    assert "Sagen har ingen åbne frister." in text_of(client.get(f"/sager/{case.id}"))


def test_case_list_filters_by_process_state_and_body(client, logged_in, make_case):
    make_case(title="Kladde i Nord")
    make_case(title="Hos TSS fra Syd", origin="SU-SYD-SOM", state="at_tss")
    make_case(title="Kladde i Syd", origin="SU-SYD-SOM")
    logged_in("member@SU-NORD-SOM")
    everything = client.get("/sager").get_data(as_text=True)
    assert "Kladde i Nord" in everything and "Hos TSS fra Syd" in everything
    assert "Kladde i Syd" not in everything  # another body's draft
    at_tss = client.get("/sager?tilstand=signature_initiative:at_tss").get_data(as_text=True)
    assert "Hos TSS fra Syd" in at_tss and "Kladde i Nord" not in at_tss
    north = client.get("/sager?organ=SU-NORD-SOM").get_data(as_text=True)
    assert "Kladde i Nord" in north and "Hos TSS fra Syd" not in north
    forum = client.get("/sager?proces=forum_matter").get_data(as_text=True)
    assert "Kladde i Nord" not in forum and "Ingen sager matcher filtrene." in forum
