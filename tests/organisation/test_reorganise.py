"""A reorganisation plan: the dry run lists exactly what moves, a plan with gaps is refused with
each gap named, applying moves open cases, deadlines, memberships and meeting series (history
intact, audit verified), and applying twice changes nothing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from support.formandskab import decide

from models import (
    AdminAuditEntry,
    Body,
    BodySuccession,
    Case,
    CaseEvent,
    Deadline,
    DeadlineKind,
    Meeting,
    MeetingSeries,
    MeetingStatus,
    Membership,
    Notification,
    Party,
    Reorganisation,
    Role,
)
from workflow import scheduler
from workflow.engine import audit, clock
from workflow.engine import core as engine
from workflow.engine.clock import LOCAL_TZ
from workflow.engine.errors import NotAllowed
from workflow.engine.unit_of_work import unit_of_work
from workflow.ops import queries as ops
from workflow.organisation import operations, queries, reorganise
from workflow.organisation.reorganise import PlanError
from workflow.scheduler import SchedulerConfig

NEW_ORGANISATION = """
[[planning_areas]]
code = "OEST-X"
name = "Planområde Øst (test)"

[[parties]]
code = "KOM-TESTRUP"
name = "Testrup Kommune"
kind = "municipality"
planning_area = "OEST-X"

[[bodies]]
code = "NY-TSS"
name = "Ny styregruppe"
kind = "steering"
material_deadline_days = 8

[[bodies]]
code = "SR-A"
name = "Sundhedsråd A"
kind = "political"

[[bodies]]
code = "SR-B"
name = "Sundhedsråd B"
kind = "political"
planning_area = "NORD"
"""

PLAN = """
name = "test-reform"
title = "Testreform"
effective = 2021-01-01
organisation = "org.toml"
end_parties = ["REGION-H"]

[[close]]
body = "SKU"
successors = ["SR-A", "SR-B"]

[[close]]
body = "TSS"
successors = ["NY-TSS"]

[[rename]]
body = "PPU"
name = "Praksisplanudvalget Øst"

[[reparent]]
parent = "SR-B"
bodies = ["SU-NORD-SOM"]

[[memberships]]
from = "SKU"
end = true

[[memberships]]
from = "TSS"
to = "NY-TSS"

