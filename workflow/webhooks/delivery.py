"""Send the due webhook deliveries: claim, post signed, log the attempt, back off or give up.

At least once, never twice at the same time: a sender claims a row by a conditional update
(`locked_until`), which only one of two concurrent senders wins on either database; the
message id is fixed per event × subscription, so a receiver recognises a repeat after a
crash between its answer and our record. Backoff is exponential with jitter and a cap; after
`max_attempts` the delivery is given up ("failed") until someone redelivers it.
"""

from __future__ import annotations

import logging
import os
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models import DeliveryStatus, WebhookAttempt, WebhookDelivery, WebhookSubscription
from models.base import utcnow
from workflow.engine.unit_of_work import unit_of_work
from workflow.engine.values import InvalidValue
from workflow.notifications.delivery import env_int
from workflow.webhooks import signing, targets

log = logging.getLogger(__name__)
USER_AGENT = "Aftaleflow-Webhooks/1"
ERROR_MAX = 500


@dataclass(frozen=True)
class WebhookConfig:
    """How hard the sender tries (AFTALEFLOW_WEBHOOK_* settings)."""

    max_attempts: int = 8
    base_delay: int = 30  # seconds before the second attempt (doubling after each)
    max_delay: int = 6 * 3600  # the cap of one wait
    timeout: int = 10  # seconds for the receiver to answer
    batch_size: int = 50
    private: bool | None = None  # None: the AFTALEFLOW_WEBHOOKS_ALLOW_PRIVATE setting

    @property
    def lease(self) -> timedelta:
        """How long a claim lasts: well beyond one post's timeout."""
        return timedelta(seconds=max(60, 6 * self.timeout))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WebhookConfig:
        env = os.environ if environ is None else environ
        return cls(
            max_attempts=env_int(env, "AFTALEFLOW_WEBHOOK_MAX_ATTEMPTS", 8, minimum=1, maximum=50),
            base_delay=env_int(env, "AFTALEFLOW_WEBHOOK_BASE_DELAY", 30, minimum=1),
            max_delay=env_int(env, "AFTALEFLOW_WEBHOOK_MAX_DELAY", 6 * 3600, minimum=1),
            timeout=env_int(env, "AFTALEFLOW_WEBHOOK_TIMEOUT", 10, minimum=1, maximum=120),
        )


def backoff(
    attempt: int, config: WebhookConfig, rand: Callable[[], float] = random.random
) -> timedelta:
    """The wait after failed attempt `attempt` (1, 2 …): base·2^(attempt−1), capped, of which
    a random half to all is taken (jitter, so receivers coming back are not hit in step)."""
    ceiling = min(config.max_delay, config.base_delay * 2 ** min(attempt - 1, 30))
    return timedelta(seconds=ceiling * (0.5 + 0.5 * rand()))


@dataclass
class DeliveryReport:
    """What one run did."""

    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def _due(now: datetime) -> list[object]:
    return [
        WebhookDelivery.status == DeliveryStatus.PENDING,
        WebhookDelivery.next_attempt_at <= now,
        or_(WebhookDelivery.locked_until.is_(None), WebhookDelivery.locked_until <= now),
    ]


