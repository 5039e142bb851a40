"""Webhooks end to end: written with the event, posted signed to a real receiver on the
loopback, verified by an independent implementation, retried with backoff while the receiver
is down, given up after the last attempt, redelivered by hand, and never twice at once."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.webhooks import FAST, Received, verify_with_node

from models import (
    Body,
    CaseEvent,
    DeliveryStatus,
    User,
    WebhookAttempt,
    WebhookDelivery,
)
from workflow.engine import clock
from workflow.engine import core as engine
from workflow.engine.errors import NotAllowed
from workflow.engine.unit_of_work import unit_of_work
from workflow.webhooks import delivery, events
from workflow.webhooks import operations as webhooks
from workflow.webhooks.delivery import WebhookConfig


def _deliveries(session: Session, subscription_id: int) -> list[WebhookDelivery]:
    return list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription_id)
            .order_by(WebhookDelivery.id)
        )
    )


def test_an_event_writes_one_delivery_per_matching_subscription(
    session, subscribe, make_case, receiver
):
    everything = subscribe(receiver.url)
    only_transitions = subscribe(receiver.url, event_types=[events.TRANSITIONED])
    elsewhere = subscribe(receiver.url, code="SU-SYD-SOM")
    ended = subscribe(receiver.url)
    webhooks.unsubscribe(session, ended.created_by, ended)

    case = make_case()

    [created] = _deliveries(session, everything.id)
    assert created.event_type == events.CREATED
    assert created.status == DeliveryStatus.PENDING
    assert created.payload and f'"id":{case.id}' in created.payload
    assert created.webhook_id == events.webhook_id(created.event_id, everything.id)
    assert _deliveries(session, only_transitions.id) == []
    assert _deliveries(session, elsewhere.id) == []
    assert _deliveries(session, ended.id) == []


def test_a_subscription_made_after_events_without_one_gets_the_next_event(
    session, subscribe, make_case, make_user, receiver
):
    # Events written while no one subscribes want no delivery; a subscription made after them
    # is honoured by the very next event, not after some cache has gone stale.
    chair = make_user("chair@FORUM-DATA")
    first, second = (make_case("forum_matter", origin="FORUM-DATA") for _ in range(2))
    engine.perform(first, "raise", chair)
    assert session.scalars(select(WebhookDelivery)).all() == []

    subscription = subscribe(receiver.url, code="FORUM-DATA")
    event = engine.perform(second, "raise", chair)

    [delivery_row] = _deliveries(session, subscription.id)
    assert delivery_row.event_id == event.id
    assert delivery_row.event_type == events.TRANSITIONED


def test_an_event_rolled_back_leaves_no_delivery(session, subscribe, make_user, body, receiver):
    subscription = subscribe(receiver.url)
    author = make_user("member@SU-NORD-SOM")
    with pytest.raises(RuntimeError), unit_of_work(session):
        engine.create_case(
            session, process="signature_initiative", title="Fortrudt",
            originating_body=body("SU-NORD-SOM"), actor=author,
        )  # fmt: skip
        raise RuntimeError("the change fails after its event was written")
    assert _deliveries(session, subscription.id) == []


def test_deliveries_are_signed_and_an_independent_implementation_verifies_them(
    session, subscribe, make_case, receiver
):
    subscription = subscribe(receiver.url)
    case = make_case(title='Sag med æøå og "citat"')

    report = delivery.deliver_due(session, FAST)

    assert report.delivered == 1
    [message] = receiver.received
    assert message.headers["webhook-signature"].startswith("v1,")
    assert message.headers["content-type"] == "application/json"
    assert message.payload["type"] == "case.created"
    assert message.payload["data"]["case"]["title"] == 'Sag med æøå og "citat"'
    assert message.payload["data"]["links"]["case"] == f"/api/v1/cases/{case.id}"
    tampered = Received(message.headers, message.body.replace("æøå", "aeoeaa"))
    other_id = Received({**message.headers, "webhook-id": "msg_other"}, message.body)
    results = verify_with_node(subscription.secret, [message, tampered, other_id])
    assert [r["ok"] for r in results] == [True, False, False]
    [row] = _deliveries(session, subscription.id)
    assert row.status == DeliveryStatus.DELIVERED and row.last_status_code == 204
    assert [a.status_code for a in row.log] == [204]


def test_a_receiver_down_is_retried_with_backoff_and_gets_the_message_once_when_up(
    session, subscribe, make_case, receiver
):
    subscription = subscribe(receiver.url)
    make_case()
    receiver.stop()
    start = clock.now()

    first = delivery.deliver_due(session, FAST, now=start)
    [row] = _deliveries(session, subscription.id)
    assert first.retrying == 1 and row.status == DeliveryStatus.PENDING
    [attempt] = row.log
    assert attempt.status_code is None and attempt.error
    # The first wait is base_delay with jitter: between half of it and all of it.
    assert start + timedelta(seconds=30) <= attempt.next_attempt_at <= start + timedelta(seconds=60)

    # Not due yet: nothing is tried.
    assert delivery.deliver_due(session, FAST, now=start + timedelta(seconds=29)).retrying == 0
    receiver.start()  # up again, on the same port
    later = row.next_attempt_at
    assert later is not None
    assert delivery.deliver_due(session, FAST, now=later).delivered == 1
    assert delivery.deliver_due(session, FAST, now=later + timedelta(hours=1)).delivered == 0

    session.refresh(row)
    assert row.status == DeliveryStatus.DELIVERED and row.attempts == 2
    assert [a.attempt for a in row.log] == [1, 2]
    assert receiver.ids() == [row.webhook_id]  # delivered once


def test_after_the_last_attempt_it_fails_and_a_redelivery_sends_it_again(
    session, subscribe, make_case, receiver, make_user
):
    subscription = subscribe(receiver.url)
    make_case()
    receiver.status = 500
    moment = clock.now()
    for _ in range(FAST.max_attempts):
        delivery.deliver_due(session, FAST, now=moment)
        moment += timedelta(seconds=FAST.max_delay)
    [row] = _deliveries(session, subscription.id)
    assert row.status == DeliveryStatus.FAILED and row.last_status_code == 500
    assert row.next_attempt_at is None and len(row.log) == FAST.max_attempts
    waits = [a.next_attempt_at - a.attempted_at for a in row.log[:-1] if a.next_attempt_at]
    assert waits[1] > waits[0] / 2  # doubling (with jitter)
    assert delivery.deliver_due(session, FAST, now=moment).delivered == 0

    with pytest.raises(NotAllowed):
        webhooks.redeliver(session, make_user("member@SU-NORD-SOM"), row)
    receiver.status = 200
    webhooks.redeliver(session, subscription.created_by, row)
    assert delivery.deliver_due(session, FAST, now=clock.now()).delivered == 1
    session.refresh(row)
    assert row.status == DeliveryStatus.DELIVERED
    assert [a.attempt for a in row.log] == [1, 2, 3, 4]
    assert len(set(receiver.ids())) == 1  # the same message id every time


def test_backoff_doubles_with_jitter_up_to_its_cap():
    config = WebhookConfig(base_delay=10, max_delay=100)
    assert delivery.backoff(1, config, lambda: 1.0) == timedelta(seconds=10)
    assert delivery.backoff(1, config, lambda: 0.0) == timedelta(seconds=5)
    assert delivery.backoff(3, config, lambda: 1.0) == timedelta(seconds=40)
    assert delivery.backoff(9, config, lambda: 1.0) == timedelta(seconds=100)
    assert delivery.backoff(60, config, lambda: 0.0) == timedelta(seconds=50)


# --- two senders at once, on their own connections -------------------------------------------


@pytest.fixture
def shared_engine(db_engine, tmp_path):
    """An engine whose commits are real, in a database of its own (a fresh SQLite file, or a
    scratch database on the PostgreSQL server), so the committed cases and deliveries never
    reach another test's database."""
    import os
    from contextlib import ExitStack

    from workflow.engine import migrate
    from workflow.engine.db import make_engine, scratch_postgres_database
    from workflow.organisation import seed

    with ExitStack() as stack:
        if db_engine.dialect.name == "postgresql":
            url = stack.enter_context(scratch_postgres_database(os.environ["TEST_DATABASE_URL"]))
        else:
            url = f"sqlite:///{tmp_path / 'webhooks.db'}"
        shared = make_engine(url)
        stack.callback(shared.dispose)
        migrate.upgrade(shared)
        with Session(shared) as setup:
            seed.run(setup)
            setup.commit()
        yield shared


