"""Fixtures of the webhook tests: a receiver on the loopback (which the deployment setting
allows here), a subscription to it and a sender that tries quickly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session
from support.webhooks import Receiver

from models import Body, User, WebhookSubscription
from workflow.webhooks import events, targets
from workflow.webhooks import operations as webhooks


@pytest.fixture(autouse=True)
def loopback_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(targets.ALLOW_PRIVATE_SETTING, "1")


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    found.start()
    yield found
    found.stop()


@pytest.fixture
def subscribe(
    session: Session, make_user: Callable[..., User], body: Callable[[str], Body]
) -> Callable[..., WebhookSubscription]:
    """Subscribe `url` to a body's events (all types unless given), as its secretariat."""

    def make(url: str, code: str = "SU-NORD-SOM", **kwargs: Any) -> WebhookSubscription:
        kwargs.setdefault("event_types", list(events.EVENT_TYPES))
        secretariat = make_user(f"secretariat@{code}")
        return webhooks.subscribe(session, secretariat, body(code), url=url, **kwargs)

    return make
