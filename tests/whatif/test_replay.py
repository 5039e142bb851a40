"""The replay on a history with known numbers: TSS's materialefrist from 8 to 4 working days."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from sqlalchemy.orm import Session
from support.whatif import (
    BETWEEN,
    LATE,
    NOW,
    ON_TIME,
    TSS_MEETINGS,
    WAITING,
    KnownHistory,
    local,
)

from models import Case, Meeting, User
from workflow.engine.processes import registry
from workflow.whatif.queries import load_history, months_ago
from workflow.whatif.replay import replay
from workflow.whatif.scenario import Scenario, parse_draft


def _history(session: Session) -> Any:
    return load_history(session, months_ago(NOW, 12), NOW)


def _replay_draft(session: Session, source: str) -> Any:
    """Replay the last 12 months with the definition `source` as the signature initiative's."""
    return replay(_history(session), Scenario(draft=parse_draft(source, registry.names(session))))


def test_shorter_tss_deadline_moves_exactly_the_cases_between_the_deadlines(
    session: Session,
    known_history: Callable[..., KnownHistory],
) -> None:
    known = known_history()
    result = replay(_history(session), Scenario(material_days={"TSS": 4}))

    assert result.cases == len(ON_TIME) + len(BETWEEN) + len(LATE)
    moved = result.moved_earlier
    assert sorted(m.case.id for m in moved) == sorted(known.cases[d].id for d in BETWEEN)
    assert {(m.body_code, m.state, m.meetings_earlier) for m in moved} == {("TSS", "at_tss", 1)}
    assert {m.today.date() for m in moved} == {date(2020, 11, 26)}
    assert {m.draft.date() for m in moved} == {date(2020, 10, 29)}
    assert result.moved_later == []

    counts = {(code, start.date()): (t, d) for code, start, t, d in result.meetings}
    assert counts[("TSS", date(2020, 10, 29))] == (2, 5)
    assert counts[("TSS", date(2020, 11, 26))] == (4, 1)
    # Today every case submitted after 19 October missed the next meeting's deadline; with
    # 4 working days only the one submitted on 26 October does.
    assert result.material_missed == (4, 1)

    stage = next(r for r in result.stages if r.key == ("signature_initiative", "at_tss"))
    assert stage.today_count == stage.draft_count == 6
    assert stage.draft_mean is not None and stage.today_mean is not None
    # Three cases wait four weeks (28 days) less each: the mean falls by 14 days.
    assert stage.change == -14.0
    tss = next(r for r in result.bodies if r.key == ("TSS",))
    assert tss.change == -14.0


def test_replay_without_changes_gives_the_history_back(
    session: Session,
    known_history: Callable[..., KnownHistory],
) -> None:
    known_history()
    result = replay(_history(session), Scenario())

    assert result.moved == []
    assert all(r.today_mean == r.draft_mean for r in (*result.stages, *result.bodies))
    assert all(t == d for _, _, t, d in result.meetings)
    assert result.material_missed[0] == result.material_missed[1]


def test_a_calendar_without_the_late_meeting_moves_its_cases_to_the_next(
    session: Session,
    known_history: Callable[..., KnownHistory],
) -> None:
    known = known_history()
    calendar = (date(2020, 10, 1), date(2020, 10, 29), date(2020, 12, 17))
    result = replay(_history(session), Scenario(calendars={"TSS": calendar}))

    later = result.moved_later
    assert sorted(m.case.id for m in later) == sorted(known.cases[d].id for d in (*BETWEEN, *LATE))
    assert {(m.draft.date(), m.meetings_earlier) for m in later} == {(date(2020, 12, 17), -1)}
    assert later[0].draft == local(date(2020, 12, 17), 13)


def test_replay_writes_nothing(
    session: Session,
    known_history: Callable[..., KnownHistory],
    footprint: Callable[[Case], dict[str, Any]],
) -> None:
    known = known_history()
    before = {day: footprint(case) for day, case in known.cases.items()}
    replay(_history(session), Scenario(material_days={"TSS": 4}))
    session.commit()
    assert {day: footprint(case) for day, case in known.cases.items()} == before


def test_a_draft_deadline_counts_the_stays_that_would_break_it(
    session: Session,
    known_history: Callable[..., KnownHistory],
    signature_draft: Callable[..., str],
) -> None:
    known_history()
    draft = signature_draft('deadline = { kind = "days_after_entry", days = 30 }')
    result = _replay_draft(session, draft)
    # TSS still decides at its meetings, so nothing moves; but the four cases decided on
    # 26 November stayed more than 30 days (submitted 20-26 October), the two of 29 October
    # fifteen days.
    assert result.moved == []
    assert result.breaches == [("signature_initiative", "at_tss", 0, len(BETWEEN) + len(LATE))]
    assert result.breach_totals == (0, 4)


