"""Implementation per unit: units from the scope, audited reports, follow-ups, completion."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from support.formandskab import decide

from models import (
    Body,
    CaseEvent,
    Deadline,
    DeadlineKind,
    ImplementationState,
    ImplementationStatus,
)
from workflow.engine import actions, clock
from workflow.engine.errors import GuardFailed, InvalidTrigger, NotAllowed, WorkflowError
from workflow.implementation import operations as implementation
from workflow.implementation import queries as implementation_queries

SOMATIC_HOSPITALS = {"HOSP-NOH", "HOSP-HGH", "HOSP-AHH", "HOSP-BFH", "HOSP-RH", "HOSP-BOH"}


@pytest.fixture
def implementing(make_case, session):
    """A signature initiative from SU-NORD-SOM in implementation, with its units."""

    def create(origin="SU-NORD-SOM", areas=None, **fields):
        case = make_case(origin=origin, state="implementation", **fields)
        implementation.create_units(session, case, None, clock.now(), areas)
        session.commit()
        return case

    return create


def units_by_code(session, case):
    return {u.party.code: u for u in implementation.units_of(session, case)}


def follow_ups(session, case):
    return session.scalars(
        select(Deadline)
        .where(Deadline.case_id == case.id, Deadline.kind == DeadlineKind.FOLLOW_UP)
        .order_by(Deadline.id)
    ).all()


def deadlines_of(session, case, code):
    return [d for d in follow_ups(session, case) if body_code(session, d.body_id) == code]


def body_code(session, body_id):
    return session.get(Body, body_id).code


def test_units_cover_all_29_municipalities_the_hospitals_and_general_practice(
    implementing, session
):
    case = implementing()
    units = units_by_code(session, case)
    municipalities = [c for c in units if c.startswith("KOM-")]
    assert len(municipalities) == 29
    assert set(units) >= SOMATIC_HOSPITALS
    assert "HOSP-PSYK" not in units
    assert "PLO-H" in units
    assert len(units) == 29 + len(SOMATIC_HOSPITALS) + 1
    assert body_code(session, units["KOM-HILLEROED"].responsible_body_id) == "SU-NORD-SOM"
    assert body_code(session, units["KOM-HVIDOVRE"].responsible_body_id) == "SU-SYD-SOM"
    assert body_code(session, units["KOM-BORNHOLM"].responsible_body_id) == "SU-BORNHOLM"
    assert body_code(session, units["PLO-H"].responsible_body_id) == "TSS"
    assert all(u.status == ImplementationState.NOT_STARTED for u in units.values())


def test_units_are_created_once_and_audited(implementing, session):
    case = implementing()
    again = implementation.create_units(session, case, None, clock.now())
    assert again == []
    events = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == implementation.UNITS_TRIGGER
        )
    ).all()
    assert len(events) == 1
    assert "36 enheder" in events[0].comment


def test_a_chosen_scope_limits_the_units_to_its_planning_areas(implementing, session):
    case = implementing(areas=["NORD"])
    units = units_by_code(session, case)
    assert {c for c in units if c.startswith("KOM-")} == {
        "KOM-ALLEROED", "KOM-EGEDAL", "KOM-FREDENSBORG", "KOM-FREDERIKSSUND", "KOM-GRIBSKOV",
        "KOM-HALSNAES", "KOM-HELSINGOER", "KOM-HILLEROED", "KOM-HOERSHOLM",
    }  # fmt: skip
    assert {c for c in units if c.startswith("HOSP")} == {"HOSP-NOH"}


def test_the_case_can_name_its_scope(make_case, session):
    case = make_case(state="implementation")
    case.extra = {implementation.SCOPE_KEY: "byen, Bornholm"}
    session.commit()
    implementation.create_units(session, case, None, clock.now())
    codes = {u.party.code for u in implementation.units_of(session, case)}
    assert {"KOM-KOEBENHAVN", "KOM-FREDERIKSBERG", "KOM-BORNHOLM", "HOSP-RH"} <= codes
    assert "KOM-HILLEROED" not in codes


def test_an_unknown_planning_area_is_refused_by_name(make_case, session):
    case = make_case(state="implementation")
    with pytest.raises(GuardFailed, match="Planområdet VEST findes ikke"):
        implementation.create_units(session, case, None, clock.now(), ["VEST"])


def test_sku_chooses_the_scope_when_it_approves(make_case, session, make_user):
    case = make_case(state="at_sku")
    decide(case, "sku_approve", make_user("chair@SKU"), data={"implementation_scope": "nord"})
    assert case.extra[implementation.SCOPE_KEY] == "nord"
    expected = implementation.scope_parties(session, case, ["NORD"])
    units = units_by_code(session, case)
    assert set(units) == {p.code for p in expected}
    assert {c for c in units if c.startswith("HOSP")} == {"HOSP-NOH"}
    assert "KOM-KOEBENHAVN" not in units and "PLO-H" in units
    [created] = session.scalars(
        select(CaseEvent).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == implementation.UNITS_TRIGGER
        )
    ).all()
    assert created.comment == f"{len(expected)} enheder skal implementere sagen (NORD)."


def test_an_unknown_scope_at_approval_writes_nothing(make_case, session, make_user):
    case = make_case(state="at_sku")
    version = case.version
    with pytest.raises(GuardFailed) as refused:
        decide(
            case, "sku_approve", make_user("chair@SKU"), data={"implementation_scope": "NORD, VEST"}
        )
    assert "Planområdet VEST findes ikke" in refused.value.message
    session.refresh(case)
    assert (case.state, case.version) == ("at_sku", version)
    assert implementation.SCOPE_KEY not in case.extra
    assert implementation.units_of(session, case) == []


def test_a_psychiatric_case_is_carried_by_the_psychiatric_committees(implementing, session):
    case = implementing(origin="SU-NORD-PSYK")
    units = units_by_code(session, case)
    assert {c for c in units if c.startswith("HOSP")} == {"HOSP-PSYK"}
    assert body_code(session, units["HOSP-PSYK"].responsible_body_id) == "SU-PSYK-REG"
    assert body_code(session, units["KOM-HILLEROED"].responsible_body_id) == "SU-NORD-PSYK"


def test_each_responsible_body_gets_a_follow_up_deadline_after_n_months(implementing, session):
    case = implementing()
    deadlines = follow_ups(session, case)
    bodies = {body_code(session, d.body_id) for d in deadlines}
    assert bodies == {
        "SU-NORD-SOM", "SU-MIDT-SOM", "SU-SYD-SOM", "SU-BYEN-SOM", "SU-BORNHOLM", "TSS",
    }  # fmt: skip
    # follow_up_months = 6 for signature initiatives: 1 September → 1 March.
    assert {d.due_at.astimezone(clock.LOCAL_TZ).date() for d in deadlines} == {date(2021, 3, 1)}
    assert all(d.reminder_days == implementation.FOLLOW_UP_REMINDER_DAYS for d in deadlines)


def test_a_report_is_an_audited_event_without_a_state_change(implementing, session, make_user):
    case = implementing()
    reporter = make_user("member@SU-SYD-SOM")
    unit = next(u for u in implementation.units_of(session, case) if u.party.code == "KOM-HVIDOVRE")
    version, state = case.version, case.state
    result = implementation.report_unit(
        session, unit.id, reporter, status="in_progress", started_on=date(2020, 8, 15)
    )
    assert result.event.trigger == implementation.REPORT_TRIGGER
    assert result.event.actor_id == reporter.id
    assert result.event.data["status"] == "in_progress"
    assert result.event.data["previous"] == "not_started"
    assert "Hvidovre Kommune: I gang" in result.event.comment
    assert result.completed is None
    session.refresh(case)
    assert (case.state, case.version) == (state, version)
    assert unit.started_on == date(2020, 8, 15)


def test_not_relevant_needs_a_reason(implementing, session, make_user):
    case = implementing()
    reporter = make_user("secretariat@SU-BORNHOLM")
    unit = next(u for u in implementation.units_of(session, case) if u.party.code == "KOM-BORNHOLM")
    with pytest.raises(GuardFailed) as refused:
        implementation.report_unit(session, unit.id, reporter, status="not_relevant", reason=" ")
    assert "begrundelse" in refused.value.message
    session.refresh(unit)
    assert unit.status == ImplementationState.NOT_STARTED
    result = implementation.report_unit(
        session, unit.id, reporter, status="not_relevant", reason="Ingen akutfunktion på øen."
    )
    assert result.event.data["reason"] == "Ingen akutfunktion på øen."
    assert unit.status == ImplementationState.NOT_RELEVANT


def test_the_database_also_refuses_not_relevant_without_a_reason(implementing, session):
    case = implementing()
    unit = implementation.units_of(session, case)[0]
    unit.status = ImplementationState.NOT_RELEVANT
    unit.reason = ""
    with pytest.raises(IntegrityError):
        session.flush()
    session.rollback()


def test_dates_in_the_future_or_out_of_order_are_refused(implementing, session, make_user):
    case = implementing()
    reporter = make_user("secretariat@TSS")
    unit = implementation.units_of(session, case)[0]
    with pytest.raises(GuardFailed, match="ligger i fremtiden"):
        implementation.report_unit(
            session, unit.id, reporter, status="implemented", implemented_on=date(2021, 1, 1)
        )
    with pytest.raises(GuardFailed, match="før startdatoen"):
        implementation.report_unit(
            session, unit.id, reporter, status="implemented",
            started_on=date(2020, 8, 1), implemented_on=date(2020, 7, 1),
        )  # fmt: skip


def test_only_the_responsible_body_or_the_secretariat_may_report(implementing, session, make_user):
    case = implementing()
    unit = next(u for u in implementation.units_of(session, case) if u.party.code == "KOM-HVIDOVRE")
    with pytest.raises(NotAllowed, match="SU-SYD-SOM"):
        implementation.report_unit(
            session, unit.id, make_user("member@SU-NORD-SOM"), status="in_progress"
        )
    with pytest.raises(NotAllowed):
        implementation.report_unit(
            session, unit.id, make_user("observer@SU-SYD-SOM"), status="in_progress"
        )
    implementation.report_unit(session, unit.id, make_user("secretariat@TSS"), status="in_progress")


def test_no_reports_once_the_case_has_left_implementation(implementing, session, make_user):
    case = implementing()
    unit = implementation.units_of(session, case)[0]
    case.state = "follow_up"
    session.commit()
    with pytest.raises(InvalidTrigger, match="ikke under implementering"):
        implementation.report_unit(
            session, unit.id, make_user("secretariat@TSS"), status="in_progress"
        )


def test_implementation_completes_only_when_every_unit_has_reported(
    implementing, session, make_user
):
    case = implementing()
    secretariat = make_user("secretariat@SU-NORD-SOM")
    units = implementation.units_of(session, case)
    last, others = units[-1], units[:-1]
    for number, unit in enumerate(others):
        if number % 5 == 0:
            implementation.report_unit(
                session, unit.id, secretariat, status="not_relevant", reason="Ingen målgruppe."
            )
        else:
            implementation.report_unit(session, unit.id, secretariat, status="implemented")
    assert case.state == "implementation"
    with pytest.raises(GuardFailed, match=re.escape(last.party.name)):
        decide(case, "report_implemented", secretariat)
    result = implementation.report_unit(session, last.id, secretariat, status="implemented")
    assert result.progress.complete
    assert result.completed is not None
    assert result.completed.trigger == "report_implemented"
    assert case.state == "follow_up"
    assert all(not d.is_open for d in follow_ups(session, case))


def test_when_the_reporter_may_not_move_the_case_on_it_waits(implementing, session, make_user):
    case = implementing(origin="SU-MIDT-SOM")
    # TSS's secretariat may report every unit; moving a SU's initiative on is the SU's call
    # or TSS's secretariat's, so use a member of the responsible SU for the last unit.
    tss = make_user("secretariat@TSS")
    units = implementation.units_of(session, case)
    last = next(u for u in units if body_code(session, u.responsible_body_id) == "SU-SYD-SOM")
    for unit in units:
        if unit.id != last.id:
            implementation.report_unit(session, unit.id, tss, status="implemented")
    result = implementation.report_unit(
        session, last.id, make_user("member@SU-SYD-SOM"), status="implemented"
    )
    assert result.progress.complete
    assert result.completed is None
    assert case.state == "implementation"
    # The guard now holds, so the responsible secretariat can move it on.
    decide(case, "report_implemented", make_user("secretariat@SU-MIDT-SOM"))
    assert case.state == "follow_up"


def test_a_body_round_closes_when_all_its_units_have_reported(implementing, session, make_user):
    case = implementing()
    secretariat = make_user("secretariat@SU-NORD-SOM")
    nord = [
        u
        for u in implementation.units_of(session, case)
        if body_code(session, u.responsible_body_id) == "SU-NORD-SOM"
    ]
    clock.advance(timedelta(days=150))
    for unit in nord[:-1]:
        implementation.report_unit(session, unit.id, secretariat, status="in_progress")
    assert [d.is_open for d in deadlines_of(session, case, "SU-NORD-SOM")] == [True]
    implementation.report_unit(session, nord[-1].id, secretariat, status="in_progress")
    nord_deadlines = deadlines_of(session, case, "SU-NORD-SOM")
    assert [d.is_open for d in nord_deadlines] == [False, True]
    # The next round keeps the cadence: six months after the round that was answered.
    assert nord_deadlines[1].due_at.astimezone(clock.LOCAL_TZ).date() == date(2021, 9, 1)


def test_a_body_whose_units_are_all_done_has_no_open_follow_up(implementing, session, make_user):
    case = implementing()
    secretariat = make_user("secretariat@SU-BORNHOLM")
    for unit in implementation.units_of(session, case):
        if body_code(session, unit.responsible_body_id) == "SU-BORNHOLM":
            implementation.report_unit(session, unit.id, secretariat, status="implemented")
    bornholm = deadlines_of(session, case, "SU-BORNHOLM")
    assert [d.is_open for d in bornholm] == [False]


def test_the_on_enter_action_creates_the_units(make_case, session):
    case = make_case(process="development_task", state="spreading")
    actions.run_on_enter(session, case, ["create_implementation_units"], None, clock.now())
    assert len(implementation.units_of(session, case)) == 36
    actions.run_on_enter(session, case, ["close_follow_ups"], None, clock.now())
    assert all(not d.is_open for d in follow_ups(session, case))


def test_ensure_units_is_for_the_secretariat_of_a_case_in_implementation(
    make_case, session, make_user
):
    case = make_case(state="implementation")
    with pytest.raises(NotAllowed):
        implementation.ensure_units(session, case, make_user("member@SU-MIDT-SOM"))
    created = implementation.ensure_units(session, case, make_user("secretariat@SU-NORD-SOM"))
    assert len(created) == 36
    draft = make_case()
    with pytest.raises(InvalidTrigger):
        implementation.ensure_units(session, draft, make_user("secretariat@SU-NORD-SOM"))


def test_spread_overview_is_units_by_initiatives(implementing, session, make_user):
    first = implementing(title="Akutfunktioner")
    second = implementing(areas=["BYEN"], title="Sårbare gravide")
    reporter = make_user("secretariat@TSS")
    unit = units_by_code(session, second)["KOM-KOEBENHAVN"]
    implementation.report_unit(session, unit.id, reporter, status="implemented")
    overview = implementation_queries.spread_overview(session)
    ids = [c.case.id for c in overview.columns]
    assert ids == sorted([first.id, second.id])
    index = ids.index(second.id)
    row = next(r for r in overview.rows if r.party.code == "KOM-KOEBENHAVN")
    assert row.cells[index].status == ImplementationState.IMPLEMENTED
    hilleroed = next(r for r in overview.rows if r.party.code == "KOM-HILLEROED")
    assert hilleroed.cells[index] is None
    assert overview.columns[index].progress.implemented == 1


def test_the_last_report_and_the_transition_it_completes_are_one_transaction(
    implementing, session, make_user, monkeypatch
):
    case = implementing()
    secretariat = make_user("secretariat@SU-NORD-SOM")
    units = implementation.units_of(session, case)
    last = units[-1]
    for unit in units[:-1]:
        implementation.report_unit(session, unit.id, secretariat, status="implemented")

    def broken(context):
        raise WorkflowError("Opfølgningen kunne ikke startes.", "The follow-up failed.")

    # Entering follow-up fails, so the transition the last report fires is rolled back ...
    monkeypatch.setitem(actions.ACTIONS, "close_follow_ups", broken)
    reports_before = _reports(session, case)
    with pytest.raises(WorkflowError, match="kunne ikke startes"):
        implementation.report_unit(session, last.id, secretariat, status="implemented")
    # ... and the report with it: no event, the unit as it was, the follow-ups still open.
    assert _reports(session, case) == reports_before
    session.expire_all()
    assert session.get(ImplementationStatus, last.id).status == ImplementationState.NOT_STARTED
    assert case.state == "implementation"
    assert any(d.is_open for d in follow_ups(session, case))


def _reports(session, case):
    return session.scalar(
        select(func.count()).where(
            CaseEvent.case_id == case.id, CaseEvent.trigger == implementation.REPORT_TRIGGER
        )
    )