[[meeting_series]]
body = "NY-TSS"
first = 2021-01-20T10:00:00
frequency = "monthly"
count = 3
"""


def write_plan(tmp_path: Path, plan: str = PLAN, organisation: str = NEW_ORGANISATION) -> Path:
    (tmp_path / "org.toml").write_text(organisation, encoding="utf-8")
    path = tmp_path / "test-reform.toml"
    path.write_text(plan, encoding="utf-8")
    return path


@pytest.fixture
def fixture_cases(session, make_case, make_user, make_meeting, body):
    """Four open cases at TSS and SKU, and one completed case raised by TSS."""
    make_meeting("TSS", clock.now() + timedelta(days=30), MeetingStatus.PLANNED)
    submitter = make_user("chair@SU-NORD-SOM")
    at_tss = make_case(title="Til TSS")
    decide(at_tss, "submit", submitter)
    at_sku_north = make_case(title="Nord hos SKU", state="at_sku")
    at_sku_south = make_case(title="Syd hos SKU", origin="SU-SYD-SOM", state="at_sku")
    raised_by_tss = make_case(
        "joint_agreement", title="Fra TSS", origin="TSS", state="terms_of_reference"
    )
    tina = make_user("chair@TSS", name="Tina TSS-formand")
    closed = make_case("joint_agreement", title="Afsluttet", origin="TSS")
    decide(closed, "reject_terms", tina, comment="Ikke nu")
    assert closed.state == "cancelled"
    make_user("member@SKU", name="Søren SKU-medlem")
    return {
        "at_tss": at_tss,
        "north": at_sku_north,
        "south": at_sku_south,
        "raised": raised_by_tss,
        "closed": closed,
    }


def moves_of(result: reorganise.Preview) -> set[tuple[str, str, str, str]]:
    return {(m.title, m.state, m.from_body, m.to_body) for m in result.moves}


def test_the_dry_run_lists_exactly_the_moves(session, tmp_path, fixture_cases):
    plan = reorganise.load_plan(write_plan(tmp_path))
    result = reorganise.preview(session, plan)

    assert result.gaps == []
    assert moves_of(result) == {
        ("Til TSS", "at_tss", "TSS", "NY-TSS"),
        ("Nord hos SKU", "at_sku", "SKU", "SR-B"),  # its SU is placed under SR-B
        ("Syd hos SKU", "at_sku", "SKU", "SR-A"),  # the first successor takes the rest
        ("Fra TSS", "terms_of_reference", "TSS", "NY-TSS"),
    }
    raised = next(m for m in result.moves if m.title == "Fra TSS")
    assert (raised.from_origin, raised.to_origin) == ("TSS", "NY-TSS")
    assert result.kept_closed >= 1
    assert ("SU-NORD-SOM", "TSS", "SR-B") in result.reparented
    assert {name for _i, name, _c, _r in result.memberships_ended} >= {"Søren SKU-medlem"}
    assert {name for _i, name, _f, to, _r in result.memberships_carried if to == "NY-TSS"} >= {
        "Tina TSS-formand"
    }
    text = "\n".join(reorganise.describe(result))
    assert "Lukker SKU pr. 2020-12-31 → SR-A, SR-B" in text
    at_tss = fixture_cases["at_tss"].id
    assert f"sag #{at_tss} (signature_initiative: at_tss): TSS → NY-TSS" in text
    assert "Planen kan gennemføres" in text
    # The dry run wrote nothing.
    assert session.scalar(select(Body).where(Body.code == "NY-TSS")) is None
    assert fixture_cases["at_tss"].current_body.code == "TSS"


def test_a_plan_with_gaps_is_refused_and_each_gap_named(
    session, tmp_path, fixture_cases, make_user
):
    incomplete = PLAN.replace('successors = ["SR-A", "SR-B"]', "successors = []").replace(
        '[[memberships]]\nfrom = "TSS"\nto = "NY-TSS"\n', ""
    )
    plan = reorganise.load_plan(write_plan(tmp_path, incomplete))
    result = reorganise.preview(session, plan)
    gaps = "\n".join(da for da, _en in result.gaps)
    assert "Organet SKU lukkes uden efterfølger" in gaps
    assert f"Sag #{fixture_cases['north'].id} 'Nord hos SKU'" in gaps
    assert f"Sag #{fixture_cases['south'].id} 'Syd hos SKU'" in gaps
    assert "Medlemskabet Tina TSS-formand (chair) i TSS er hverken videreført" in gaps
    admin = make_user(is_admin=True)
    with pytest.raises(PlanError) as refused:
        operations.apply_plan(session, plan, admin)
    assert "Nord hos SKU" in refused.value.message
    assert "Tina TSS-formand" in refused.value.message_en
    # Nothing was written.
    assert session.scalar(select(Body).where(Body.code == "NY-TSS")) is None
    assert session.get(Case, fixture_cases["north"].id).current_body.code == "SKU"


def test_a_malformed_plan_names_every_problem(tmp_path):
    bad = 'name = "x"\neffective = "i morgen"\nfoo = 1\n[[memberships]]\nfrom = "SKU"\n'
    with pytest.raises(PlanError) as refused:
        reorganise.load_plan(write_plan(tmp_path, bad))
    message = refused.value.message
    assert "effective mangler eller har forkert type" in message
    assert "ukendt nøgle 'foo'" in message
    assert "memberships[0] skal have enten to" in message
    assert "unknown key 'foo'" in refused.value.message_en


def test_applying_moves_open_cases_keeps_closed_ones_and_twice_changes_nothing(
    session, tmp_path, fixture_cases, make_user
):
    admin = make_user(is_admin=True)
    old_deadline = session.scalar(
        select(Deadline).where(
            Deadline.case_id == fixture_cases["at_tss"].id, Deadline.cancelled_at.is_(None)
        )
    )
    assert old_deadline is not None and old_deadline.kind == DeadlineKind.MATERIAL
    closed_events = session.scalar(
        select(func.count(CaseEvent.id)).where(CaseEvent.case_id == fixture_cases["closed"].id)
    )
    plan = reorganise.load_plan(write_plan(tmp_path))

    applied = operations.apply_plan(session, plan, admin)

    assert applied.cases_moved == 4
    bodies = {b.code: b for b in session.scalars(select(Body))}
    for key, code in {
        "at_tss": "NY-TSS",
        "north": "SR-B",
        "south": "SR-A",
        "raised": "NY-TSS",
    }.items():
        case = session.get(Case, fixture_cases[key].id)
        assert case.current_body.code == code, key
        events = session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case.id, CaseEvent.trigger == "reorganise")
        ).all()
        assert len(events) == 1
        assert events[0].comment.startswith("Flyttet fra ")
        assert "ved reorganisering 'Testreform'" in events[0].comment
    assert session.get(Case, fixture_cases["raised"].id).originating_body.code == "NY-TSS"
    # The closed case stays with its old body and its history.
    closed = session.get(Case, fixture_cases["closed"].id)
    assert closed.originating_body.code == "TSS"
    assert (
        session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.case_id == closed.id))
        == closed_events
    )
    # The material deadline was recomputed for the new body's first meeting.
    assert old_deadline.cancelled_at is not None
    new_deadline = session.scalar(
        select(Deadline).where(
            Deadline.case_id == fixture_cases["at_tss"].id,
            Deadline.met_at.is_(None),
            Deadline.cancelled_at.is_(None),
        )
    )
    assert new_deadline is not None and new_deadline.body_id == bodies["NY-TSS"].id
    meeting = session.get(Meeting, new_deadline.meeting_id)
    assert meeting.body_id == bodies["NY-TSS"].id
    # The organisation is dated, nothing deleted; successors linked.
    assert bodies["SKU"].valid_to == date(2020, 12, 31) and not bodies["SKU"].active
    assert bodies["SR-A"].valid_from == date(2021, 1, 1)
    successors = {
        (s.predecessor.code, s.successor.code, s.kind.value)
        for s in session.scalars(select(BodySuccession))
    }
    assert {("SKU", "SR-A", "split"), ("SKU", "SR-B", "split"), ("TSS", "NY-TSS", "replaced")} <= (
        successors
    )
    assert bodies["SU-NORD-SOM"].parent.code == "SR-B"
    assert bodies["PPU"].name == "Praksisplanudvalget Øst"
    assert queries.body_name(bodies["PPU"], date(2020, 6, 1)) == "Praksisplanudvalget"
    assert session.scalar(select(Party).where(Party.code == "REGION-H")).valid_to == date(
        2020, 12, 31
    )
    # Memberships: TSS's carried over from the effective date (both co-chairs: Tina and the
    # co-chair who consented to the formandskab decisions of the fixture), SKU's ended.
    co_chairs = session.scalars(
        select(Membership).where(
            Membership.body_id == bodies["NY-TSS"].id, Membership.role == Role.CHAIR
        )
    ).all()
    assert len(co_chairs) == 2 and all(m.since == date(2021, 1, 1) for m in co_chairs)
    sku_members = session.scalars(
        select(Membership).where(Membership.body_id == bodies["SKU"].id)
    ).all()
    assert sku_members and all(not m.active and m.until == date(2020, 12, 31) for m in sku_members)
    # Meeting series: the new one planned; the new body's chairs heard of the moved cases.
    series = session.scalar(
        select(MeetingSeries).where(MeetingSeries.body_id == bodies["NY-TSS"].id)
    )
    assert series is not None and series.valid_from == date(2021, 1, 1)
    told = session.scalars(
        select(Notification).where(Notification.subject.like("Sag flyttet til NY-TSS%"))
    ).all()
    assert {n.recipient_id for n in told} == {m.user_id for m in co_chairs}
    assert audit.verify(session).problems == []
    stored = session.scalar(select(Reorganisation).where(Reorganisation.name == "test-reform"))
    assert stored is not None and stored.summary["cases_moved"] == 4
    assert (
        session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == "reorganise"))
        is not None
    )

    # Twice: nothing changes.
    events_before = session.scalar(select(func.count(CaseEvent.id)))
    again = operations.apply_plan(session, plan, admin)
    assert again.already_applied and again.cases_moved == 0
    assert session.scalar(select(func.count(CaseEvent.id))) == events_before
    assert reorganise.preview(session, plan).already_applied


def test_the_same_definitions_run_in_the_new_structure(session, tmp_path, fixture_cases, make_user):
    """After the reform, "SKU" in a definition reaches the sundhedsråd above the raising SU."""
    admin = make_user(is_admin=True)
    operations.apply_plan(session, reorganise.load_plan(write_plan(tmp_path)), admin)
    clock.set_time(datetime(2021, 2, 1, 9, 0, tzinfo=UTC))
    case = session.get(Case, fixture_cases["at_tss"].id)
    chair = session.scalars(
        select(Membership).where(
            Membership.body_id == case.current_body_id, Membership.role == Role.CHAIR
        )
    ).first()
    assert chair is not None
    decide(case, "tss_recommend", chair.user, comment="Anbefales")
    assert case.state == "at_sku"
    assert case.current_body.code == "SR-B"
    # The report of TSS's and SKU's decisions includes the steering group that took over.
    from workflow.reports import queries as reports

    decided = reports.decisions(session, reports.Filters(start=date(2021, 1, 1)))
    assert [(row[1], row[2]) for row in decided.rows] == [("NY-TSS", case.id)]


def test_the_organisation_as_of_a_date(session, tmp_path, make_user):
    admin = make_user(is_admin=True)
    operations.apply_plan(session, reorganise.load_plan(write_plan(tmp_path)), admin)
    before = queries.organisation_as_of(session, date(2020, 6, 1))
    after = queries.organisation_as_of(session, date(2021, 6, 1))
    assert before.body("SKU") is not None and before.body("SR-A") is None
    assert after.body("SKU") is None and after.body("SR-A") is not None
    assert len(before.municipalities) == 29
    assert len(after.municipalities) == 30
    assert "Region Hovedstaden" in {p.name for p in before.parties}
    assert "Region Hovedstaden" not in {p.name for p in after.parties}


def demo_plan() -> reorganise.Plan:
    return reorganise.load_plan(reorganise.find_plan("sundhedsreform-2027"))


def test_the_demo_plan_for_2027_is_complete(session):
    plan = demo_plan()
    result = reorganise.preview(session, plan)
    assert result.gaps == []
    assert len([c for c in result.new_bodies if c.startswith("SR-")]) == 9
    assert {"STYR-OEST", "SU-SJ-OEST"} <= set(result.new_bodies)
    municipalities = [
        spec for spec in plan.organisation["parties"] if spec["kind"] == "municipality"
    ]
    assert len(municipalities) == 17
    assert "EKSEMPEL" in Path(plan.source).read_text(encoding="utf-8")


def test_after_the_merger_an_initiative_is_spread_to_46_municipalities(
    session, make_case, make_user
):
    from workflow.implementation import operations as implementation

    operations.apply_plan(session, demo_plan(), make_user(is_admin=True))
    clock.set_time(datetime(2027, 3, 1, 9, 0, tzinfo=UTC))
    case = make_case(title="Efter reformen", state="implementation")
    units = implementation.create_units(session, case, None, clock.now())
    municipalities = [u for u in units if u.party.kind == "municipality"]
    assert len(municipalities) == 46
    roskilde = next(u for u in units if u.party.code == "KOM-ROSKILDE")
    assert session.get(Body, roskilde.responsible_body_id).code == "SU-SJ-OEST"
    practice = next(u for u in units if u.party.code == "PLO-H")
    assert session.get(Body, practice.responsible_body_id).code == "STYR-OEST"
    # Before the merger the same spread had the 29.
    clock.set_time(datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
    assert len(queries.municipalities_as_of(session, clock.now())) == 29


def test_a_case_page_shows_the_organisation_as_it_was(
    session, tmp_path, make_case, make_user, client, logged_in, text_of
):
    admin = make_user(is_admin=True)
    tina = make_user("chair@TSS")
    closed = make_case("joint_agreement", title="Afsluttet i 2020", origin="TSS")
    decide(closed, "reject_terms", tina, comment="Ikke nu")
    # A forum matter is started by a forum (not PPU, a political body): the plan renames the
    # forum that raised it, as it renames PPU.
    renamed = make_case("forum_matter", title="Hos dataforummet", origin="FORUM-DATA")
    forum_chair = make_user("chair@FORUM-DATA")
    decide(renamed, "raise", forum_chair)
    decide(renamed, "reject", forum_chair, comment="Nej")
    open_case = make_case(title="Åben hos SKU", state="at_sku")
    plan = PLAN + '\n[[rename]]\nbody = "FORUM-DATA"\nname = "Dataforum Øst"\n'
    operations.apply_plan(session, reorganise.load_plan(write_plan(tmp_path, plan)), admin)
    logged_in(is_admin=True)

    page = text_of(client.get(f"/sager/{closed.id}"))
    assert "Behandles i Tværsektoriel Strategisk Styregruppe (TSS)" in page
    assert "organet er nedlagt efter 31. december 2020" in page
    moved = text_of(client.get(f"/sager/{open_case.id}"))
    assert "Behandles i Sundhedsråd B (SR-B)" in moved
    assert "Flyttet fra SKU til Sundhedsråd B (SR-B) ved reorganisering" in moved
    # A closed case names the body as it was named then; the body's page says it was renamed.
    raised_by = text_of(client.get(f"/sager/{renamed.id}"))
    assert "Rejst af Tværsektorielt samarbejdsforum for data om økonomi og aktivitet" in raised_by
    assert "Dataforum Øst" not in raised_by
    ppu = text_of(client.get("/organer/PPU"))
    assert "Praksisplanudvalget Øst (PPU)" in ppu and "Tidligere navne Praksisplanudvalget" in ppu
    bodies = text_of(client.get("/organer"))
    assert "Nedlagte organer" in bodies and "Sundhedskoordinationsudvalget (SKU)" in bodies
    sku = text_of(client.get("/organer/SKU"))
    assert "Overtaget af" in sku and "Sundhedsråd A (SR-A)" in sku


def test_rules_naming_a_closed_body_are_held_in_its_successor(session, tmp_path, make_user):
    """The policy's "secretariat@TSS" (the indicators) is held by the steering group's
    secretariat that took over from TSS."""
    from workflow import policy

    secretary = make_user("secretariat@TSS")
    admin = make_user(is_admin=True)
    operations.apply_plan(session, reorganise.load_plan(write_plan(tmp_path)), admin)
    session.refresh(secretary)
    assert policy.may(secretary, "keep_indicators", None, session)
    assert not policy.may(make_user("member@SU-NORD-SOM"), "keep_indicators", None, session)


def test_seeding_after_a_reorganisation_keeps_the_new_structure(session, tmp_path, make_user):
    from workflow.organisation import seed

    operations.apply_plan(
        session, reorganise.load_plan(write_plan(tmp_path)), make_user(is_admin=True)
    )
    seed.run(session, update=True)
    su = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
    assert su.parent.code == "SR-B"
    assert session.scalar(select(Body).where(Body.code == "PPU")).name == "Praksisplanudvalget Øst"


def test_the_plans_new_organisation_is_checked(session, tmp_path):
    bad_rows = NEW_ORGANISATION.replace('kind = "steering"', 'kind = "styregruppe"').replace(
        'code = "SR-A"\nname = "Sundhedsråd A"\nkind = "political"',
        'code = "SR-A"\nname = "Sundhedsråd A"\nkind = "political"\nvalid_from = "snart"',
    )
    with pytest.raises(PlanError) as refused:
        reorganise.load_plan(write_plan(tmp_path, organisation=bad_rows))
    assert "bodies[0] (NY-TSS): ukendt art 'styregruppe'" in refused.value.message
    assert "bodies[1].valid_from skal være en dato" in refused.value.message
    unknown = NEW_ORGANISATION.replace('planning_area = "NORD"', 'planning_area = "NORDX"')
    unknown += '\n[[bodies]]\ncode = "SR-C"\nname = "C"\nkind = "political"\nparent = "INGEN"\n'
    result = reorganise.preview(
        session, reorganise.load_plan(write_plan(tmp_path, organisation=unknown))
    )
    gaps = [da for da, _en in result.gaps]
    assert "SR-B: planområdet NORDX findes ikke" in gaps
    assert "SR-C: det overordnede organ INGEN findes ikke" in gaps


# --- the scheduler applies an approved plan at its effective date ---------------------------

EFFECTIVE_MORNING = datetime(2021, 1, 1, 6, 0, tzinfo=LOCAL_TZ)


def approved(plan: str, email: str) -> str:
    return plan.replace(
        'end_parties = ["REGION-H"]',
        f'end_parties = ["REGION-H"]\napproved = true\napproved_by = "{email}"',
        1,
    )


@pytest.fixture
def config(tmp_path: Path) -> SchedulerConfig:
    return SchedulerConfig(plans_dir=str(tmp_path))


def moved_events(session) -> int:
    return session.scalar(select(func.count(CaseEvent.id)).where(CaseEvent.trigger == "reorganise"))


def test_the_sweep_applies_an_approved_plan_on_its_effective_date_once(
    session, tmp_path, config, fixture_cases, make_user
):
    admin = make_user(is_admin=True, name="Anne Admin")
    write_plan(tmp_path, approved(PLAN, admin.email))

    # Before the effective date the sweep leaves the plan alone.
    report = scheduler.sweep(session, config=config)
    assert report.plans_applied == [] and report.plans_refused == []
    assert session.get(Case, fixture_cases["north"].id).current_body.code == "SKU"

    clock.set_time(EFFECTIVE_MORNING)
    report = scheduler.sweep(session, config=config)

    assert report.plans_applied == ["test-reform"]
    assert "reorganisering gennemført: test-reform" in report.summary()
    assert session.get(Case, fixture_cases["north"].id).current_body.code == "SR-B"
    assert session.get(Case, fixture_cases["at_tss"].id).current_body.code == "NY-TSS"
    assert session.get(Case, fixture_cases["closed"].id).originating_body.code == "TSS"
    assert moved_events(session) == 4
    applied = session.scalar(select(Reorganisation))
    assert applied.applied_by_id == admin.id and applied.applied_at == EFFECTIVE_MORNING
    entry = session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == "reorganise"))
    assert entry.actor_id == admin.id and entry.data["cases_moved"] == 4
    assert audit.verify(session).problems == []
    outcome = ops.scheduler_status(session).plans
    assert [(o.plan, o.applied) for o in outcome] == [("test-reform", True)]

    # Later sweeps change nothing.
    clock.set_time(datetime(2021, 1, 2, 6, 0, tzinfo=LOCAL_TZ))
    assert scheduler.sweep(session, config=config).plans_applied == []
    assert moved_events(session) == 4
    assert session.scalar(select(func.count(Reorganisation.id))) == 1
    assert audit.verify(session).problems == []


def test_a_draft_plan_is_never_applied_by_the_sweep(session, tmp_path, config, fixture_cases):
    write_plan(tmp_path)  # approved = false
    clock.set_time(EFFECTIVE_MORNING)
    report = scheduler.sweep(session, config=config)
    assert report.plans_applied == [] and report.plans_refused == []
    assert session.scalar(select(func.count(Reorganisation.id))) == 0


def test_a_plan_that_fails_at_its_date_waits_and_is_shown_to_admins(
    session, tmp_path, config, fixture_cases, make_user, caplog
):
    admin = make_user(is_admin=True)
    with unit_of_work(session):
        pass  # the admin is stored, as in production, before a refused plan rolls back
    # Without a rule for SKU's memberships the plan leaves a membership without a home.
    gappy = approved(PLAN, admin.email).replace('[[memberships]]\nfrom = "SKU"\nend = true\n', "")
    write_plan(tmp_path, gappy)
    clock.set_time(EFFECTIVE_MORNING)

    report = scheduler.sweep(session, config=config)

    assert report.plans_refused == ["test-reform"] and report.plans_applied == []
    assert "reorganisering afvist: test-reform" in report.summary()
    assert session.get(Case, fixture_cases["north"].id).current_body.code == "SKU"
    assert session.scalar(select(func.count(Reorganisation.id))) == 0
    assert "reorganisation test-reform not applied" in caplog.text
    (outcome,) = ops.scheduler_status(session).plans
    assert not outcome.applied and outcome.at == EFFECTIVE_MORNING
    assert any("Søren SKU-medlem" in da for da, _en in outcome.problems)
    # The sweep itself went on: its heartbeat moved.
    assert ops.scheduler_status(session).heartbeat == EFFECTIVE_MORNING

    # Fixed (the rule restored), the next sweep applies it.
    write_plan(tmp_path, approved(PLAN, admin.email))
    clock.set_time(datetime(2021, 1, 1, 6, 5, tzinfo=LOCAL_TZ))
    assert scheduler.sweep(session, config=config).plans_applied == ["test-reform"]
    assert session.get(Case, fixture_cases["north"].id).current_body.code == "SR-B"
    (outcome,) = ops.scheduler_status(session).plans
    assert outcome.applied and outcome.problems == []


def test_the_approver_must_be_an_active_admin_at_the_effective_date(
    session, tmp_path, config, fixture_cases, make_user
):
    admin = make_user(is_admin=True)
    write_plan(tmp_path, approved(PLAN, admin.email))
    admin.active = False
    session.flush()
    clock.set_time(EFFECTIVE_MORNING)

    assert scheduler.sweep(session, config=config).plans_refused == ["test-reform"]
    (outcome,) = ops.scheduler_status(session).plans
    assert outcome.problems == [
        (
            f"test-reform: approved_by '{admin.email}' er ikke en aktiv administrator",
            f"test-reform: approved_by '{admin.email}' is not an active administrator",
        )
    ]
    assert session.get(Case, fixture_cases["north"].id).current_body.code == "SKU"


def test_an_approved_plan_must_name_its_approver(tmp_path):
    path = write_plan(tmp_path, PLAN.replace('end_parties = ["REGION-H"]', "approved = true", 1))
    with pytest.raises(PlanError) as error:
        reorganise.load_plan(path)
    assert "approved_by" in error.value.message
    assert "approved_by" in error.value.message_en


# --- code that names SKU, TSS or KKR follows the successors --------------------------------


def _overdue(session, case, code: str) -> Deadline:
    """An open deadline of `case` at `code`, two months overdue (past escalation)."""
    deadline = Deadline(
        case_id=case.id, kind=DeadlineKind.STATE, state=case.state,
        body_id=session.scalar(select(Body.id).where(Body.code == code)),
        due_at=clock.now() - timedelta(days=60), reminder_days=[], created_at=clock.now(),
    )  # fmt: skip
    session.add(deadline)
    session.commit()
    return deadline


def _escalated_to(session, deadline: Deadline) -> str:
    event = session.scalar(
        select(CaseEvent)
        .where(CaseEvent.case_id == deadline.case_id, CaseEvent.trigger == "deadline_escalated")
        .order_by(CaseEvent.id.desc())
    )
    assert event is not None and event.data["deadline_id"] == deadline.id
    return event.data["body"]


def test_named_bodies_are_the_old_ones_before_the_plan_and_the_successors_after(
    session, tmp_path, fixture_cases, make_user
):
    from workflow.implementation import annual_cycle
    from workflow.meetings.forecast import Outcome, forecast

    north = fixture_cases["north"]
    # Before: TSS and SKU themselves.
    assert engine.body_now(session, "TSS").code == "TSS"
    assert engine.body_now(session, "SKU", north).code == "SKU"
    assert forecast(session, north, clock.now()).waiting_body.code == "SKU"
    # SKU has no parent: its overdue deadline escalates to TSS.
    assert _escalated_to(session, _sweep(session, _overdue(session, north, "SKU"))) == "TSS"
    assert [m.body_code for m in annual_cycle.milestones(session, 2021)][:2] == ["TSS", "SKU"]

    operations.apply_plan(
        session, reorganise.load_plan(write_plan(tmp_path)), make_user(is_admin=True)
    )

    assert engine.body_now(session, "TSS").code == "NY-TSS"
    assert engine.body_now(session, "SKU").code == "SR-A"  # the plan's first successor
    assert engine.body_now(session, "SKU", north).code == "SR-B"  # the north case's
    result = forecast(session, north, clock.now())
    assert result.outcome == Outcome.NO_MEETING and result.waiting_body.code == "SR-B"
    # SR-B has no parent: escalation goes to the body that took over from TSS.
    assert _escalated_to(session, _sweep(session, _overdue(session, north, "SR-B"))) == "NY-TSS"
    plan = annual_cycle.create_plan(session, 2021, make_user("secretariat@NY-TSS"))
    assert plan.originating_body.code == "NY-TSS"
    outsider = make_user("member@SU-SYD-SOM")
    with pytest.raises(NotAllowed) as refused:
        annual_cycle.add_plan_line(session, plan, outsider, annual_cycle.PlanLine("T", "F"))
    assert (
        refused.value.message
        == "Kun medlemmer af NY-TSS og SR-A kan skrive i implementeringsplanen."
    )
    # The 2021 plan's milestones fall in 2020, before the effective date: the old bodies; the
    # 2022 plan's fall after it: their successors.
    milestones_2021 = annual_cycle.milestones(session, 2021)
    assert all(m.due < date(2021, 1, 1) for m in milestones_2021[:2])
    assert [m.body_code for m in milestones_2021][:2] == ["TSS", "SKU"]
    assert [m.body_code for m in annual_cycle.milestones(session, 2022)][:2] == ["NY-TSS", "SR-A"]
    assert audit.verify(session).problems == []


def test_a_closed_body_is_itself_until_its_last_day_and_its_successor_after(
    session, tmp_path, fixture_cases, make_user
):
    """History before the effective date names the old body (a case decided in 2020 still
    shows SKU); from the effective date the work goes to the successor; today's work (no day)
    follows a plan applied ahead of its date at once."""
    operations.apply_plan(
        session, reorganise.load_plan(write_plan(tmp_path)), make_user(is_admin=True)
    )
    north = fixture_cases["north"]
    sku = session.scalar(select(Body).where(Body.code == "SKU"))
    before, last_day, effective, after = (
        date(2020, 6, 1), date(2020, 12, 31), date(2021, 1, 1), date(2021, 3, 1),
    )  # fmt: skip
    assert [engine.closed_on(sku, day) for day in (before, last_day, effective, after)] == [
        False, False, True, True,
    ]  # fmt: skip
    assert [engine.successor_for(session, north, sku, day).code for day in (
        before, last_day, effective, after,
    )] == ["SKU", "SKU", "SR-B", "SR-B"]  # fmt: skip
    assert [engine.body_now(session, "TSS", None, day).code for day in (
        before, last_day, effective, after,
    )] == ["TSS", "TSS", "NY-TSS", "NY-TSS"]  # fmt: skip
    # Today is 1 September 2020, before the effective date, but the plan is applied: its open
    # cases and memberships have moved, so today's work goes to the successors.
    assert clock.now().date() < effective
    assert engine.successor_for(session, north, sku).code == "SR-B"
    assert engine.body_now(session, "TSS").code == "NY-TSS"
    # A body without successors is itself on every day, closed or not.
    ppu = session.scalar(select(Body).where(Body.code == "PPU"))
    ppu.valid_to, ppu.active = last_day, False
    assert engine.successor_for(session, north, ppu, after).code == "PPU"


def _sweep(session, deadline: Deadline) -> Deadline:
    scheduler.sweep(session, config=SchedulerConfig())
    return deadline


def test_observers_are_the_observer_bodies_of_the_data_and_their_successors(session, make_user):
    from models import BodyKind, BodySuccession, SuccessionKind
    from workflow.notifications import observers

    assert {"KKR", "KKU"} <= observers.observer_codes(session)
    kkr = session.scalar(select(Body).where(Body.code == "KKR"))
    assert kkr.kind == BodyKind.OBSERVER
    # A body that took over from KKR is informed of what the definitions tell KKR.
    new = Body(code="KKR-OEST", name="KKR Østdanmark", kind=BodyKind.OBSERVER)
    session.add(new)
    session.flush()
    session.add(
        BodySuccession(
            predecessor_id=kkr.id, successor_id=new.id, kind=SuccessionKind.REPLACED,
            effective_on=date(2027, 1, 1), reorganisation="test",
        )
    )  # fmt: skip
    session.flush()
    assert queries.with_predecessors(session, ["KKR-OEST"]) == {"KKR-OEST", "KKR"}
    assert queries.with_predecessors(session, ["KKU"]) == {"KKU"}


PLAN_MOVING_EGEDAL = (
    PLAN
    + """
