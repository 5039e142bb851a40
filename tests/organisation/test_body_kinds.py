"""Processes follow the organisation by body kind: a definition that names SKU and TSS by
their kinds ([body_kinds]) reaches, for each case and day, the political body and the steering
group above the body that raised it, as the structure stood that day; and a plan moves
in-flight cases to a changed definition's new version ([[versions]])."""

from __future__ import annotations

import shutil
from datetime import UTC, date, datetime

from sqlalchemy import func, select
from support.formandskab import decide
from test_reorganise import PLAN, write_plan  # the small test plan: SKU split, TSS replaced

from models import Body, BodyKind, Case, CaseEvent
from workflow.engine import audit, clock
from workflow.engine import core as engine
from workflow.engine.processes import ProcessRegistry, registry
from workflow.organisation import operations, reorganise

BEFORE, AFTER, LATER = date(2020, 6, 1), date(2021, 3, 1), date(2021, 7, 1)


def test_the_shipped_definitions_name_sku_and_tss_by_their_kind(session):
    for process in ("signature_initiative", "joint_agreement", "development_task"):
        kinds = registry.latest(session, process).body_kinds
        assert kinds == {"SKU": "political", "TSS": "steering"}, process
    assert registry.latest(session, "implementation_plan").body_kinds == {
        "SKU": "political", "TSS": "steering",
    }  # fmt: skip
    assert registry.latest(session, "forum_matter").body_kinds == {"TSS": "steering"}


def test_named_bodies_follow_the_structure_of_the_day(session, tmp_path, make_case, make_user):
    submitter = make_user("chair@SU-NORD-SOM")
    case = make_case(title="Nordlig indsats")
    decide(case, "submit", submitter)  # with the other co-chair
    assert case.current_body.code == "TSS"
    # Before any reorganisation: SU-NORD-SOM lies under TSS, which lies under SKU.
    assert engine.named_body(session, case, "SKU").code == "SKU"
    assert engine.named_body(session, case, "TSS").code == "TSS"

    operations.apply_plan(
        session, reorganise.load_plan(write_plan(tmp_path)), make_user(is_admin=True)
    )
    assert case.current_body.code == "NY-TSS"
    # On a day before the effective date the structure of that day answers; after it, SU-NORD-
    # SOM's new sundhedsråd, and the steering group that took over from TSS.
    assert engine.named_body(session, case, "SKU", BEFORE).code == "SKU"
    assert engine.named_body(session, case, "TSS", BEFORE).code == "TSS"
    assert engine.named_body(session, case, "SKU", AFTER).code == "SR-B"
    assert engine.named_body(session, case, "TSS", AFTER).code == "NY-TSS"

    # A sundhedsråd set up later, outside any plan (no succession from SKU), takes SU-NORD-SOM
    # under it: by kind the case's political body is the new one from that day.
    new_council = Body(
        code="SR-C", name="Sundhedsråd C", kind=BodyKind.POLITICAL, valid_from=date(2021, 6, 1)
    )
    session.add(new_council)
    session.flush()
    su = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
    su.place_under(new_council, date(2021, 6, 1))
    session.commit()
    sku = session.scalar(select(Body).where(Body.code == "SKU"))
    assert engine.successor_for(session, case, sku, LATER).code == "SR-B"  # by succession
    assert engine.named_body(session, case, "SKU", AFTER).code == "SR-B"
    assert engine.named_body(session, case, "SKU", LATER).code == "SR-C"

    # The same definition runs: the steering group recommends, the case goes to SR-C.
    clock.set_time(datetime(2021, 7, 1, 9, 0, tzinfo=UTC))
    decide(case, "tss_recommend", make_user("chair@NY-TSS"))  # at a meeting: its terms say
    assert (case.state, case.current_body.code) == ("at_sku", "SR-C")
    # Only SR-C's chairs decide it now; SR-B's may not.
    allowed = {t.trigger for t in engine.allowed_triggers(case, make_user("chair@SR-C"))}
    assert {"sku_approve", "sku_reject", "sku_postpone", "sku_return"} <= allowed
    assert not engine.allowed_triggers(case, make_user("chair@SR-B"))
    assert audit.verify(session).problems == []


def test_a_body_raised_outside_the_line_falls_back_to_the_named_body(
    session, body, make_case, make_user
):
    """PPU has no parent: a case it raised reaches SKU itself, as before body kinds."""
    # PPU may no longer start a process (started_by), but a case it raised earlier remains.
    case = make_case("joint_agreement", title="Fra PPU", origin="TSS", state="terms_of_reference")
    case.originating_body_id = body("PPU").id
    session.flush()
    session.refresh(case)
    assert engine.named_body(session, case, "SKU").code == "SKU"
    assert engine.named_body(session, case, "TSS").code == "TSS"


CHANGED = "# Version 2 (test): the same states.\n"


def test_a_plan_moves_in_flight_cases_to_a_changed_definitions_new_version(
    session, tmp_path, states_dir, make_case, make_user
):
    in_flight = make_case(title="I gang", state="at_sku")
    old_version = in_flight.process_version
    copy = tmp_path / "states"
    shutil.copytree(states_dir, copy)
    path = copy / "signature_initiative.toml"
    path.write_text(CHANGED + path.read_text(encoding="utf-8"), encoding="utf-8")
    ProcessRegistry(directory=copy).sync(session)
    session.commit()
    new_version = registry.latest(session, "signature_initiative").version
    assert new_version == old_version + 1

    plan_text = PLAN + '\n[[versions]]\nprocess = "signature_initiative"\n'
    plan = reorganise.load_plan(write_plan(tmp_path, plan_text))
    dry = reorganise.preview(session, plan)
    assert (in_flight.id, "signature_initiative", old_version, new_version, "at_sku", "at_sku") in (
        dry.versions_moved
    )
    assert any(
        line.strip() == f"sag #{in_flight.id} (signature_initiative): version {old_version} → "
        f"{new_version}, at_sku → at_sku"
        for line in reorganise.describe(dry)
    )
    operations.apply_plan(session, plan, make_user(is_admin=True))
    case = session.get(Case, in_flight.id)
    assert (case.process_version, case.state, case.current_body.code) == (
        new_version, "at_sku", "SR-B",
    )  # fmt: skip
    triggers = list(
        session.scalars(
            select(CaseEvent.trigger).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
        )
    )
    assert triggers[-2:] == ["migrate_version", "reorganise"]
    assert audit.verify(session).problems == []


def test_a_version_mapping_to_a_state_the_new_version_lacks_is_a_gap(
    session, tmp_path, states_dir, make_case
):
    in_flight = make_case(title="I gang", state="at_sku")
    copy = tmp_path / "states"
    shutil.copytree(states_dir, copy)
    path = copy / "signature_initiative.toml"
    path.write_text(CHANGED + path.read_text(encoding="utf-8"), encoding="utf-8")
    ProcessRegistry(directory=copy).sync(session)
    session.commit()
    plan_text = (
        PLAN + '\n[[versions]]\nprocess = "signature_initiative"\nstates = { at_sku = "nowhere" }\n'
    )
    gaps = reorganise.preview(session, reorganise.load_plan(write_plan(tmp_path, plan_text))).gaps
    assert any(da.startswith(f"Sag #{in_flight.id} 'I gang'") for da, _ in gaps)
    assert any("tilstanden nowhere findes ikke i version" in da for da, _ in gaps)
    assert (
        session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.trigger == "reorganise"))
        == 0
    )
