"""The case page's "Næste skridt": who may take the next step, asking them (once a day), the
originating body hearing of every move, and the secretariat's reminder about missing material."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from support.formandskab import decide

from models import CaseEvent, Meeting, Notification
from workflow.engine import clock


def _notes(session, user, kind: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == user.id, Notification.kind == kind)
    )


def _events(session, case, trigger: str) -> int:
    return session.scalar(
        select(func.count())
        .select_from(CaseEvent)
        .where(CaseEvent.case_id == case.id, CaseEvent.trigger == trigger)
    )


def test_su_member_with_a_draft_sees_who_can_submit_and_asks_them_once_a_day(
    session, client, logged_in, make_user, make_case, text_of
):
    chair = make_user("chair@SU-NORD-SOM", name="Ulla Formand")
    secretary = make_user("secretariat@SU-NORD-SOM", name="Sam Sekretær")
    case = make_case()
    logged_in("member@SU-NORD-SOM", name="Mette Medlem")

    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Næste skridt" in page
    assert "Ulla Formand" in page and "Sam Sekretær" in page
    assert "Formandskabet for Samordningsudvalget" in page or "Formandskabet for" in page
    assert "Bed om indstilling" in page
    assert "Du har ingen handlinger" not in page

    asked = client.post(f"/sager/{case.id}/bed-om-naeste-skridt")
    assert asked.status_code == 303
    assert "Din anmodning er sendt til 2 personer" in text_of(client.get(asked.location))
    assert _notes(session, chair, "next_step_requested") == 1
    assert _notes(session, secretary, "next_step_requested") == 1
    assert _events(session, case, "next_step_requested") == 1
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Mette Medlem bad om indstilling" in page  # on the timeline

    again = client.post(f"/sager/{case.id}/bed-om-naeste-skridt")
    assert again.status_code == 409
    assert "allerede bedt om sagens næste skridt i dag" in text_of(again)
    assert _notes(session, chair, "next_step_requested") == 1
    assert _events(session, case, "next_step_requested") == 1

    clock.set_time(clock.now() + timedelta(days=1))
    assert client.post(f"/sager/{case.id}/bed-om-naeste-skridt").status_code == 303
    assert _notes(session, chair, "next_step_requested") == 2


def test_a_user_who_can_act_sees_their_actions_and_no_ask_button(
    client, logged_in, make_case, text_of
):
    case = make_case()
    logged_in("chair@SU-NORD-SOM")
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Næste skridt" in page
    assert "Bed om indstilling" not in page
    assert client.post(f"/sager/{case.id}/bed-om-naeste-skridt").status_code == 409


def test_originating_body_members_hear_of_every_move_once(session, body, make_user, make_case):
    session.add(Meeting(body_id=body("TSS").id, starts_at=datetime(2020, 11, 13, 9, tzinfo=UTC)))
    session.commit()
    member = make_user("member@SU-NORD-SOM")
    observer = make_user("observer@SU-NORD-SOM")
    case = make_case()
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    assert _notes(session, member, "status_changed") == 1
    assert _notes(session, observer, "status_changed") == 1
    decide(case, "tss_return", make_user("chair@TSS"), comment="Uddyb økonomien.")
    assert _notes(session, member, "status_changed") == 2
    # Back in the SU its chairs and secretariat hear it as arrived; no one twice per move.
    keys = session.scalars(
        select(Notification.idempotency_key).where(Notification.case_id == case.id)
    ).all()
    assert len(keys) == len(set(keys))
    per_event = session.scalars(
        select(func.count())
        .select_from(Notification)
        .where(Notification.recipient_id == member.id)
        .group_by(Notification.subject)
    ).all()
    assert set(per_event) == {1}


def test_secretariat_reminds_the_acting_body_by_hand_once_a_day(
    session, body, client, logged_in, make_user, make_case, text_of
):
    session.add(Meeting(body_id=body("TSS").id, starts_at=datetime(2020, 9, 18, 9, tzinfo=UTC)))
    session.commit()
    su_chair = make_user("chair@SU-NORD-SOM")
    su_secretary = make_user("secretariat@SU-NORD-SOM")
    tss_chair = make_user("chair@TSS")
    case = make_case(state="at_tss", cost_driving=True, business_case="")
    logged_in("secretariat@TSS")

    page = text_of(client.get(f"/sager/{case.id}"))
    assert "mangler en businesscase" in page
    sent = client.post(f"/sager/{case.id}/paamind-om-materiale")
    assert sent.status_code == 303
    assert _notes(session, su_chair, "reminder") == 1
    assert _notes(session, su_secretary, "reminder") == 1
    assert _notes(session, tss_chair, "reminder") == 0
    assert _events(session, case, "material_reminder_sent") == 1
    reminder = session.scalar(select(Notification).where(Notification.recipient_id == su_chair.id))
    assert "businesscase" in reminder.body

    refused = client.post(f"/sager/{case.id}/paamind-om-materiale")
    assert refused.status_code == 409
    assert "allerede mindet om sagen i dag" in text_of(refused)
    assert _notes(session, su_chair, "reminder") == 1
    assert _events(session, case, "material_reminder_sent") == 1


def test_a_member_may_not_send_the_material_reminder(client, logged_in, make_case):
    case = make_case(state="at_tss", cost_driving=True, business_case="")
    logged_in("member@SU-NORD-SOM")
    assert client.post(f"/sager/{case.id}/paamind-om-materiale").status_code == 403
