"""The engine's promises: one transaction, optimistic locking, a hash-chained audit trail,
one shared machine per definition, permissions and notifications."""

from __future__ import annotations

import threading
import uuid
from itertools import pairwise

import pytest
from sqlalchemy import func, select
from support.formandskab import decide, proposed_by_co_chair
from transitions import Machine

from models import (
    GENESIS_HASH,
    Body,
    Case,
    CaseEvent,
    Membership,
    Notification,
    Role,
    User,
)
from workflow.engine import clock, deadlines
from workflow.engine import core as engine
from workflow.engine import notices as notifications
from workflow.engine.chain import case_event_hash
from workflow.engine.db import make_session_factory
from workflow.engine.errors import Conflict, GuardFailed, InvalidTrigger, NotAllowed
from workflow.engine.outbox import enqueue
from workflow.engine.processes import registry


def _events(session, case):
    return session.scalars(
        select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.seq)
    ).all()


def _notified(session, user):
    return session.scalars(select(Notification).where(Notification.recipient_id == user.id)).all()


# --- One transaction: all or nothing ------------------------------------------------------


def test_refused_guard_writes_nothing(make_case, make_user, footprint, make_meeting):
    make_meeting("TSS")
    case = make_case(state="at_tss", cost_driving=True, business_case="")
    before = footprint(case)
    with pytest.raises(GuardFailed):
        decide(case, "tss_recommend", make_user("chair@TSS"))
    assert footprint(case) == before


@pytest.mark.parametrize(
    "target", [(notifications, "after_transition"), (deadlines, "recompute")], ids=lambda t: t[1]
)
def test_failure_after_the_state_changed_rolls_everything_back(
    make_case, make_user, footprint, monkeypatch, target
):
    case = make_case()
    make_user("secretariat@TSS")  # someone to notify
    chair = make_user("chair@SU-NORD-SOM")
    proposed_by_co_chair(case, "submit", chair)  # the chair's action takes the decision
    before = footprint(case)

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(*target, explode)
    with pytest.raises(RuntimeError):
        decide(case, "submit", chair)

    assert footprint(case) == before
    assert (case.state, case.version) == ("draft", before["version"])  # the object too


def test_failure_in_an_automatic_route_undoes_the_transition_that_caused_it(
    make_case, make_user, footprint, monkeypatch
):
    case = make_case("forum_matter", origin="FORUM-DATA", principled=True)
    before = footprint(case)
    real = notifications.after_transition

    def fail_on_route(session, case, event, *args, **kwargs):
        if event.trigger == "escalate":
            raise RuntimeError("mail queue unavailable")
        real(session, case, event, *args, **kwargs)

    monkeypatch.setattr(notifications, "after_transition", fail_on_route)
    with pytest.raises(RuntimeError):
        decide(case, "raise", make_user("member@FORUM-DATA"))
    assert footprint(case) == before


def test_check_is_a_dry_run(make_case, make_user, footprint):
    case = make_case(state="at_tss", cost_driving=True, role_distribution="", business_case="")
    before = footprint(case)
    failures = engine.check(case, "tss_recommend", make_user("chair@TSS"))
    assert [f.rule for f in failures] == [
        "role_distribution_stated",
        "business_case_stated",
        "financing_follows",
    ]
    assert footprint(case) == before
    assert engine.check(case, "tss_reject", make_user("chair@TSS"), comment="Nej.") == []


# --- Optimistic locking ---------------------------------------------------------------


def test_stale_expected_version_is_a_conflict(make_case, make_user, footprint):
    case = make_case()
    chair = make_user("chair@SU-NORD-SOM")
    proposed_by_co_chair(case, "submit", chair)  # the chair's action takes the decision
    before = footprint(case)
    with pytest.raises(Conflict) as refused:
        decide(case, "submit", chair, expected_version=case.version - 1)
    assert "Genindlæs sagen" in refused.value.message
    assert (refused.value.expected, refused.value.actual) == (case.version - 1, case.version)
    assert footprint(case) == before
    decide(case, "submit", chair, expected_version=case.version)
    assert case.state == "at_tss"


