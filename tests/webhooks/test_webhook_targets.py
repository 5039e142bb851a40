"""Where webhooks may go: http(s) to public addresses; loopback, private and link-local
addresses (the cloud's metadata service among them) only where the deployment allows them."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models import WebhookDelivery
from workflow.engine.values import InvalidValue
from workflow.webhooks import delivery, targets
from workflow.webhooks.operations import WebhookRefused


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.org/hook",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://example.org/",
        "https://user:secret@example.org/hook",
        "https://example.org:99999/hook",
        "https://example.org/hook\nX-Injected: 1",
        "/relative/path",
    ],
)
def test_only_plain_http_and_https_addresses_are_receivers(url):
    with pytest.raises(InvalidValue):
        targets.receiver_url(url, private=True)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.5/hook",
        "http://192.168.1.1/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_internal_addresses_are_refused_unless_the_deployment_allows_them(url):
    with pytest.raises(InvalidValue) as refused:
        targets.receiver_url(url, private=False)
    assert "intern" in refused.value.message_da
    assert targets.receiver_url(url, private=True) == url


def test_a_public_address_is_a_receiver():
    assert targets.receiver_url("https://esdh.example.org/hooks", private=False)


def test_a_host_name_that_resolves_to_the_loopback_is_refused_when_sending():
    with pytest.raises(InvalidValue):
        targets.check_resolved("http://localhost:9/hook", private=False)
    targets.check_resolved("http://localhost:9/hook", private=True)


def test_the_secretariat_cannot_subscribe_an_internal_address(subscribe, monkeypatch):
    monkeypatch.setenv(targets.ALLOW_PRIVATE_SETTING, "0")
    with pytest.raises(WebhookRefused) as refused:
        subscribe("http://169.254.169.254/latest/meta-data/")
    assert refused.value.rule == "safe_receiver"


def test_a_receiver_behind_the_loopback_is_not_posted_to_where_that_is_not_allowed(
    session, subscribe, make_case, receiver, monkeypatch
):
    subscription = subscribe(receiver.url)
    make_case()
    monkeypatch.setenv(targets.ALLOW_PRIVATE_SETTING, "0")
    report = delivery.deliver_due(session, delivery.WebhookConfig(max_attempts=1))
    assert report.failed == 1
    assert receiver.received == []
    row = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription.id)
    )
    assert row is not None and "internal" in (row.last_error or "")
