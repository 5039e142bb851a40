"""The real 2027 plan (data/reorganisations/sundhedsreform-2027.toml) on the real organisation
and the demo's cases: the dry run lists exactly the moves the demo's data calls for, and
applying it moves every open case, keeps every closed case and its history under its old body,
recomputes deadlines, ends and starts meeting series, carries or ends memberships, writes one
audited event per moved case, passes `audit verify` and changes nothing a second time.

The demo is built once per module (per xdist worker) inside a transaction rolled back after."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import (
    Body,
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Reorganisation,
    Role,
    User,
)
from workflow import demo
from workflow.engine import audit, clock
from workflow.engine import core as engine
from workflow.organisation import operations, reorganise

START = datetime(2020, 9, 1, 8, 0, tzinfo=UTC)
LAST_DAY = date(2026, 12, 31)
EFFECTIVE = date(2027, 1, 1)
CLOSING = ("SKU", "TSS")
# What the plan says, read by a person: TSS's work goes to the steering group; SKU's to the
# sundhedsråd above the body that raised the case (its [[reparent]] lists), the annual
# implementation plan and everything else to Sundhedsråd Byen, the first successor.
SKU_BY_ORIGIN = {
    "SU-NORD-SOM": "SR-NORD",
    "SU-NORD-PSYK": "SR-NORD",
    "SU-MIDT-SOM": "SR-MIDT",
    "SU-MIDT-PSYK": "SR-MIDT",
    "SU-SYD-SOM": "SR-SYD",
    "SU-SYD-PSYK": "SR-SYD",
    "SU-BORNHOLM": "SR-BORNHOLM",
}


def expected_home(process: str, code: str, origin: str) -> str:
    if code == "TSS":
        return "STYR-OEST"
    if code == "SKU":
        return (
            "SR-BYEN" if process == "implementation_plan" else SKU_BY_ORIGIN.get(origin, "SR-BYEN")
        )
    return code


@pytest.fixture(scope="module")
def demo_db(db_engine: Engine) -> Iterator[Session]:
    """The demo's organisation, people, meetings and cases, built once for the module."""
    clock.set_time(START)
    connection = db_engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    demo.run(session)
    yield session
    session.close()
    transaction.rollback()
    connection.close()
    clock.set_time(None)


@pytest.fixture
def db(demo_db: Session) -> Iterator[Session]:
    """The module's demo database, each test's changes rolled back to a savepoint."""
    nested = demo_db.begin_nested()
    yield demo_db
    if nested.is_active:
        nested.rollback()
    demo_db.expire_all()


def plan() -> reorganise.Plan:
    return reorganise.load_plan(reorganise.find_plan("sundhedsreform-2027"))


def codes(db: Session) -> dict[int, str]:
    return dict(db.execute(select(Body.id, Body.code)).tuples().all())


def is_open(case: Case) -> bool:
    return not engine.definition_of(case).states[case.state].final


def held_by_closing(db: Session) -> list[Case]:
    ids = list(db.scalars(select(Body.id).where(Body.code.in_(CLOSING))))
    return list(
        db.scalars(
            select(Case)
            .where(Case.current_body_id.in_(ids) | Case.originating_body_id.in_(ids))
            .order_by(Case.id)
        )
    )


def expected_moves(db: Session) -> set[tuple[int, str, str, str, str]]:
    code_of = codes(db)
    moves = set()
    for case in held_by_closing(db):
        if not is_open(case):
            continue
        current, origin = code_of[case.current_body_id], code_of[case.originating_body_id]
        moves.add(
            (
                case.id,
                current,
                expected_home(case.process, current, origin),
                origin,
                expected_home(case.process, origin, origin),
            )
        )
    return moves


def admin(db: Session) -> User:
    found = db.scalar(select(User).where(User.email == f"admin@{demo.MAIL_DOMAIN}"))
    assert found is not None and found.is_admin
    return found


def test_the_dry_run_lists_exactly_the_moves_of_the_demo(db):
    expected = expected_moves(db)
    # The demo has open cases at both closing bodies and raised from several places (and two
    # raised by TSS that stay where they are, only their origin moving: one now before PPU, and
    # a joint agreement in consultation with SU-SYD-SOM, which TSS chose to draft it (type A:
    # the case follows its drafting body)).
    assert {move[1] for move in expected} == {"SKU", "TSS", "PPU", "SU-SYD-SOM"}
    assert len({move[2] for move in expected}) >= 3

    result = reorganise.preview(db, plan())

    assert result.gaps == []
    listed = {(m.case_id, m.from_body, m.to_body, m.from_origin, m.to_origin) for m in result.moves}
    assert listed == expected
    closed = [c for c in held_by_closing(db) if not is_open(c)]
    assert closed and result.kept_closed == len(closed)
    lines = reorganise.describe(result)
    for move in result.moves:
        assert any(
            line.strip().startswith(f"sag #{move.case_id} ({move.process}: {move.state}): "
                                    f"{move.from_body} → {move.to_body}")
            for line in lines
        )  # fmt: skip
    assert lines[-1] == "Planen kan gennemføres: alle sager, frister og medlemskaber har et hjem."