[[party_areas]]
planning_area = "OEST-X"
parties = ["KOM-EGEDAL"]
"""
)


def test_parents_and_planning_areas_are_dated(session, tmp_path, make_user):
    """A reparented body keeps its former parent and a moved municipality its former planning
    area for the days before the effective date; the dry run names the move."""
    plan = reorganise.load_plan(write_plan(tmp_path, PLAN_MOVING_EGEDAL))
    dry = reorganise.preview(session, plan)
    assert dry.areas_moved == [("KOM-EGEDAL", "NORD", "OEST-X")]
    assert "Skifter planområde: KOM-EGEDAL (NORD → OEST-X)" in reorganise.describe(dry)
    operations.apply_plan(session, plan, make_user(is_admin=True))

    su = session.scalar(select(Body).where(Body.code == "SU-NORD-SOM"))
    egedal = session.scalar(select(Party).where(Party.code == "KOM-EGEDAL"))
    days = (date(2019, 5, 1), date(2020, 12, 31), date(2021, 1, 1), date(2022, 1, 1))
    assert [su.parent_on(day).code for day in days] == ["TSS", "TSS", "SR-B", "SR-B"]
    assert [egedal.planning_area_on(day).code for day in days] == [
        "NORD", "NORD", "OEST-X", "OEST-X",
    ]  # fmt: skip
    org = queries.organisation_as_of(session, date(2020, 6, 1))
    assert org.parent(org.body("SU-NORD-SOM")).code == "TSS"
    assert queries.organisation_as_of(session, date(2021, 6, 1)).planning_area(egedal).code == (
        "OEST-X"
    )
    # Applying twice records nothing more.
    operations.apply_plan(session, plan, make_user(is_admin=True))
    session.expire_all()
    assert len(su.former_parents) == 1 and len(egedal.former_planning_areas) == 1
    assert audit.verify(session).problems == []


def test_a_plan_moving_an_unknown_party_or_to_an_unknown_area_is_refused(session, tmp_path):
    plan = reorganise.load_plan(
        write_plan(
            tmp_path,
            PLAN + '\n[[party_areas]]\nplanning_area = "INGEN"\nparties = ["KOM-INGEN"]\n',
        )
    )
    gaps = [da for da, _en in reorganise.preview(session, plan).gaps]
    assert "party_areas: parten KOM-INGEN findes ikke" in gaps
    assert "party_areas: planområdet INGEN findes ikke" in gaps


def test_pages_show_parent_and_planning_area_as_of_their_day(
    session, tmp_path, make_case, make_user, client, logged_in, text_of
):
    """The body page shows the parent of today (before and after the effective date); a case
    closed in 2020 shows its municipalities under the planning areas of 2020, a case open after
    the effective date under the new ones (units table and the municipalities' grid)."""
    from workflow.implementation import operations as implementation

    closed = make_case(title="Udbredt i 2020", state="implementation")
    implementation.create_units(session, closed, None, clock.now())
    closed.state = "completed"
    session.commit()
    operations.apply_plan(
        session,
        reorganise.load_plan(write_plan(tmp_path, PLAN_MOVING_EGEDAL)),
        make_user(is_admin=True),
    )
    logged_in(is_admin=True)
    # 1 September 2020: applied ahead of its date, the page shows today's parent.
    page = text_of(client.get("/organer/SU-NORD-SOM"))
    assert "Hører under Tværsektoriel Strategisk Styregruppe (TSS)" in page

    clock.set_time(datetime(2021, 2, 1, 9, 0, tzinfo=UTC))
    page = text_of(client.get("/organer/SU-NORD-SOM"))
    assert "Hører under Sundhedsråd B (SR-B)" in page
    assert (
        "Tidligere placeret under Tværsektoriel Strategisk Styregruppe (TSS) "
        "(til og med 31. december 2020)"
    ) in page
    assert "SU-NORD-SOM" in text_of(client.get("/organer/SR-B"))
    opened = make_case(title="Udbredt i 2021", state="implementation")
    implementation.create_units(session, opened, None, clock.now())

    def egedal_row(case_id: int) -> str:
        page = text_of(client.get(f"/implementering/sag/{case_id}"))
        return page[page.index("Egedal Kommune") :][:60]

    assert "Planområde Nord" in egedal_row(closed.id)
    assert "Planområde Øst (test)" in egedal_row(opened.id)
    from workflow.implementation import picture
    from workflow.implementation import queries as implementation_queries

    overview = implementation_queries.spread_overview(session)
    ids = [c.case.id for c in overview.columns]
    grid_2020 = picture.grid_groups(overview, ids.index(closed.id))
    grid_2021 = picture.grid_groups(overview, ids.index(opened.id))
    assert "Egedal Kommune" in {
        c.label for g in grid_2020 if g.name == "Planområde Nord" for c in g.cells
    }
    assert "Egedal Kommune" in {
        c.label for g in grid_2021 if g.name == "Planområde Øst (test)" for c in g.cells
    }