def claim(session: Session, now: datetime, config: WebhookConfig) -> list[int]:
    """Take up to a batch of due deliveries for this sender (none another sender holds)."""
    with unit_of_work(session):
        candidates = session.scalars(
            select(WebhookDelivery.id)
            .where(*_due(now))  # type: ignore[arg-type]
            .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
            .limit(config.batch_size)
        ).all()
        claimed: list[int] = []
        for delivery_id in candidates:
            # Re-checked in the update: of two senders only one changes the row.
            won = session.execute(
                update(WebhookDelivery)
                .where(WebhookDelivery.id == delivery_id, *_due(now))  # type: ignore[arg-type]
                .values(locked_until=now + config.lease)
                .execution_options(synchronize_session=False)
            )
            if won.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(delivery_id)
    return claimed


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str | None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def post(url: str, secret: str, webhook_id: str, body: str, config: WebhookConfig) -> Outcome:
    """Post one signed message; never raises for the receiver's faults."""
    import requests  # here, not when the web app starts (cold start): the scheduler posts

    try:
        targets.check_resolved(url, private=config.private)
    except InvalidValue as refused:
        return Outcome(None, refused.message_en)
    headers = signing.headers(secret, webhook_id, datetime.now(UTC), body)
    headers["content-type"] = "application/json"
    headers["user-agent"] = USER_AGENT
    try:
        response = requests.post(
            url, data=body.encode("utf-8"), headers=headers, timeout=config.timeout,
            allow_redirects=False,
        )  # fmt: skip
    except (requests.RequestException, ValueError, UnicodeError) as error:
        # A receiver's fault (refused, timed out, a bad answer or address): logged, retried.
        return Outcome(None, f"{type(error).__name__}: {error}"[:ERROR_MAX])
    if 200 <= response.status_code < 300:
        return Outcome(response.status_code, None)
    return Outcome(response.status_code, f"HTTP {response.status_code}")


def record(
    session: Session,
    delivery: WebhookDelivery,
    outcome: Outcome,
    now: datetime,
    config: WebhookConfig,
    *,
    requested_by: int | None = None,
) -> None:
    """Log the attempt on the delivery and decide what comes next (inside a unit of work)."""
    delivery.attempts += 1
    number = (
        session.scalar(
            select(func.max(WebhookAttempt.attempt)).where(
                WebhookAttempt.delivery_id == delivery.id
            )
        )
        or 0
    ) + 1
    delivery.last_status_code = outcome.status_code
    delivery.last_error = outcome.error
    delivery.locked_until = None
    if outcome.ok:
        delivery.status = DeliveryStatus.DELIVERED
        delivery.delivered_at = now
        delivery.next_attempt_at = None
    elif delivery.attempts >= config.max_attempts:
        delivery.status = DeliveryStatus.FAILED
        delivery.failed_at = now
        delivery.next_attempt_at = None
    else:
        delivery.next_attempt_at = now + backoff(delivery.attempts, config)
    session.add(
        WebhookAttempt(
            delivery_id=delivery.id, attempt=number, attempted_at=now,
            status_code=outcome.status_code, error=outcome.error,
            next_attempt_at=delivery.next_attempt_at, requested_by_id=requested_by,
        )
    )  # fmt: skip


def send_one(session: Session, delivery_id: int, now: datetime, config: WebhookConfig) -> str:
    """Send a claimed delivery and record the result; return its status afterwards."""
    # Read in a unit of its own: it ends before the post, so no transaction stays open while
    # the receiver answers.
    with unit_of_work(session):
        delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
        assert delivery is not None
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        assert subscription is not None
        url, secret, webhook_id, body = (
            subscription.url,
            subscription.secret,
            delivery.webhook_id,
            delivery.payload,
        )
        ended = subscription.deleted_at is not None
    if ended:
        outcome = Outcome(None, "The subscription was deleted.")
    else:
        outcome = post(url, secret, webhook_id, body, config)
    with unit_of_work(session):
        delivery = session.get(WebhookDelivery, delivery_id, populate_existing=True)
        assert delivery is not None
        if delivery.status != DeliveryStatus.PENDING:
            return delivery.status.value
        if ended:
            delivery.attempts = config.max_attempts - 1
        record(session, delivery, outcome, now, config)
        return delivery.status.value


def deliver_due(
    session: Session, config: WebhookConfig | None = None, *, now: datetime | None = None,
    max_batches: int = 20,
) -> DeliveryReport:  # fmt: skip
    """Claim and send due deliveries, batch by batch, until none are left or the cap."""
    config = config or WebhookConfig.from_env()
    now = now or utcnow()
    report = DeliveryReport()
    for _ in range(max_batches):
        ids = claim(session, now, config)
        for delivery_id in ids:
            status = send_one(session, delivery_id, now, config)
            if status == DeliveryStatus.DELIVERED:
                report.delivered += 1
            elif status == DeliveryStatus.FAILED:
                report.failed += 1
            else:
                report.retrying += 1
        if len(ids) < config.batch_size:
            break
    return report
