"""A decision names a meeting that has taken place (or is in progress), or is the chairs'
decision between meetings; putting a case on an agenda is not a decision (issue 11, item 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from support.formandskab import decide

from models import CaseEvent, Meeting, MeetingStatus
from workflow.auth import tokens
from workflow.engine import clock
from workflow.engine.errors import GuardFailed
from workflow.meetings import agenda


@pytest.fixture
def meeting(session, body):
    """Create a meeting of a body at `starts_at`."""

    def create(code, starts_at, title="", status=MeetingStatus.PUBLISHED):
        row = Meeting(body_id=body(code).id, title=title, starts_at=starts_at, status=status)
        session.add(row)
        session.flush()
        return row

    return create


def _events(session, case):
    return list(
        session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )


# The test clock: 1 September 2020, 10:00 Danish time.
FUTURE = datetime(2020, 9, 24, 7, 0, tzinfo=UTC)
PAST = datetime(2020, 8, 27, 7, 0, tzinfo=UTC)


def test_a_decision_cannot_name_a_coming_meeting(session, make_case, make_user, meeting):
    case = make_case(state="at_tss")
    coming = meeting("TSS", FUTURE, title="TSS september")
    secretariat = make_user("secretariat@TSS")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "tss_recommend", secretariat, data={"meeting_id": coming.id})
    [failure] = refused.value.failures
    assert failure.rule == "decision_at_meeting"
    assert "Mødet den 24. september 2020 kl. 09:00 er ikke holdt endnu" in failure.message
    assert "Sæt sagen på mødets dagsorden i stedet" in failure.message
    assert "Put the case on the meeting's agenda instead" in failure.message_en
    assert case.state == "at_tss"
    assert [e.trigger for e in _events(session, case)] == ["create"]


def test_a_chair_is_told_of_the_decision_between_meetings(make_case, make_user, meeting):
    case = make_case(state="at_tss")
    coming = meeting("TSS", FUTURE)
    chair = make_user("chair@TSS")
    with pytest.raises(GuardFailed) as refused:
        decide(case, "tss_recommend", chair, data={"meeting_id": coming.id})
    assert "formandskabet beslutte på organets vegne" in refused.value.failures[0].message
    # Without a meeting, the chairs' decision between meetings stands as before.
    event = decide(case, "tss_recommend", chair)
    assert event.data["on_behalf_of_body"] is True
    assert event.meeting_id is None


def test_a_meeting_in_progress_or_held_may_carry_the_decision(make_case, make_user, meeting):
    secretariat = make_user("secretariat@TSS")
    started = meeting("TSS", clock.now() - timedelta(minutes=30), status=MeetingStatus.PUBLISHED)
    case = make_case(state="at_tss")
    event = decide(case, "tss_recommend", secretariat, data={"meeting_id": started.id})
    assert event.meeting_id == started.id
    held = meeting("TSS", PAST, status=MeetingStatus.CLOSED)
    other = make_case(state="at_tss")
    assert decide(other, "tss_recommend", secretariat, data={"meeting_id": held.id})


def test_the_page_offers_only_meetings_that_have_begun(client, logged_in, make_case, meeting):
    case = make_case(state="at_tss")
    meeting("TSS", PAST, title="TSS august", status=MeetingStatus.CLOSED)
    meeting("TSS", FUTURE, title="TSS september")
    logged_in("secretariat@TSS")
    page = client.get(f"/sager/{case.id}").get_data(as_text=True)
    assert "TSS august – 27. august 2020 kl. 09:00" in page
    assert "TSS september" not in page


def test_the_page_refuses_a_coming_meeting_and_says_what_to_do(
    client, logged_in, make_case, meeting, text_of
):
    case = make_case(state="at_tss")
    coming = meeting("TSS", FUTURE, title="TSS september")
    logged_in("secretariat@TSS")
    response = client.post(
        f"/sager/{case.id}/handlinger/tss_recommend",
        data={"expected_version": str(case.version), "meeting_id": str(coming.id)},
    )
    assert response.status_code == 422
    page = text_of(response)
    assert "er ikke holdt endnu" in page
    assert "Sæt sagen på mødets dagsorden i stedet" in page
    assert case.state == "at_tss"


def test_the_api_refuses_a_coming_meeting(client, session, make_case, make_user, meeting):
    case = make_case(state="at_tss")
    coming = meeting("TSS", FUTURE)
    user = make_user("secretariat@TSS")
    token = tokens.create_token(session, user, "test").plain
    response = client.post(
        f"/api/v1/cases/{case.id}/transitions",
        json={
            "trigger": "tss_recommend",
            "expected_version": case.version,
            "data": {"meeting_id": coming.id},
        },
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "er ikke holdt endnu" in response.get_data(as_text=True)
    assert case.state == "at_tss"


def test_putting_a_case_on_an_agenda_is_not_a_decision(
    client, session, logged_in, make_case, make_user, meeting, text_of
):
    case = make_case(state="at_tss")
    coming = meeting("TSS", FUTURE, title="TSS september", status=MeetingStatus.PLANNED)
    agenda.add_case(session, coming, case, make_user("secretariat@TSS"))
    added = _events(session, case)[-1]
    assert added.trigger == "added_to_agenda"
    assert added.meeting_id == coming.id
    assert "decision_body" not in added.data
    assert case.state == "at_tss"
    logged_in("member@TSS")
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Sat på dagsordenen til TSS september den 24. september 2020 kl. 09:00" in page
    assert "Besluttet på mødet" not in page


def test_a_decision_at_a_held_meeting_reads_as_one(
    client, logged_in, make_case, make_user, meeting, text_of
):
    case = make_case(state="at_tss")
    held = meeting("TSS", PAST, title="TSS august", status=MeetingStatus.HELD)
    decide(case, "tss_recommend", make_user("secretariat@TSS"), data={"meeting_id": held.id})
    logged_in("member@SKU")
    page = text_of(client.get(f"/sager/{case.id}"))
    assert "Besluttet på mødet: TSS august den 27. august 2020 kl. 09:00" in page