def test_stale_form_for_an_action_no_longer_possible_is_still_a_conflict(make_case, make_user):
    case = make_case()
    read_version = case.version
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    with pytest.raises(Conflict):
        decide(
            case,
            "withdraw",
            make_user("chair@SU-NORD-SOM"),
            "Ikke aktuel",
            None,
            expected_version=read_version,
        )


def test_edit_with_stale_version_is_a_conflict(make_case, make_user):
    case = make_case()
    member = make_user("member@SU-NORD-SOM")
    with pytest.raises(Conflict):
        engine.edit_case(case, member, {"summary": "Ny tekst"}, expected_version=case.version - 1)
    assert engine.edit_case(case, member, {"summary": "Ny tekst"}, case.version) is not None


@pytest.fixture
def committed_case(private_engine):
    """A forum matter and its chair, committed for real in a database of their own."""
    factory = make_session_factory(private_engine)
    tag = uuid.uuid4().hex[:8]
    with factory() as setup:
        forum = setup.scalar(select(Body).where(Body.code == "FORUM-HJERNE"))
        chair = User(email=f"samtidig-{tag}@test.aftaleflow.dk", name="Samtidig Formand")
        setup.add(chair)
        setup.flush()
        setup.add(Membership(user_id=chair.id, body_id=forum.id, role=Role.CHAIR))
        setup.commit()
        case = engine.create_case(
            setup, process="forum_matter", title=f"Samtidighed {tag}", originating_body=forum,
            actor=chair,
        )  # fmt: skip
        return factory, case.id, chair.id


def test_concurrent_change_through_another_connection_is_refused_not_overwritten(committed_case):
    factory, case_id, chair_id = committed_case
    with factory() as first, factory() as second:
        mine = first.get(Case, case_id)
        my_self = first.get(User, chair_id)
        first.commit()  # the form is on screen; no transaction stays open meanwhile
        theirs = second.get(Case, case_id)
        decide(theirs, "withdraw", second.get(User, chair_id), comment="Dublet.")

        with pytest.raises(Conflict) as refused:
            decide(mine, "raise", my_self, expected_version=mine.version)
        assert (refused.value.expected, refused.value.actual) == (1, 2)
        assert mine.state == "withdrawn"  # reloaded, not the lost write
    with factory() as check:
        stored = check.get(Case, case_id)
        assert (stored.state, stored.version) == ("withdrawn", 2)
        assert [e.trigger for e in _events(check, stored)] == ["create", "withdraw"]


def test_event_appended_by_another_writer_meanwhile_does_not_fork_the_chain(committed_case):
    factory, case_id, chair_id = committed_case
    errors: list[BaseException] = []

    def withdraw() -> None:
        try:
            with factory() as other:
                case = other.get(Case, case_id)
                decide(case, "withdraw", other.get(User, chair_id), comment="Dublet.")
        except BaseException as exc:  # reported below
            errors.append(exc)

    with factory() as sweeper:  # like the scheduler: appends without changing the case
        case = sweeper.get(Case, case_id)
        engine.append_event(
            sweeper, case, trigger="deadline_note", actor=None, from_state=case.state,
            comment="Påmindelse sendt.", data={}, now=clock.now(),
        )  # fmt: skip
        thread = threading.Thread(target=withdraw)
        thread.start()
        thread.join(timeout=0.5)
        assert thread.is_alive()  # the transition waits for the open append
        sweeper.commit()
        thread.join()
    assert errors == []
    with factory() as check:
        events = _events(check, check.get(Case, case_id))
        assert [(e.seq, e.trigger) for e in events] == [
            (1, "create"), (2, "deadline_note"), (3, "withdraw"),
        ]  # fmt: skip
        for previous, event in pairwise(events):
            assert event.prev_hash == previous.hash


