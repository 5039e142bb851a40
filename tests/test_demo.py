"""`aftaleflow demo`: cases in every state, built through the engine on the 2020 calendar."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from models import (
    GENESIS_HASH,
    AdminAuditEntry,
    Base,
    Body,
    BodyKind,
    Case,
    CaseEvent,
    Deadline,
    ImplementationState,
    ImplementationStatus,
    Meeting,
    MeetingStatus,
    Membership,
    Notification,
    PartyKind,
    Role,
    User,
)
from workflow import demo
from workflow.cases.rules import implementation_complete
from workflow.engine import clock, formandskab
from workflow.engine.calendar import local_date
from workflow.engine.chain import case_event_hash
from workflow.engine.definitions import load_definitions
from workflow.engine.guards import GuardContext
from workflow.engine.processes import registry
from workflow.meetings import agenda
from workflow.meetings import operations as meetings
from workflow.meetings.outcomes import Outcome
from workflow.notifications import observers

SCRIPT = demo.load_script()
DEMO_KEYS = [spec.key for spec in SCRIPT.cases]


@pytest.fixture(scope="module")
def built(db_engine: Engine) -> Iterator[tuple[Session, demo.DemoReport, list[str]]]:
    """Run the demo once for the module, inside a transaction rolled back afterwards."""
    connection = db_engine.connect()
    transaction = connection.begin()
    session = Session(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    lines: list[str] = []
    report = demo.run(session, progress=lines.append)
    yield session, report, lines
    session.close()
    transaction.rollback()
    connection.close()


@pytest.fixture
def db(built: tuple[Session, demo.DemoReport, list[str]]) -> Session:
    return built[0]


def demo_cases(db: Session) -> list[Case]:
    return list(db.scalars(select(Case).where(Case.esdh_case_number.in_(DEMO_KEYS))))


def case_by_key(db: Session, key: str) -> Case:
    case = db.scalar(select(Case).where(Case.esdh_case_number == key))
    assert case is not None, key
    return case


def events_of(db: Session, case: Case) -> list[CaseEvent]:
    return list(
        db.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq))
    )


def user(db: Session, login: str) -> User:
    found = db.scalar(select(User).where(User.email == f"{login}@{demo.MAIL_DOMAIN}"))
    assert found is not None, login
    return found


def roles_in(db: Session, code: str) -> list[tuple[Role, User]]:
    rows = db.execute(
        select(Membership.role, User)
        .join(User, User.id == Membership.user_id)
        .join(Body, Body.id == Membership.body_id)
        .where(Body.code == code, User.email.like(f"%@{demo.MAIL_DOMAIN}"))
    ).tuples()
    return list(rows)


def test_every_state_of_every_process_has_a_resting_case(db):
    missing = [
        f"{name}:{state}"
        for name, definition in load_definitions().items()
        for state in definition.states
        if db.scalar(
            select(func.count()).where(
                Case.process == name,
                Case.state == state,
                Case.esdh_case_number.in_(DEMO_KEYS),
            )
        )
        == 0
    ]
    assert missing == []


RECORDS = frozenset(
    {"edit", "implementation_units", "implementation_report", "plan_item_added",
     "indicator_values_recorded", *demo.AGENDA_RECORDS,
     *demo.CONSULTATION_RECORDS, formandskab.PROPOSED}
)  # fmt: skip


def test_every_timeline_is_hash_chained_and_made_by_the_engine(db):
    db.expire_all()
    for case in demo_cases(db):
        definition = registry.get(db, case.process, case.process_version)
        triggers = {t.trigger for t in definition.transitions}
        events = events_of(db, case)
        assert [e.seq for e in events] == list(range(1, len(events) + 1))
        assert events[0].trigger == "create"
        assert events[0].to_state == definition.initial
        previous_hash, state = GENESIS_HASH, None
        for event in events:
            assert event.prev_hash == previous_hash, case.title
            assert event.hash == case_event_hash(event), case.title
            assert event.from_state == state, case.title
            if event.trigger in RECORDS:  # events that record, not change, the state
                assert event.to_state == event.from_state
            elif event.trigger != "create":
                assert event.trigger in triggers
            previous_hash, state = event.hash, event.to_state
        assert state == case.state, case.title


def test_a_second_run_creates_and_changes_nothing(db):
    def snapshot() -> dict[str, list[tuple[object, ...]]]:
        return {
            table.name: [
                tuple(row)
                for row in db.execute(select(table).order_by(*table.primary_key.columns)).all()
            ]
            for table in Base.metadata.sorted_tables
        }

    before = snapshot()
    lines: list[str] = []
    again = demo.run(db, progress=lines.append)

    assert not again.changed
    assert "intet ændret" in again.summary()
    assert snapshot() == before
    assert again.logins  # the CLI can still tell the user how to log in
    assert lines


def test_the_clock_is_released_after_the_run(db, frozen_clock):
    demo.run(db)
    assert clock.now() == frozen_clock


def test_the_first_run_reports_what_it_built(built):
    _session, report, lines = built
    assert report.changed
    assert report.cases == len(SCRIPT.cases)
    assert report.users == len(SCRIPT.people) + 29  # and a consultation respondent per municipality
    assert report.events > report.cases
    assert report.implementation_statuses >= 29 * 5
    summary = report.summary()
    assert f"{report.cases} sager" in summary and demo.PASSWORD in summary
    assert any("Mødekalender" in line for line in lines)
    assert any("Signaturindsats" in line for line in lines)


def test_demo_users_hold_the_roles_of_the_organisation(db):
    for code in ("SKU", "TSS"):
        held = {role for role, _user in roles_in(db, code)}
        assert {Role.CHAIR, Role.VICE_CHAIR, Role.SECRETARIAT, Role.MEMBER} <= held, code
    committees = db.scalars(select(Body).where(Body.kind == BodyKind.COORDINATION_COMMITTEE))
    su_codes = [b.code for b in committees]
    assert len(su_codes) == 10
    for code in su_codes:
        held = {role for role, _user in roles_in(db, code)}
        assert {Role.CHAIR, Role.SECRETARIAT, Role.MEMBER} <= held, code
    forums = [b.code for b in db.scalars(select(Body).where(Body.kind == BodyKind.FORUM))]
    assert len(forums) == 5
    for code in forums:
        chairs = [u for role, u in roles_in(db, code) if role == Role.CHAIR]
        kinds = sorted(u.party.kind for u in chairs if u.party is not None)
        assert kinds == [PartyKind.MUNICIPALITY, PartyKind.REGION], code
        assert Role.SECRETARIAT in {role for role, _user in roles_in(db, code)}, code
    for code in ("KKR", "KKU"):
        assert [role for role, _user in roles_in(db, code)] == [Role.OBSERVER]
    assert user(db, "admin").is_admin
    assert user(db, "formand.tss").party is not None


def test_every_login_works_with_the_shared_demo_password(built):
    db, report, _lines = built
    emails = [email for email, _password, _description in report.logins]
    found = db.scalars(select(User).where(User.email.in_(emails))).all()
    assert len(found) == len(emails) == len(set(emails))
    assert all(u.party_id is not None and u.active for u in found)
    assert all(password == demo.PASSWORD for _email, password, _d in report.logins)
    assert PasswordHasher().verify(found[0].password_hash or "", demo.PASSWORD)
    descriptions = dict((email, text) for email, _p, text in report.logins)
    assert descriptions[f"formand.tss@{demo.MAIL_DOMAIN}"].startswith("Formand for TSS")


def test_the_2020_meeting_calendar_of_seed_001_is_used(db):
    def meeting_days(code: str) -> set[date]:
        meetings = db.scalars(
            select(Meeting).join(Body, Body.id == Meeting.body_id).where(Body.code == code)
        )
        return {local_date(m.starts_at) for m in meetings}

    assert date(2020, 5, 20) in meeting_days("TSS")
    assert date(2020, 11, 13) in meeting_days("TSS")
    assert date(2020, 6, 17) in meeting_days("SKU")
    assert date(2020, 6, 19) in meeting_days("KKR") & meeting_days("KKU")
    first_round = (date(2020, 9, 21), date(2020, 10, 9))
    for body in db.scalars(select(Body).where(Body.kind == BodyKind.COORDINATION_COMMITTEE)):
        days = meeting_days(body.code)
        assert any(first_round[0] <= d <= first_round[1] for d in days), body.code


def test_sku_decided_at_its_meeting_on_17_june_2020(db):
    sku = db.scalar(select(Body).where(Body.code == "SKU"))
    decisions = [
        (event, db.get(Meeting, event.meeting_id))
        for event in db.scalars(select(CaseEvent).where(CaseEvent.meeting_id.is_not(None)))
        if local_date(event.created_at) == date(2020, 6, 17)
    ]
    assert decisions
    for event, meeting in decisions:
        assert meeting is not None and meeting.body_id == sku.id
        assert local_date(meeting.starts_at) == local_date(event.created_at)
    assert "discuss" in {event.trigger for event, _meeting in decisions}


def test_the_2021_plan_was_adopted_end_of_october_2020_and_2022_is_under_way(db):
    plans = [c for c in demo_cases(db) if c.process == "implementation_plan"]
    plan_2021 = next(c for c in plans if c.plan_year == 2021)
    adopted = next(e for e in events_of(db, plan_2021) if e.trigger == "adopt")
    assert local_date(adopted.created_at) == date(2020, 10, 28)
    assert adopted.meeting_id is not None
    assert plan_2021.state == "in_effect"
    early = {"preparation", "initial_discussion", "kkr_dialogue", "awaiting_adoption"}
    assert any(c.plan_year == 2022 and c.state in early for c in plans)


def test_chairs_decide_between_meetings_and_secretariats_at_meetings(db):
    decisions = [
        e
        for e in db.scalars(select(CaseEvent))
        if e.data.get("on_behalf_of_body") or e.meeting_id is not None
    ]
    on_behalf = [e for e in decisions if e.data.get("on_behalf_of_body")]
    assert on_behalf and all(e.data["role"].startswith("chair") for e in on_behalf)
    at_meetings = [e for e in decisions if e.meeting_id is not None]
    assert len(at_meetings) > len(on_behalf)


def test_formandskab_decisions_were_proposed_by_one_co_chair_and_taken_by_the_other(db):
    on_behalf = [e for e in db.scalars(select(CaseEvent)) if e.data.get("on_behalf_of_body")]
    assert on_behalf
    for event in on_behalf:
        proposer_id, consenting_id = event.data["co_chairs"]
        assert consenting_id == event.actor_id and proposer_id != consenting_id
        sides = {formandskab.side_of(db.get(User, i)) for i in (proposer_id, consenting_id)}
        assert sides == {"municipal", "regional"}
        proposal = db.scalar(
            select(CaseEvent).where(
                CaseEvent.case_id == event.case_id, CaseEvent.seq == event.seq - 1
            )
        )
        assert proposal.trigger == formandskab.PROPOSED
        assert proposal.actor_id == proposer_id
    # SKU's terms do not let its chairs decide between meetings: it decides at its meetings.
    assert all(e.data["decision_body"] != "SKU" for e in on_behalf)


def test_every_demo_case_was_started_by_a_body_its_process_allows(db):
    for case in demo_cases(db):
        definition = registry.get(db, case.process, case.process_version)
        origin = case.originating_body
        assert definition.may_start_in(str(origin.kind), origin.code), case.title


def test_new_agreements_past_tss_carry_a_business_case_and_one_was_asked_for(db):
    approvals = {"tss_recommend", "tss_approve"}
    for case in demo_cases(db):
        if any(e.trigger in approvals for e in events_of(db, case)):
            assert case.business_case.strip(), case.title
    # TSS returned the initiative for sårbare gravide without one; the SU added it.
    events = events_of(db, case_by_key(db, "SAG-2020-01219"))
    returned = next(e for e in events if e.trigger == "tss_return")
    assert "businesscase" in returned.comment
    revision = next(e for e in events if e.trigger == "edit" and e.seq > returned.seq)
    assert "business_case" in revision.data["fields"]


def test_a_matter_returned_by_tss_went_back_when_a_cost_was_added(db):
    case = case_by_key(db, "SAG-2020-01288")
    triggers = [e.trigger for e in events_of(db, case)]
    assert triggers[-3:] == ["tss_return_to_forum", "edit", "escalate"]
    assert (case.state, events_of(db, case)[-1].data["automatic"]) == ("at_tss", True)


def test_a_principled_forum_matter_was_routed_to_tss_by_the_engine(db):
    routed = [
        c
        for c in demo_cases(db)
        if c.process == "forum_matter" and c.principled and c.state == "at_tss"
    ]
    assert routed
    last = events_of(db, routed[0])[-1]
    assert last.trigger == "escalate" and last.actor_id is None
    assert last.data["automatic"] is True


def test_a_returned_signature_initiative_was_revised_and_resubmitted(db):
    stories = []
    for case in demo_cases(db):
        triggers = [e.trigger for e in events_of(db, case)]
        if "tss_return" in triggers and case.process == "signature_initiative":
            stories.append(triggers[triggers.index("tss_return") :])
    assert any("edit" in t and "submit" in t for t in stories)


def test_an_sku_item_was_postponed_and_waits_for_the_next_meeting(db):
    postponed = [
        c
        for c in demo_cases(db)
        if c.state == "at_sku" and "sku_postpone" in [e.trigger for e in events_of(db, c)]
    ]
    assert postponed


def test_cases_in_implementation_track_all_29_municipalities(db):
    municipal = (PartyKind.MUNICIPALITY,)
    implementing = [c for c in demo_cases(db) if c.state in ("implementation", "spreading")]
    assert implementing
    for case in implementing:
        rows = db.scalars(
            select(ImplementationStatus).where(ImplementationStatus.case_id == case.id)
        ).all()
        assert len([r for r in rows if r.party.kind in municipal]) == 29, case.title
        assert len({r.status for r in rows}) >= 2, case.title
        for row in rows:
            if row.status == ImplementationState.NOT_RELEVANT:
                assert row.reason.strip()


def test_completed_implementations_pass_the_implementation_guard(db):
    done = [
        c
        for c in demo_cases(db)
        if c.process in ("signature_initiative", "joint_agreement", "development_task")
        and c.state in ("completed", "follow_up")
    ]
    assert done
    for case in done:
        context = GuardContext(case, None, db, clock.now())
        assert implementation_complete(context) is None, case.title


def test_municipal_extra_expenses_come_with_business_case_and_financing(db):
    with_expense = [c for c in demo_cases(db) if c.expenses]
    assert with_expense
    for case in with_expense:
        assert case.business_case.strip() and case.financing_proposal.strip(), case.title
    assert all(c.esdh_case_number and c.journal_description for c in demo_cases(db))


def test_the_story_does_not_send_mail(db):
    ids = [c.id for c in demo_cases(db)]
    unsent = db.scalar(
        select(func.count()).where(Notification.case_id.in_(ids), Notification.sent_at.is_(None))
    )
    assert unsent == 0


def test_a_rerun_leaves_real_notifications_on_demo_cases_to_be_sent(db):
    case = case_by_key(db, "SAG-2021-00342")
    real = Notification(
        idempotency_key="test:real-notification",
        message_id="<test-real-notification@aftaleflow.local>",
        recipient_id=user(db, "formand.tss").id,
        case_id=case.id,
        kind="case_arrived",
        subject="Ny sag",
        body="En rigtig notifikation efter demoen.",
    )
    db.add(real)
    db.commit()

    demo.run(db)

    assert real.sent_at is None and real.read_at is None


def test_a_half_built_case_is_finished_by_the_next_run(db):
    full = next(s for s in SCRIPT.cases if s.key == "SAG-2020-01203")  # ends completed
    spec = dataclasses.replace(full, key="DEMO-TEST-RESUME")
    first = dataclasses.replace(SCRIPT, cases=(dataclasses.replace(spec, steps=spec.steps[:2]),))
    demo.run(db, script=first)
    assert case_by_key(db, "DEMO-TEST-RESUME").state == "at_sku"

    report = demo.run(db, script=dataclasses.replace(SCRIPT, cases=(spec,)))

    case = case_by_key(db, "DEMO-TEST-RESUME")
    assert case.state == "completed"
    assert report.cases == 0
    triggers = [e.trigger for e in events_of(db, case)]
    assert triggers.count("submit") == 1 and triggers.count("sku_approve") == 1


def test_a_mistake_in_the_demo_file_names_the_key(tmp_path: Path):
    source = (Path(demo.__file__).parent.parent / "data" / "demo.toml").read_text("utf-8")
    broken = source.replace('created = "2020-09-08 10:00"', 'created = "2022-01-01 10:00"', 1)
    path = tmp_path / "demo.toml"
    path.write_text(broken, "utf-8")
    with pytest.raises(demo.DemoError) as error:
        demo.load_script(path)
    assert "cases[0].steps" in str(error.value)
    assert "tidsorden" in str(error.value)


def meeting_on(db: Session, code: str, day: date) -> Meeting:
    found = [
        m
        for m in db.scalars(
            select(Meeting).join(Body, Body.id == Meeting.body_id).where(Body.code == code)
        )
        if local_date(m.starts_at) == day
    ]
    assert len(found) == 1, (code, day)
    return found[0]


def test_the_seed_001_cycle_on_demo_data(db):
    tss = meeting_on(db, "TSS", date(2020, 11, 13))
    items = meetings.active_items(tss)
    assert items[0].title == "Godkendelse af dagsorden"
    signature = [
        item
        for item in items[1:]
        if item.case_id and db.get(Case, item.case_id).process == "signature_initiative"
    ]
    assert len(signature) >= 3
    assert tss.status is MeetingStatus.CLOSED
    assert agenda.latest_version(db, tss, "agenda") is not None
    assert agenda.latest_version(db, tss, "minutes") is not None
    approval = next(h for h in meetings.history(db, tss) if h.action == "approve_minutes")
    assert approval.actor_id == user(db, "formand.tss").id
    recommended = [i for i in signature if i.outcome == Outcome.RECOMMENDED]
    returned = [i for i in signature if i.outcome == Outcome.RETURNED]
    assert len(recommended) >= 2 and returned
    for item in signature:
        event = db.get(CaseEvent, item.event_id)
        assert event.case_id == item.case_id and event.meeting_id == tss.id
        assert event.comment.startswith("Beslutning i TSS den 13. november 2020: ")
        assert event.comment.endswith(item.decision_text)
    assert {db.get(CaseEvent, i.event_id).to_state for i in recommended} == {"at_sku"}
    assert {db.get(CaseEvent, i.event_id).to_state for i in returned} == {"draft"}

    sku = meeting_on(db, "SKU", date(2020, 12, 16))
    assert sku.starts_at > tss.starts_at
    sku_items = {i.case_id: i for i in meetings.active_items(sku) if i.case_id}
    approved = [
        sku_items[i.case_id]
        for i in recommended
        if i.case_id in sku_items and sku_items[i.case_id].outcome == Outcome.APPROVED
    ]
    assert len(approved) >= 2
    kkr_feed = observers.approved_by_sku(db, user(db, "observatoer.kkr"))
    seen = {row.event.id for row in kkr_feed}
    for item in approved:
        event = db.get(CaseEvent, item.event_id)
        assert event.trigger == "sku_approve" and event.meeting_id == sku.id
        assert event.actor_id == user(db, "formand.sku").id
        assert event.to_state == "implementation"
        units = db.scalars(
            select(ImplementationStatus).where(ImplementationStatus.case_id == item.case_id)
        ).all()
        assert len([u for u in units if u.party.kind is PartyKind.MUNICIPALITY]) == 29
        assert event.id in seen


def test_every_published_or_held_demo_meeting_has_a_released_agenda(db):
    """Issue 11: "published" demo meetings had an empty draft agenda and no released version."""
    released = db.scalars(
        select(Meeting).where(
            Meeting.status.in_(
                [MeetingStatus.PUBLISHED, MeetingStatus.HELD, MeetingStatus.CLOSED,
                 MeetingStatus.MINUTES_APPROVED]
            )
        )
    ).all()  # fmt: skip
    assert released
    for meeting in released:
        version = agenda.latest_version(db, meeting, "agenda")
        assert version is not None, meeting.title
        assert version.snapshot["items"], meeting.title


# --- The agreement's rhythms (issue 16 point 9) --------------------------------------------


def test_tss_recommended_practice_plan_matters_to_ppu(db):
    approved = case_by_key(db, "SAG-2020-01402")
    triggers = [e.trigger for e in events_of(db, approved)]
    assert "tss_recommend_to_ppu" in triggers and "ppu_approve" in triggers
    assert "sku_approve" not in triggers and approved.extra["practice_plan"] is True
    waiting = case_by_key(db, "SAG-2021-00233")
    assert (waiting.state, waiting.current_body.code) == ("at_ppu", "PPU")


def test_sku_reviews_the_agreement_once_a_year(db):
    reviews = [c for c in demo_cases(db) if c.process == "agreement_review"]
    assert sorted(c.extra["opened_for"] for c in reviews) == ["2019", "2020", "2021"]
    assert {c.state for c in reviews} == {"no_revision_needed", "revision_needed", "review"}
    assert all(c.originating_body.code == "SKU" for c in reviews)


def test_each_su_reports_before_the_electoral_period_ends(db):
    reports = [c for c in demo_cases(db) if c.process == "electoral_period_report"]
    assert {c.extra["period_end"] for c in reports} == {"2021-12-31"}
    assert {c.state for c in reports} == {"preparing", "at_sku", "reported"}
    preparing = next(c for c in reports if c.state == "preparing")
    assert preparing.next_due_at is not None
    assert local_date(preparing.next_due_at) == date(2021, 12, 31)


def test_forums_presented_work_plans_and_tss_asked_for_status(db):
    plans = [c for c in demo_cases(db) if c.process == "forum_work_plan"]
    assert {c.originating_body.kind for c in plans} == {BodyKind.FORUM}
    assert {c.state for c in plans} == {"for_tss", "in_effect", "status_requested", "closed"}
    genop = case_by_key(db, "SAG-2020-00951")
    triggers = [e.trigger for e in events_of(db, genop)]
    assert triggers[-3:] == ["take_note", "request_status", "present_status"]


def test_a_forums_chair_set_up_an_ad_hoc_group(db):
    group = db.scalar(select(Body).where(Body.code == "FORUM-DATA-AH1"))
    assert group is not None and group.parent is not None
    assert (group.parent.code, group.kind, group.valid_to) == (
        "FORUM-DATA",
        BodyKind.WORKING_GROUP,
        date(2021, 6, 30),
    )
    entry = db.scalar(
        select(AdminAuditEntry).where(AdminAuditEntry.action == "ad_hoc_group_created")
    )
    assert entry is not None
    assert entry.actor_id == user(db, "formand.kommune.forum-data").id


def test_a_type_a_agreement_is_drafted_in_the_working_group_tss_chose(db):
    """Seed 002 l.75-77: with the terms of reference TSS decides who drafts (issue 16, 5)."""
    case = case_by_key(db, "SAG-2020-00117")
    approved = next(e for e in events_of(db, case) if e.trigger == "approve_terms")
    assert approved.data["drafting_body"] == "AG-IV"
    assert case.extra["drafting_body"] == "AG-IV"
    consultation = next(e for e in events_of(db, case) if e.trigger == "start_consultation")
    assert consultation.from_state == "drafting"
    # The forum for aids drafts the revision of its catalogue: the body that raised it.
    revision = case_by_key(db, "SAG-2020-01035")
    drafting = db.scalar(
        select(Deadline).where(Deadline.case_id == revision.id, Deadline.state == "drafting")
    )
    assert revision.extra.get("drafting_body") is None
    assert db.get(Body, drafting.body_id).code == "FORUM-HJAELP"


def test_a_clusters_own_task_was_reported_to_the_joint_secretariat_and_spread_by_tss(db):
    """Seed 002 l.90-91 and l.33-34 (issue 16, 6): TSS approved a cost-driving task itself."""
    case = case_by_key(db, "SAG-2020-00391")
    triggers = [e.trigger for e in events_of(db, case)]
    assert triggers[:4] == [
        "create", "start_own_initiative", "report_to_secretariat", "bring_to_tss",
    ]  # fmt: skip
    assert "approve_spreading" in triggers
    assert case.cost_driving and case.state in ("spreading", "completed")


def test_the_plans_record_the_kkr_dialogue_the_budgets_and_the_indicator_values(db):
    """Issue 16 point 8 (seed 004 l.299-300, l.337-339): each plan past the dialogue has it on
    record; each adopted plan was adopted at an SKU meeting after both recorded budget
    adoptions; the completed plan's follow-up recorded the region's values of its indicators."""
    db.expire_all()
    plans = [c for c in demo_cases(db) if c.process == "implementation_plan"]
    adopted = completed = 0
    for plan in plans:
        events = events_of(db, plan)
        triggers = [e.trigger for e in events]
        if "conclude_dialogue" in triggers:
            assert triggers.index("record_kkr_dialogue") < triggers.index("conclude_dialogue")
            dialogue = next(e for e in events if e.trigger == "record_kkr_dialogue")
            assert dialogue.data["dialogue_participants"] and dialogue.data["dialogue_outcome"]
        if "adopt" in triggers:
            adopted += 1
            adoption = next(e for e in events if e.trigger == "adopt")
            meeting = db.get(Meeting, adoption.meeting_id)
            assert meeting.body.code == "SKU"
            budgets = [
                date.fromisoformat(plan.extra[name])
                for name in ("municipal_budgets_adopted_on", "regional_budget_adopted_on")
            ]
            assert all(day.year == plan.plan_year - 1 for day in budgets)
            assert local_date(meeting.starts_at) > max(budgets)
        if plan.state == "completed":
            completed += 1
            [recorded] = [e for e in events if e.trigger == "indicator_values_recorded"]
            values = recorded.data["indicator_values"]
            assert {v["code"] for v in values} == {"GENIND-30", "KOL-INDL"}
            assert all(v["value"] is not None for v in values)
    assert adopted >= 3 and completed >= 1


def test_tss_set_up_a_working_group_when_it_approved_terms_of_reference(db):
    """Issue 16 point 5: the approval names a new temporary working group, set up in the same
    step under TSS and audited; the group drafts and sends the draft for consultation."""
    case = case_by_key(db, "SAG-2021-00233")
    approved = next(e for e in events_of(db, case) if e.trigger == "approve_terms")
    group = db.scalar(select(Body).where(Body.code == case.extra["drafting_body"]))
    assert group.name == approved.data["new_working_group"]
    assert (str(group.kind), group.parent.code, group.valid_to) == (
        "working_group", "TSS", date(2021, 12, 31),
    )  # fmt: skip
    consultation = next(e for e in events_of(db, case) if e.trigger == "start_consultation")
    assert consultation.from_state == "drafting"
    assert db.scalar(
        select(AdminAuditEntry).where(
            AdminAuditEntry.action == "working_group_created",
            AdminAuditEntry.object_id == str(group.id),
        )
    )
