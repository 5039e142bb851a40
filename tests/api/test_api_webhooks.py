"""Webhooks through the API: a body's secretariat subscribes a receiver (the secret shown
once), reads the delivery log, redelivers and ends the subscription; others are refused with
the rule's reasons."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from support.api import problem_of
from support.webhooks import FAST, Receiver

from workflow.webhooks import delivery, targets


@pytest.fixture
def receiver(monkeypatch: pytest.MonkeyPatch) -> Iterator[Receiver]:
    monkeypatch.setenv(targets.ALLOW_PRIVATE_SETTING, "1")
    found = Receiver()
    found.start()
    yield found
    found.stop()


def test_the_secretariat_subscribes_reads_the_log_redelivers_and_ends_it(
    api, make_case, session, receiver
):
    secretariat = api("secretariat@SU-NORD-SOM")
    made = secretariat.post(
        "/webhooks",
        json={"body": "SU-NORD-SOM", "url": receiver.url, "event_types": ["case.created"],
              "description": "ESDH"},
    )  # fmt: skip
    assert made.status_code == 201, made.get_data(as_text=True)
    created = made.get_json()
    assert created["secret"].startswith("whsec_")
    assert made.headers["Location"].endswith(f"/api/v1/webhooks/{created['id']}")
    listed = secretariat.get("/webhooks").get_json()
    assert [w["id"] for w in listed] == [created["id"]]
    assert (
        "secret" not in listed[0]
        and "secret" not in secretariat.get(f"/webhooks/{created['id']}").get_json()
    )

    case = make_case()
    assert delivery.deliver_due(session, FAST).delivered == 1
    log = secretariat.get(f"/webhooks/{created['id']}/deliveries").get_json()
    [entry] = log
    assert entry["status"] == "delivered" and entry["event_type"] == "case.created"
    assert entry["log"][0]["status_code"] == 204 and entry["attempts"] == 1
    assert receiver.received[0].payload["data"]["case"]["id"] == case.id
    assert (
        secretariat.get(
            f"/webhooks/{created['id']}/deliveries", query_string={"status": "failed"}
        ).get_json()
        == []
    )

    again = secretariat.post(f"/webhook-deliveries/{entry['id']}/redeliver")
    assert again.status_code == 200 and again.get_json()["status"] == "pending"
    assert delivery.deliver_due(session, FAST).delivered == 1
    assert receiver.ids() == [entry["webhook_id"]] * 2  # the same message id

    assert secretariat.delete(f"/webhooks/{created['id']}").status_code == 204
    assert secretariat.get("/webhooks").get_json() == []
    problem_of(secretariat.get(f"/webhooks/{created['id']}"), 404)  # gone from the API
    problem_of(secretariat.delete(f"/webhooks/{created['id']}"), 404)


def test_only_the_bodys_secretariat_or_an_admin_keeps_its_webhooks(api):
    member = api("member@SU-NORD-SOM")
    refused = member.post(
        "/webhooks",
        json={"body": "SU-NORD-SOM", "url": "https://esdh.example.org/h",
              "event_types": ["case.transitioned"]},
    )  # fmt: skip
    problem = problem_of(refused, 403)
    assert problem["rule"] == "may_keep_webhooks"
    admin = api(is_admin=True)
    made = admin.post(
        "/webhooks",
        json={"body": "SU-NORD-SOM", "url": "https://esdh.example.org/h",
              "event_types": ["case.transitioned"]},
    ).get_json()  # fmt: skip
    other = api("secretariat@SU-SYD-SOM")
    problem_of(other.get(f"/webhooks/{made['id']}"), 404)
    problem_of(other.delete(f"/webhooks/{made['id']}"), 404)
    assert other.get("/webhooks").get_json() == []
    assert [w["id"] for w in admin.get("/webhooks").get_json()] == [made["id"]]


def test_an_internal_receiver_or_an_unknown_event_type_is_refused_with_its_rule(api, monkeypatch):
    monkeypatch.setenv(targets.ALLOW_PRIVATE_SETTING, "0")
    secretariat = api("secretariat@SU-NORD-SOM")
    internal = secretariat.post(
        "/webhooks",
        json={"body": "SU-NORD-SOM", "url": "http://169.254.169.254/latest/",
              "event_types": ["case.created"]},
    )  # fmt: skip
    assert problem_of(internal, 422)["rule"] == "safe_receiver"
    unknown = secretariat.post(
        "/webhooks",
        json={"body": "SU-NORD-SOM", "url": "https://esdh.example.org/h",
              "event_types": ["case.deleted"]},
    )  # fmt: skip
    problem_of(unknown, 400)
    no_body = secretariat.post(
        "/webhooks",
        json={"body": "NOPE", "url": "https://esdh.example.org/h", "event_types": ["case.created"]},
    )  # fmt: skip
    assert problem_of(no_body, 422)["rule"] == "known_body"