# --- Audit trail ----------------------------------------------------------------------


def test_events_form_a_hash_chain_that_survives_a_reload(session, make_case, make_user):
    case = make_case("forum_matter", origin="FORUM-DATA", cost_driving=True, business_case="")
    decide(case, "raise", make_user("member@FORUM-DATA"))  # + automatic escalation
    decide(case, "tss_decide", make_user("chair@TSS"), comment="Finansieres af TSS.")
    session.expire_all()
    events = _events(session, case)
    assert [e.seq for e in events] == [1, 2, 3, 4, 5]  # the co-chair's proposal, then consent
    assert events[0].prev_hash == GENESIS_HASH
    for previous, event in pairwise(events):
        assert event.prev_hash == previous.hash
    for event in events:
        assert event.hash == case_event_hash(event)
    events[2].comment = "Ændret bagefter"  # tampering is detectable
    assert case_event_hash(events[2]) != events[2].hash
    session.expire_all()


# --- One shared machine per definition version ---------------------------------------


def test_cases_share_one_machine_and_never_get_their_own(make_case, make_user, monkeypatch):
    first, second = make_case(), make_case()
    definition = engine.definition_of(first)
    assert engine.definition_of(second) is definition
    machine = registry.machine(definition)
    assert registry.machine(engine.definition_of(second)) is machine

    def forbidden(*args, **kwargs):
        raise AssertionError("no machine or model binding per case")

    monkeypatch.setattr(Machine, "__init__", forbidden)
    monkeypatch.setattr(Machine, "add_model", forbidden)
    chair = make_user("chair@SU-NORD-SOM")
    decide(first, "submit", chair)
    decide(second, "withdraw", chair, comment="Dublet.")
    assert (first.state, second.state) == ("at_tss", "withdrawn")
    assert machine.models == []


# --- Who may do what ------------------------------------------------------------------


def _triggers(case, actor):
    return [t.trigger for t in engine.allowed_triggers(case, actor)]


def test_allowed_triggers_depend_on_the_actor(session, make_case, make_user):
    case = make_case()
    assert _triggers(case, make_user("chair@SU-NORD-SOM")) == ["submit", "withdraw"]
    assert _triggers(case, make_user("secretariat@SU-NORD-SOM")) == ["submit", "withdraw"]
    assert _triggers(case, make_user("member@SU-NORD-SOM")) == []
    assert _triggers(case, make_user("chair@SU-SYD-SOM")) == []
    assert _triggers(case, make_user("chair@TSS")) == []
    assert _triggers(case, make_user(is_admin=True)) == []
    assert _triggers(case, None) == []
    decide(case, "submit", make_user("chair@SU-NORD-SOM"))
    assert _triggers(case, make_user("vice_chair@TSS")) == [
        "tss_recommend",
        "tss_return",
        "tss_reject",
    ]
    assert _triggers(case, make_user("chair@SU-NORD-SOM")) == []
    assert _triggers(case, make_user("observer@TSS")) == []


def test_inactive_user_or_membership_may_not_act(session, make_case, make_user):
    case = make_case()
    retired = make_user("chair@SU-NORD-SOM")
    retired.active = False
    session.commit()
    with pytest.raises(NotAllowed):
        decide(case, "submit", retired)
    moved_on = make_user("chair@SU-NORD-SOM")
    session.execute(
        Membership.__table__.update().where(Membership.user_id == moved_on.id).values(active=False)
    )
    session.commit()
    assert _triggers(case, moved_on) == []
    with pytest.raises(NotAllowed) as refused:
        decide(case, "submit", None)
    assert (
        "formandskabet for SU-NORD-SOM eller sekretariatet for SU-NORD-SOM" in refused.value.message
    )


def test_unknown_trigger_lists_what_is_possible(make_case, make_user):
    case = make_case()
    with pytest.raises(InvalidTrigger) as refused:
        decide(case, "approve", make_user("chair@SU-NORD-SOM"))
    assert "findes ikke i processen" in refused.value.message
    assert refused.value.valid == ["submit", "withdraw"]