def test_applying_the_demo_plan_moves_the_open_cases_and_keeps_history(db):
    expected = expected_moves(db)
    dry = reorganise.preview(db, plan())
    code_of = codes(db)
    closed_before = {
        case.id: (
            code_of[case.current_body_id],
            code_of[case.originating_body_id],
            [e.hash for e in db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))],
        )
        for case in held_by_closing(db)
        if not is_open(case)
    }
    closing_ids = {code: db.scalar(select(Body.id).where(Body.code == code)) for code in CLOSING}
    memberships_before = [
        (m.id, m.user_id, m.role, code_of[m.body_id])
        for m in db.scalars(
            select(Membership).where(
                Membership.body_id.in_(closing_ids.values()), Membership.active
            )
        )
    ]
    assert {code for *_rest, code in memberships_before} == {"SKU", "TSS"}
    series_before = list(
        db.scalars(select(MeetingSeries.id).where(MeetingSeries.body_id.in_(closing_ids.values())))
    )

    applied = operations.apply_plan(db, plan(), admin(db))

    assert applied.cases_moved == len(expected)
    code_of = codes(db)
    # Every open case has its new home; none is left with SKU or TSS.
    for case_id, _old, new, _old_origin, new_origin in expected:
        case = db.get(Case, case_id)
        assert (code_of[case.current_body_id], code_of[case.originating_body_id]) == (
            new, new_origin,
        )  # fmt: skip
    assert [c.id for c in held_by_closing(db) if is_open(c)] == []
    # Every closed case stays with its old body, its history untouched.
    for case_id, (current, origin, hashes) in closed_before.items():
        case = db.get(Case, case_id)
        assert (code_of[case.current_body_id], code_of[case.originating_body_id]) == (
            current, origin,
        )  # fmt: skip
        events = db.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id))
        assert [e.hash for e in events] == hashes
    # One audited event per moved case, naming the move.
    moved = Counter(
        db.scalars(
            select(CaseEvent.case_id).where(
                CaseEvent.trigger == "reorganise",
                CaseEvent.case_id.in_([m[0] for m in expected]),
            )
        )
    )
    assert moved == Counter({m[0]: 1 for m in expected})
    # Deadlines recomputed at the new body, as the dry run said.
    for move in dry.moves:
        open_deadlines = list(
            db.scalars(
                select(Deadline).where(
                    Deadline.case_id == move.case_id,
                    Deadline.met_at.is_(None),
                    Deadline.cancelled_at.is_(None),
                    Deadline.kind != DeadlineKind.FOLLOW_UP,
                )
            )
        )
        assert {code_of[d.body_id] for d in open_deadlines} <= {move.to_body}
        if move.deadline_after is not None:
            assert move.deadline_after in {d.due_at for d in open_deadlines}
    assert not db.scalar(
        select(func.count(Deadline.id)).where(
            Deadline.body_id.in_(closing_ids.values()),
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
    )
    # Meeting series: the closing bodies' end the day before, the new bodies' start.
    for series_id in series_before:
        assert db.get(MeetingSeries, series_id).valid_to == LAST_DAY
    started = {
        code_of[s.body_id]
        for s in db.scalars(select(MeetingSeries).where(MeetingSeries.valid_from == EFFECTIVE))
    }
    assert started == {spec.body for spec in plan().series}
    assert not db.scalar(
        select(func.count(Meeting.id)).where(
            Meeting.body_id.in_(closing_ids.values()),
            Meeting.starts_at >= datetime(2027, 1, 1, tzinfo=UTC),
            Meeting.status != MeetingStatus.CANCELLED,
        )
    )
    # Memberships: each of SKU's and TSS' ends the day before; TSS' and SKU's secretariat
    # carry on in the steering group and Sundhedsråd Byen from the effective date.
    for membership_id, user_id, role, code in memberships_before:
        old = db.get(Membership, membership_id)
        assert (old.active, old.until) == (False, LAST_DAY)
        target = "STYR-OEST" if code == "TSS" else "SR-BYEN" if role == Role.SECRETARIAT else None
        if target is not None:
            carried = db.scalar(
                select(Membership).where(
                    Membership.user_id == user_id,
                    Membership.role == role,
                    Membership.body_id == db.scalar(select(Body.id).where(Body.code == target)),
                )
            )
            assert carried is not None and carried.active and carried.since == EFFECTIVE
    assert audit.verify(db).problems == []

    # Applying twice changes nothing.
    counts = {
        model: db.scalar(select(func.count()).select_from(model))
        for model in (CaseEvent, Deadline, Membership, MeetingSeries, Meeting, Body, Reorganisation)
    }
    again = operations.apply_plan(db, plan(), admin(db))
    assert again.already_applied and again.cases_moved == 0
    assert counts == {model: db.scalar(select(func.count()).select_from(model)) for model in counts}
    assert reorganise.preview(db, plan()).already_applied
