"""The seed 001 cycle: a TSS meeting with three signature initiatives, then SKU, then KKR."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.formandskab import decide

from models import (
    AgendaItem,
    Body,
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    ItemKind,
    MeetingHistoryEntry,
    MeetingStatus,
    User,
)
from workflow.engine import clock
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.meetings import agenda, minutes
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome
from workflow.notifications import observers

TSS_MEETING = datetime(2020, 11, 13, 8, 0, tzinfo=UTC)  # 09:00 Danish time
SKU_MEETING = datetime(2020, 12, 10, 14, 0, tzinfo=UTC)


@pytest.fixture
def people(make_user: Callable[..., User]) -> dict[str, User]:
    return {
        "tss_sec": make_user("secretariat@TSS"),
        "tss_chair": make_user("chair@TSS"),
        "sku_sec": make_user("secretariat@SKU"),
        "sku_chair": make_user("chair@SKU"),
        "kkr": make_user("observer@KKR"),
        "outsider": make_user("member@FORUM-DATA"),
    }


def _hold(session: Session, meeting_obj: object, sec: User, chair: User) -> None:
    meeting = meeting_obj
    meetings.step(session, meeting, "send_for_review", sec)  # type: ignore[arg-type]
    agenda.publish(session, meeting, chair)  # type: ignore[arg-type]
    clock.set_time(meeting.starts_at + timedelta(hours=2))  # type: ignore[attr-defined]
    meetings.step(session, meeting, "hold", sec)  # type: ignore[arg-type]


def test_the_seed_001_cycle_from_tss_to_kkr(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    cases = [
        make_case(state="at_tss", title=f"Signaturindsats {n}: Sammenhængende forløb for ældre")
        for n in (1, 2, 3)
    ]
    tss = meetings.plan_meeting(
        session, body("TSS"), TSS_MEETING, people["tss_sec"], location="Regionsgården, Hillerød"
    )
    assert [c.id for c in agenda.candidates(session, tss)] == [c.id for c in cases]
    for case in cases:
        agenda.add_case(session, tss, case, people["tss_sec"])
    assert agenda.candidates(session, tss) == []
    items = meetings.active_items(tss)
    assert items[0].title == "Godkendelse af dagsorden"
    assert [i.case_id for i in items[1:]] == [c.id for c in cases]
    # Each case now carries the material deadline of this meeting.
    for case in cases:
        deadline = session.scalar(
            select(Deadline).where(
                Deadline.case_id == case.id,
                Deadline.kind == DeadlineKind.MATERIAL,
                Deadline.cancelled_at.is_(None),
            )
        )
        assert deadline is not None and deadline.meeting_id == tss.id
        assert deadline.due_at < TSS_MEETING

    _hold(session, tss, people["tss_sec"], people["tss_chair"])
    minutes.record_outcome(session, items[1], people["tss_sec"], Outcome.RECOMMENDED, "Anbefales.")
    minutes.record_outcome(session, items[2], people["tss_sec"], Outcome.RECOMMENDED, "Anbefales.")
    minutes.record_outcome(
        session, items[3], people["tss_sec"], Outcome.RETURNED, "Økonomien skal beskrives bedre."
    )
    with pytest.raises(NotAllowed):
        minutes.approve_minutes(session, tss, people["tss_sec"])
    result = minutes.approve_minutes(session, tss, people["tss_chair"])
    assert len(result.fired) == 3 and result.refused == []
    assert [c.state for c in cases] == ["at_sku", "at_sku", "draft"]
    event = session.scalar(
        select(CaseEvent).where(
            CaseEvent.case_id == cases[0].id, CaseEvent.trigger == "tss_recommend"
        )
    )
    assert event is not None and event.meeting_id == tss.id
    assert event.comment.startswith("Beslutning i TSS den 13. november 2020")
    assert tss.status is MeetingStatus.MINUTES_APPROVED

    sku = meetings.plan_meeting(session, body("SKU"), SKU_MEETING, people["sku_sec"])
    assert {c.id for c in agenda.candidates(session, sku)} == {cases[0].id, cases[1].id}
    for case in cases[:2]:
        agenda.add_case(session, sku, case, people["sku_sec"])
    _hold(session, sku, people["sku_sec"], people["sku_chair"])
    for item in meetings.active_items(sku)[1:]:
        minutes.record_outcome(session, item, people["sku_sec"], Outcome.APPROVED, "Godkendt.")
    result = minutes.approve_minutes(session, sku, people["sku_chair"])
    assert len(result.fired) == 2
    assert [c.state for c in cases[:2]] == ["implementation", "implementation"]

    seen = observers.approved_by_sku(session, people["kkr"])
    assert {row.case.id for row in seen} == {cases[0].id, cases[1].id}
    with pytest.raises(NotAllowed):
        observers.approved_by_sku(session, people["outsider"])


def test_a_refused_transition_is_shown_on_its_item_and_the_others_go_through(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    good = make_case(state="at_tss", title="Klar sag")
    thin = make_case(state="at_tss", title="Sag uden Triple Aim")
    tss = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    agenda.add_case(session, tss, good, people["tss_sec"])
    agenda.add_case(session, tss, thin, people["tss_sec"])
    _hold(session, tss, people["tss_sec"], people["tss_chair"])
    # The case loses its Triple Aim description after it was put on the agenda.
    thin.triple_aim_quality = ""
    session.commit()
    for item in meetings.active_items(tss)[1:]:
        minutes.record_outcome(session, item, people["tss_sec"], Outcome.RECOMMENDED, "Anbefales.")
    result = minutes.approve_minutes(session, tss, people["tss_chair"])
    assert [i.case_id for i in result.fired] == [good.id]
    refused = session.get(AgendaItem, result.refused[0].id)
    assert refused is not None and refused.transition_error
    assert (
        "Triple Aim" in refused.transition_error or "kvalitet" in refused.transition_error.lower()
    )
    assert good.state == "at_sku" and thin.state == "at_tss"


def test_postponed_items_come_back_as_candidates_for_the_next_meeting(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    case = make_case(state="at_tss")
    first = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    second = meetings.plan_meeting(
        session, body("TSS"), TSS_MEETING + timedelta(days=28), people["tss_sec"]
    )
    agenda.add_case(session, first, case, people["tss_sec"])
    assert agenda.candidates(session, second) == []
    _hold(session, first, people["tss_sec"], people["tss_chair"])
    minutes.record_outcome(
        session, meetings.active_items(first)[1], people["tss_sec"], Outcome.POSTPONED, "Udsat."
    )
    minutes.approve_minutes(session, first, people["tss_chair"])
    assert case.state == "at_tss"
    assert [c.id for c in agenda.candidates(session, second)] == [case.id]
    timeline = [
        e.trigger for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))
    ]
    assert "meeting_outcome" in timeline


def test_an_outcome_that_does_not_fit_the_state_is_refused_with_the_options(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    case = make_case(state="at_sku")
    sku = meetings.plan_meeting(session, body("SKU"), SKU_MEETING, people["sku_sec"])
    item = agenda.add_case(session, sku, case, people["sku_sec"])
    with pytest.raises(WorkflowError, match="afholdt"):
        minutes.record_outcome(session, item, people["sku_sec"], Outcome.APPROVED, "")
    _hold(session, sku, people["sku_sec"], people["sku_chair"])
    # SKU decides; it does not recommend onwards.
    with pytest.raises(WorkflowError, match="Mulige udfald: godkendt"):
        minutes.record_outcome(session, item, people["sku_sec"], Outcome.RECOMMENDED, "")
    minutes.record_outcome(session, item, people["sku_sec"], Outcome.REJECTED, "Afvist.")
    assert item.outcome == "rejected"


def test_meeting_states_are_audited_and_closed_meetings_can_be_reopened(
    session: Session, people: dict[str, User], body: Callable[[str], Body]
) -> None:
    tss = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    with pytest.raises(WorkflowError, match="ikke mulig"):
        meetings.change_status(session, tss, "hold", people["tss_sec"])
    _hold(session, tss, people["tss_sec"], people["tss_chair"])
    minutes.approve_minutes(session, tss, people["tss_chair"])
    meetings.step(session, tss, "close", people["tss_sec"])
    with pytest.raises(WorkflowError, match="begrundelse"):
        meetings.change_status(session, tss, "reopen", people["tss_sec"])
    meetings.step(session, tss, "reopen", people["tss_sec"], comment="Fejl i referatet.")
    assert tss.status is MeetingStatus.HELD
    actions = [h.action for h in session.scalars(
        select(MeetingHistoryEntry).where(MeetingHistoryEntry.meeting_id == tss.id)
        .order_by(MeetingHistoryEntry.id)
    )]  # fmt: skip
    assert actions == [
        "planned", "send_for_review", "publish", "hold", "approve_minutes", "close", "reopen"
    ]  # fmt: skip


def test_agenda_items_can_be_reordered(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    a, b = make_case(state="at_tss", title="A"), make_case(state="at_tss", title="B")
    tss = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    item_a = agenda.add_case(session, tss, a, people["tss_sec"])
    agenda.add_item(session, tss, people["tss_sec"], title="Eventuelt")
    agenda.add_case(session, tss, b, people["tss_sec"], kind=ItemKind.INFORMATION)
    agenda.move_item(session, item_a, people["tss_sec"], 2)
    assert [i.title for i in meetings.active_items(tss)] == [
        "Godkendelse af dagsorden", "Eventuelt", "B", "A"
    ]  # fmt: skip
    agenda.move_item(session, item_a, people["tss_sec"], -10)
    assert [i.title for i in meetings.active_items(tss)][:2] == ["A", "Godkendelse af dagsorden"]
    agenda.remove_item(session, item_a, people["tss_sec"])
    assert [i.title for i in meetings.active_items(tss)] == [
        "Godkendelse af dagsorden", "Eventuelt", "B"
    ]  # fmt: skip
    assert [c.id for c in agenda.candidates(session, tss)] == [a.id]


def test_a_closed_item_needs_a_public_summary(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    case = make_case(state="at_tss")
    tss = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    with pytest.raises(WorkflowError, match="offentligt resumé"):
        agenda.add_case(session, tss, case, people["tss_sec"], closed=True)
    item = agenda.add_case(
        session, tss, case, people["tss_sec"], closed=True,
        public_summary="Forhandling om fordeling af udgifter til hjælpemidler.",
    )  # fmt: skip
    assert item.closed


def test_items_not_ready_by_the_material_deadline_are_flagged(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    ready = make_case(state="at_tss", title="Klar")
    thin = make_case(state="at_tss", title="Mangler", triple_aim_quality="")
    tss = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    item_ready = agenda.add_case(session, tss, ready, people["tss_sec"])
    item_thin = agenda.add_case(session, tss, thin, people["tss_sec"])
    assert not agenda.readiness(session, item_thin).late  # before the deadline
    clock.set_time(TSS_MEETING - timedelta(days=1))
    assert not agenda.readiness(session, item_ready).late
    status = agenda.readiness(session, item_thin)
    assert status.late and status.problems


def test_decisions_by_the_chairs_between_meetings_are_listed_on_the_next_agenda(
    session: Session,
    people: dict[str, User],
    body: Callable[[str], Body],
    make_case: Callable[..., Case],
) -> None:
    case = make_case(state="at_tss", title="Hastesag om udskrivelser")
    decide(case, "tss_recommend", people["tss_chair"], comment="Formandskabet anbefaler.")
    tss = meetings.plan_meeting(session, body("TSS"), TSS_MEETING, people["tss_sec"])
    listed = agenda.snapshot(session, tss, "agenda")["chair_decisions"]
    assert [d["title"] for d in listed] == ["Hastesag om udskrivelser"]