def test_create_case_needs_a_member_of_the_raising_body(session, body, make_user):
    for outsider in (make_user("chair@SU-SYD-SOM"), make_user("observer@SU-NORD-SOM")):
        with pytest.raises(NotAllowed) as refused:
            engine.create_case(
                session, process="signature_initiative", title="Ny indsats",
                originating_body=body("SU-NORD-SOM"), actor=outsider,
            )  # fmt: skip
        assert "Kun medlemmer af SU-NORD-SOM" in refused.value.message
    with pytest.raises(GuardFailed) as refused:
        engine.create_case(
            session, process="signature_initiative", title="  ",
            originating_body=body("SU-NORD-SOM"), actor=make_user("member@SU-NORD-SOM"),
        )  # fmt: skip
    assert "titel" in refused.value.message


def test_edit_is_for_members_and_only_while_the_case_is_open(make_case, make_user):
    case = make_case()
    with pytest.raises(NotAllowed):
        engine.edit_case(case, make_user("observer@SU-NORD-SOM"), {"summary": "Ny"})
    decide(case, "withdraw", make_user("chair@SU-NORD-SOM"), comment="Dublet.")
    with pytest.raises(NotAllowed) as refused:
        engine.edit_case(case, make_user("member@SU-NORD-SOM"), {"summary": "Ny"})
    assert "afsluttet" in refused.value.message


# --- Submitted fields -----------------------------------------------------------------


def test_blank_required_comment_is_refused(make_case, make_user):
    case = make_case()
    with pytest.raises(GuardFailed) as refused:
        decide(case, "withdraw", make_user("chair@SU-NORD-SOM"), comment="   ")
    assert refused.value.message == "Feltet 'Begrundelse' skal udfyldes."


def test_field_values_are_checked_and_unknown_fields_refused(make_case, make_user):
    case = make_case("joint_agreement", origin="SU-MIDT-SOM", state="drafting")
    chair = make_user("chair@SU-MIDT-SOM")
    with pytest.raises(GuardFailed) as refused:
        decide(
            case, "start_consultation", chair,
            data={"consultation_deadline": "31-12-2020", "budget": "1 mio."},
        )  # fmt: skip
    messages = [f.message for f in refused.value.failures]
    assert "Feltet 'budget' hører ikke til handlingen 'Send i høring'." in messages
    assert "Feltet 'Høringsfrist' skal være en dato (ÅÅÅÅ-MM-DD)." in messages
    decide(case, "start_consultation", chair, data={"consultation_deadline": "2020-12-31"})
    assert case.extra["consultation_deadline"] == "2020-12-31"


@pytest.mark.parametrize(
    ("answer", "closes"), [("ja", True), (True, True), ("false", False), ("nej", False)]
)
def test_all_answered_from_a_form_means_what_it_says(make_case, make_user, answer, closes):
    case = make_case("joint_agreement", origin="SU-MIDT-SOM", state="drafting")
    chair = make_user("chair@SU-MIDT-SOM")
    decide(case, "start_consultation", chair, data={"consultation_deadline": "2020-12-31"})
    if closes:
        event = decide(case, "end_consultation", chair, data={"all_answered": answer})
        assert event.data["all_answered"] is True
    else:
        with pytest.raises(GuardFailed) as refused:
            decide(case, "end_consultation", chair, data={"all_answered": answer})
        assert [f.rule for f in refused.value.failures] == ["consultation_closed"]


def test_all_answered_must_be_yes_or_no(make_case, make_user):
    case = make_case("joint_agreement", origin="SU-MIDT-SOM", state="consultation")
    with pytest.raises(GuardFailed) as refused:
        decide(
            case, "end_consultation", make_user("chair@SU-MIDT-SOM"), data={"all_answered": "måske"}
        )
    assert "skal være ja eller nej" in refused.value.message


