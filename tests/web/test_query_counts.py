"""The key pages issue a fixed number of SQL statements whatever the amount of data: an N+1
query (one statement per case, deadline or event) makes these counts grow and fails here."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import (
    Case,
    CaseExpense,
    Consultation,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingStatus,
    Notification,
    Party,
    PartyKind,
    User,
)
from workflow.cases import queries
from workflow.cases.queries import (
    DECISIONS_SHOWN,
    MATERIAL_SHOWN,
    OUR_CASES_SHOWN,
    OVERDUE_SHOWN,
    THIS_WEEK_SHOWN,
)
from workflow.engine import clock, session_cache
from workflow.engine import core as engine
from workflow.meetings import agenda

NOW = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)


@contextmanager
def counted(session: Session) -> Iterator[list[str]]:
    """Collect the SQL statements run on the session's connection meanwhile."""
    statements: list[str] = []
    connection = session.connection()

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(connection, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(connection, "before_cursor_execute", record)


@pytest.fixture
def page_statements(client, session) -> Callable[[str], list[str]]:
    """GET a page on a cold session (nothing cached) and return the statements it ran."""

    def get(path: str) -> list[str]:
        # The test and the app share one session: start the request with nothing loaded.
        session.expunge_all()
        session.info.clear()  # and no per-request caches left by the test's own engine calls
        with counted(session) as statements:
            response = client.get(path)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        get.last_response = response  # type: ignore[attr-defined]
        return statements

    return get


@pytest.fixture
def world(session, body, make_case, make_user) -> Callable[[int], list[Case]]:
    """Add `n` cases in every place the dashboard looks, each with deadlines and events."""
    tss, su = body("TSS"), body("SU-NORD-SOM")
    meeting = Meeting(body_id=tss.id, title="TSS-møde", starts_at=NOW + timedelta(days=20))
    session.add(meeting)
    session.flush()
    party = session.query(Party).order_by(Party.id).first()
    staff = make_user("secretariat@TSS")

    def add(n: int) -> list[Case]:
        made: list[Case] = []
        for index in range(n):
            draft = make_case(title=f"Kladde {index}", cost_driving=True, business_case="")
            at_tss = make_case(title=f"Hos TSS {index}", state="at_tss")
            for case, body_id in ((draft, su.id), (at_tss, tss.id)):
                for due, kind, meeting_id in (
                    (NOW - timedelta(days=3), DeadlineKind.STATE, None),
                    (NOW + timedelta(days=2), DeadlineKind.STATE, None),
                    (NOW + timedelta(days=15), DeadlineKind.MATERIAL, meeting.id),
                ):
                    session.add(
                        Deadline(case_id=case.id, kind=kind, state=case.state, body_id=body_id,
                                 meeting_id=meeting_id, due_at=due, reminder_days=[])
                    )  # fmt: skip
                if party is not None:
                    session.add(CaseExpense(case_id=case.id, party_id=party.id, amount_dkk=1000))
                session.add(
                    Notification(
                        idempotency_key=f"test:{case.id}", message_id=f"<{case.id}@test>",
                        recipient_id=staff.id, case_id=case.id, kind="overdue",
                        subject=f"Frist: {case.title}", body="…", attempts=8,
                        last_error="Mailserveren svarede 550", failed_at=NOW,
                    )
                )  # fmt: skip
            made += [draft, at_tss]
        session.commit()
        return made

    return add


def _viewer(logged_in, *roles: str) -> User:
    """A TSS chair and secretariat (decisions and the deadline board), plus `roles`."""
    user: User = logged_in("chair@TSS", "secretariat@TSS", *roles)
    return user


# Enough cases to fill each section the viewers see: a full section also counts the rest, up
# to a cap, and a count that stops short of the cap goes on to the cases without a deadline.
FILLED = max(DECISIONS_SHOWN, OVERDUE_SHOWN, THIS_WEEK_SHOWN, MATERIAL_SHOWN, OUR_CASES_SHOWN) + 1
CAP = FILLED - 1


@pytest.fixture
def past_the_cap(monkeypatch) -> None:
    """Count the sections only up to CAP, so that FILLED cases already pass it."""
    monkeypatch.setattr(queries, "SECTION_COUNT_CAP", CAP)


def test_dashboard_statements_do_not_grow_with_cases(
    world, logged_in, page_statements, past_the_cap
):
    _viewer(logged_in)
    world(FILLED)
    few = page_statements("/")
    world(40)
    many = page_statements("/")
    assert len(many) == len(few), _diff(few, many)
    # 20 before the case sections read their rows with their count and the bodies already
    # read answered the observer and material questions (perf-front, round six); 2 fewer
    # since the login reads the user's memberships and the process versions' mark with the user.
    assert len(few) <= 14, "\n".join(s[:150] for s in few)


def test_our_cases_check_only_the_cases_shown(
    world, logged_in, page_statements, text_of, past_the_cap
):
    # "Vores sager" runs the next step's guards per case, so it shows its first few cases.
    # Any role in a committee shows its cases; its secretariat also gets them on the board.
    _viewer(logged_in, "secretariat@SU-NORD-SOM")
    world(FILLED)
    full = page_statements("/")
    world(40)
    more = page_statements("/")
    assert len(more) == len(full), _diff(full, more)
    assert f"Viser de {OUR_CASES_SHOWN} første af over {CAP}." in text_of(
        page_statements.last_response
    )


def test_case_list_statements_do_not_grow_with_cases(world, logged_in, page_statements):
    _viewer(logged_in, "member@SU-NORD-SOM")
    world(2)
    few = page_statements("/sager")
    world(30)  # 64 cases: more than one page
    many = page_statements("/sager")
    assert len(many) == len(few), _diff(few, many)
    # The user, the page's rows with the list's count (one statement), the filters'
    # organisation rows, the unread count and the bulk form's meetings.
    assert len(few) <= 5, "\n".join(s[:150] for s in few)
    next_link = re.search(
        r'href="(/sager\?efter=[^"]+)"', page_statements.last_response.get_data(as_text=True)
    )
    assert next_link is not None
    assert len(page_statements(html.unescape(next_link.group(1)))) == len(few)


def test_case_page_statements_do_not_grow_with_events(
    world, logged_in, page_statements, make_user, session
):
    _viewer(logged_in, "member@SU-NORD-SOM")
    quiet, busy = world(1)[1], world(1)[1]
    # The busy case gets many events by different people and a longer history.
    for index in range(12):
        editor = make_user("member@SU-NORD-SOM", name=f"Redaktør {index}")
        engine.edit_case(busy, editor, {"summary": f"Version {index}"}, busy.version, None)
    clock.advance(timedelta(minutes=1))
    few = page_statements(f"/sager/{quiet.id}")
    many = page_statements(f"/sager/{busy.id}")
    assert len(many) == len(few), _diff(few, many)
    # The "Næste skridt" panel, the actions and the forecast ask who the user is and which
    # body a code names once per transition: the engine keeps those answers on the session
    # while nothing changes (workflow/engine/session_cache.py). The events, open deadlines
    # and expenses in one statement (`queries.case_records`): 15 -> 13.
    assert len(few) <= 13, "\n".join(s[:160].replace("\n", " ") for s in few)


def _diff(few: list[str], many: list[str]) -> str:
    """Show the statements the bigger page ran more often, to point at the N+1."""
    counts: dict[str, int] = {}
    for statement in many:
        counts[statement] = counts.get(statement, 0) + 1
    for statement in few:
        counts[statement] = counts.get(statement, 0) - 1
    extra = [f"{n}x {s[:300]}" for s, n in counts.items() if n > 0]
    return f"{len(few)} -> {len(many)} statements; extra:\n" + "\n".join(extra)


def test_meeting_page_statements_do_not_grow_with_items_or_decisions(
    session, body, make_case, make_user, logged_in, page_statements
):
    # A secretariat's page of a coming meeting: its items (with their cases' deadlines and
    # attachments) and the chairs' decisions since the previous meeting, each read at once.
    tss = body("TSS")
    secretariat = make_user("secretariat@TSS")
    chair = make_user("chair@TSS")
    meeting = Meeting(
        body_id=tss.id, title="TSS-møde", starts_at=NOW + timedelta(days=20),
        status=MeetingStatus.PLANNED,
    )  # fmt: skip
    session.add(meeting)
    session.flush()

    def add(n: int) -> None:
        for number in range(n):
            agenda.add_case(
                session, meeting, make_case(state="at_tss", title=f"Punkt {n}"), secretariat
            )
            decide(make_case(state="at_tss", title=f"Formandskab {number}"), "tss_recommend", chair)
        session.commit()

    logged_in("secretariat@TSS")
    add(1)
    few = page_statements(f"/moeder/{meeting.id}")
    add(6)
    many = page_statements(f"/moeder/{meeting.id}")
    assert len(many) == len(few), _diff(few, many)
    # The meeting, its items, roll, approvals, history and the body's members with their
    # memberships in one statement (`queries.meeting_page`): 14 -> 11 -> 9.
    assert len(few) <= 9, "\n".join(s[:150] for s in few)
    assert "Formandskab 5" in page_statements.last_response.get_data(as_text=True)


def test_the_case_page_reads_no_consultation_a_case_does_not_have_nor_expenses_apart(
    world, logged_in, page_statements, session
):
    # The case's statement says whether it has a consultation: one without runs no statement
    # for it, one with it shows it as before. The expenses come with the events and deadlines
    # (`queries.case_records`): never a statement of their own, shown as before.
    _viewer(logged_in, "member@SU-NORD-SOM")
    bare, full = world(1)
    session.query(CaseExpense).filter(CaseExpense.case_id == bare.id).delete()
    session.add(
        Consultation(case_id=full.id, title="Høring", deadline=date(2020, 9, 30), created_at=NOW)
    )
    session.commit()

    def reads_them(statements: list[str]) -> list[bool]:
        # Their own statements (the case's statement names both tables in its EXISTS).
        return [any(s.startswith(f"SELECT {table}.") for s in statements) for table in (
                "case_expenses", "consultations")]  # fmt: skip

    assert reads_them(page_statements(f"/sager/{bare.id}")) == [False, False]
    assert "1.000" not in page_statements.last_response.get_data(as_text=True)
    assert reads_them(page_statements(f"/sager/{full.id}")) == [False, True]
    page = page_statements.last_response.get_data(as_text=True)
    assert "Høringen" in page
    assert "1.000" in page


def test_the_case_page_reads_events_deadlines_and_expenses_as_each_is_read_alone(
    world, app, session, make_user
):
    # One statement for the three (`queries.case_records`): the same rows, in the same order,
    # as their own reads give them.
    case = world(1)[1]
    second = Party(code="ZZ-TEST", name="Aarhus Testkommune", kind=PartyKind.MUNICIPALITY)
    session.add(second)
    session.flush()
    session.add(CaseExpense(case_id=case.id, party_id=second.id, amount_dkk=250, note="Drift"))
    engine.edit_case(case, make_user("secretariat@TSS"), {"summary": "Ny"}, case.version, None)
    session.commit()
    session.expire_all()
    definition = engine.definition_of(case)
    with app.test_request_context():
        records = queries.case_records(session, case, definition)
        alone = queries.timeline(session, case, definition)
    assert [e.event.id for e in records.timeline] == [e.event.id for e in alone]
    assert [(e.who, e.what, e.meeting) for e in records.timeline] == [
        (e.who, e.what, e.meeting) for e in alone
    ]
    assert len(records.timeline) >= 2
    assert records.deadlines == queries.case_deadlines(session, case)
    assert len(records.deadlines) == 3
    session_cache.drop(session)
    assert records.expenses == queries.case_expenses(session, case)
    assert "Aarhus Testkommune" in [e.party.name for e in records.expenses]