def test_two_senders_at_once_post_each_delivery_once(shared_engine, receiver):
    with Session(shared_engine, expire_on_commit=False) as setup:
        code = "FORUM-DATA"
        forum = setup.scalar(select(Body).where(Body.code == code))
        assert forum is not None
        tag = uuid.uuid4().hex
        secretariat = User(email=f"{tag}@test.aftaleflow.dk", name="Sekretariat")
        author = User(email=f"a{tag}@test.aftaleflow.dk", name="Forfatter")
        setup.add_all([secretariat, author])
        setup.flush()
        from models import Membership, Role

        setup.add_all([
            Membership(user_id=secretariat.id, body_id=forum.id, role=Role.SECRETARIAT),
            Membership(user_id=author.id, body_id=forum.id, role=Role.MEMBER),
        ])  # fmt: skip
        setup.commit()
        subscription = webhooks.subscribe(
            setup, secretariat, forum, url=receiver.url, event_types=list(events.EVENT_TYPES)
        )
        for number in range(6):
            engine.create_case(
                setup, process="forum_matter", title=f"Sag {number} {tag}",
                originating_body=forum, actor=author,
            )  # fmt: skip
        expected = sorted(
            setup.scalars(
                select(WebhookDelivery.webhook_id).where(
                    WebhookDelivery.subscription_id == subscription.id
                )
            )
        )
    assert len(expected) == 6
    config = WebhookConfig(batch_size=2, timeout=5)
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def send() -> None:
        try:
            with Session(shared_engine, expire_on_commit=False) as session:
                start.wait()
                for _ in range(4):
                    delivery.deliver_due(session, config)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        with Session(shared_engine) as cleanup:
            row = cleanup.get(type(subscription), subscription.id)
            assert row is not None
            webhooks.unsubscribe(cleanup, secretariat, row)
    assert errors == []
    assert sorted(receiver.ids()) == expected  # every one, none twice
    with Session(shared_engine) as check:
        attempts = check.scalars(
            select(WebhookAttempt.delivery_id)
            .join(WebhookDelivery)
            .where(WebhookDelivery.subscription_id == subscription.id)
        ).all()
    assert len(attempts) == 6


def test_no_second_delivery_row_for_the_same_event_and_subscription(
    session, subscribe, make_case, receiver
):
    from sqlalchemy.exc import IntegrityError

    subscription = subscribe(receiver.url)
    make_case()
    [row] = _deliveries(session, subscription.id)
    event = session.get(CaseEvent, row.event_id)
    assert event is not None
    with pytest.raises(IntegrityError), unit_of_work(session):
        session.add(
            WebhookDelivery(
                webhook_id="msg_copy", event_id=event.id, subscription_id=subscription.id,
                event_type=row.event_type, payload=row.payload,
            )
        )  # fmt: skip