# --- Notifications --------------------------------------------------------------------


def test_each_person_is_notified_once_and_never_of_their_own_action(session, make_case, make_user):
    case = make_case(state="at_tss")
    actor = make_user("chair@TSS", "chair@SU-NORD-SOM")  # acts, and would otherwise be told
    both = make_user("secretariat@SKU", "chair@SKU", "secretariat@SU-NORD-SOM")
    sku_chair = make_user("chair@SKU")
    su_secretariat = make_user("secretariat@SU-NORD-SOM")
    su_member = make_user("member@SU-NORD-SOM")

    event = decide(case, "tss_recommend", actor)

    # Only the co-chair's proposal, which the actor's move consents to, asks them anything.
    assert [n.kind for n in _notified(session, actor)] == ["consent_requested"]
    assert [n.kind for n in _notified(session, both)] == ["case_arrived"]
    assert [n.kind for n in _notified(session, sku_chair)] == ["case_arrived"]
    assert [n.kind for n in _notified(session, su_secretariat)] == ["status_changed"]
    # Every member of the raising body hears of each move (issue 11), once.
    assert [n.kind for n in _notified(session, su_member)] == ["status_changed"]
    [arrived] = _notified(session, sku_chair)
    assert arrived.idempotency_key == f"event:{event.id}:user:{sku_chair.id}"
    assert arrived.case_id == case.id
    assert "SKU" in arrived.subject


def test_notifying_twice_for_one_event_adds_nothing(session, make_case, make_user):
    case = make_case(state="at_tss")
    make_user("chair@SKU")
    event = decide(case, "tss_recommend", make_user("chair@TSS"))
    count = select(func.count()).select_from(Notification).where(Notification.case_id == case.id)
    before = session.scalar(count)
    assert before > 0
    definition = engine.definition_of(case)
    notifications.after_transition(
        session, case, event, definition, definition.transition("tss_recommend"), None,
        body_changed=True,
    )  # fmt: skip
    assert session.scalar(count) == before
    again = enqueue(
        session, key=f"event:{event.id}:user:{event.actor_id}", recipient_id=event.actor_id,
        kind="x", subject="x", body="x",
    )  # fmt: skip
    assert again is not None
    assert (
        enqueue(session, key=again.idempotency_key, recipient_id=1, kind="x", subject="", body="")
        is None
    )


def test_the_secretariat_is_recorded_as_secretariat_not_as_member(make_case, make_user):
    case = make_case("forum_matter", origin="FORUM-DATA")
    event = decide(case, "raise", make_user("secretariat@FORUM-DATA"))
    assert event.data["role"] == "secretariat@originating"


def test_expenses_are_saved_with_the_edit_in_one_audited_event(session, make_case, make_user):
    from decimal import Decimal

    from models import CaseEvent, Party, PartyKind

    case = make_case()
    author = make_user("member@SU-NORD-SOM")
    municipality = session.scalar(select(Party).where(Party.kind == PartyKind.MUNICIPALITY))
    line = engine.ExpenseLine(municipality.id, Decimal("125000.50"), "Hjemmesygepleje")
    event = engine.edit_case(case, author, {"summary": "Ny tekst"}, case.version, expenses=[line])
    assert event.data["fields"] == ["summary", "expenses"]
    assert event.data["expenses"]["after"] == [
        [str(municipality.id), "125000.50", "Hjemmesygepleje"]
    ]
    assert [e.amount_dkk for e in case.expenses] == [Decimal("125000.50")]
    version = case.version
    removed = engine.edit_case(case, author, {}, version, expenses=[])
    assert removed.data["expenses"]["before"][0][1] == "125000.50"  # the old figure is kept
    assert case.expenses == []
    assert engine.edit_case(case, author, {}, case.version, expenses=[]) is None
    assert session.query(CaseEvent).filter_by(case_id=case.id, trigger="edit").count() == 2