def test_a_draft_without_a_transition_the_cases_took_stops_their_replay(
    session: Session,
    known_history: Callable[..., KnownHistory],
    signature_draft: Callable[..., str],
) -> None:
    known_history()
    draft = signature_draft("tss_indstil", old="tss_recommend", count=-1)
    result = _replay_draft(session, draft)
    # The stopped cases are left out of both sides: nothing is compared, and the page says why.
    assert result.stopped == {"transition": 6}
    assert (result.cases, result.stages, result.meetings) == (0, [], [])


def test_the_whatif_package_cannot_change_a_case() -> None:
    """The replay reads: no module of it imports the engine's writers or the unit of work."""
    import ast
    from pathlib import Path

    writers = {"workflow.engine.core", "workflow.engine.unit_of_work", "workflow.engine.deadlines"}
    package = Path(__file__).resolve().parents[2] / "workflow" / "whatif"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text(encoding="utf-8"))
        imported: set[str] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                base = node.module or ""
                imported |= {base} | {f"{base}.{alias.name}" for alias in node.names}
            elif isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
        assert not imported & writers, (module.name, imported & writers)
        assert "perform" not in module.read_text(encoding="utf-8"), module.name


def test_a_case_still_waiting_counts_at_the_meeting_it_is_planned_for(
    session: Session,
    known_history: Callable[..., KnownHistory],
) -> None:
    known = known_history(waiting=True)
    # An extra TSS meeting on 10 December: its materialefrist (8 working days) is 30 November,
    # the day the waiting case was submitted.
    calendar = (*TSS_MEETINGS, date(2020, 12, 10))
    result = replay(_history(session), Scenario(calendars={"TSS": tuple(sorted(calendar))}))

    [moved] = result.moved
    assert moved.case.id == known.cases[WAITING].id
    assert (moved.today.date(), moved.draft.date(), moved.meetings_earlier) == (
        date(2020, 12, 17), date(2020, 12, 10), 1,
    )  # fmt: skip
    counts = {(code, start.date()): (t, d) for code, start, t, d in result.meetings}
    assert counts[("TSS", date(2020, 12, 10))] == (0, 1)
    assert counts[("TSS", date(2020, 12, 17))] == (1, 0)
    # Still waiting, it has no lead time yet: the six decided cases make the mean either way.
    stage = next(r for r in result.stages if r.key == ("signature_initiative", "at_tss"))
    assert (stage.today_count, stage.draft_count, stage.change) == (6, 6, 0.0)


def test_a_records_only_event_does_not_enter_the_state_again(
    session: Session,
    make_case: Callable[..., Case],
    make_user: Callable[..., User],
    make_meeting: Callable[..., Meeting],
) -> None:
    """Recording the KKR dialogue (records_only) is no move: the plan's stay in the dialogue
    runs from SKU's discussion to the dialogue's close, in the history and in the replay."""
    from support.formandskab import decide

    from workflow.engine import clock

    clock.set_time(local(date(2020, 6, 2)))
    case = make_case("implementation_plan", origin="TSS", plan_year=2021)
    decide(case, "submit_for_discussion", make_user("chair@TSS"))
    clock.set_time(local(date(2020, 6, 25), 15))
    sku = make_meeting("SKU", local(date(2020, 6, 25), 13))
    decide(case, "discuss", make_user("secretariat@SKU"), data={"meeting_id": sku.id})
    tss = make_user("secretariat@TSS")
    clock.set_time(local(date(2020, 8, 24)))
    decide(
        case,
        "record_kkr_dialogue",
        tss,
        data={
            "dialogue_on": "2020-08-20",
            "dialogue_participants": "KKR Hovedstadens formandskab",
            "dialogue_outcome": "Kommunerne tilslutter sig planen.",
        },
    )
    clock.set_time(local(date(2020, 9, 4)))
    decide(case, "conclude_dialogue", tss)
    clock.set_time(NOW)

    history = _history(session)
    [row] = [c for c in history.cases if c.id == case.id]
    assert [m.trigger for m in row.moves] == [
        "create", "submit_for_discussion", "discuss", "conclude_dialogue"
    ]  # fmt: skip
    result = replay(history, Scenario())
    stage = next(r for r in result.stages if r.key == ("implementation_plan", "kkr_dialogue"))
    # One stay of 71 days (25 June to 4 September, 15:00 to 10:00), not two.
    assert (stage.today_count, stage.draft_count) == (1, 1)
    assert stage.today_mean == stage.draft_mean == 70.8
