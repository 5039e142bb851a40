"""The webhooks page: the body's secretariat subscribes (the secret shown once), reads the
delivery log and redelivers; a member of the body gets no page."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select
from support.html_checker import check_pages, checker_or_none, report
from support.webhooks import FAST

from models import WebhookSubscription
from workflow.engine import clock
from workflow.webhooks import delivery


def test_the_secretariat_subscribes_and_sees_the_log_with_a_redelivery(
    client, logged_in, body, make_case, session, receiver, text_of, tmp_path
):
    logged_in("secretariat@SU-NORD-SOM")
    page = client.get("/webhooks")
    assert page.status_code == 200
    made = client.post(
        "/webhooks",
        data={"body": body("SU-NORD-SOM").id, "url": receiver.url, "description": "ESDH",
              "types": ["case.created", "case.transitioned"]},
    )  # fmt: skip
    assert made.status_code == 201, text_of(made)
    secret = re.search(r'value="(whsec_[^"]+)"', made.get_data(as_text=True))
    assert secret is not None
    subscription = session.scalar(
        select(WebhookSubscription).where(WebhookSubscription.url == receiver.url)
    )
    assert subscription is not None and subscription.secret == secret.group(1)
    assert subscription.event_types == ["case.created", "case.transitioned"]
    assert secret.group(1) not in client.get("/webhooks").get_data(as_text=True)

    make_case()
    receiver.status = 503
    delivery.deliver_due(session, FAST)
    log = text_of(client.get(f"/webhooks/{subscription.id}"))
    assert "Venter" in log and "503" in log

    for day in range(1, FAST.max_attempts):
        delivery.deliver_due(session, FAST, now=clock.now() + timedelta(days=day))
    log_page = client.get(f"/webhooks/{subscription.id}").get_data(as_text=True)
    assert "Opgivet" in log_page
    redeliver = re.search(r'action="(/webhooks/leverancer/\d+/send-igen)"', log_page)
    assert redeliver is not None
    receiver.status = 200
    assert client.post(redeliver.group(1)).status_code == 303
    assert "Venter" in text_of(client.get(f"/webhooks/{subscription.id}"))

    # Both tables (one macro) with rows and their buttons are valid HTML (the W3C Nu checker).
    java = checker_or_none()
    if java is not None:
        pages = {url: client.get(url).get_data(as_text=True)
                 for url in ("/webhooks", f"/webhooks/{subscription.id}")}  # fmt: skip
        assert all("inline-form" in html for html in pages.values())
        errors, where = check_pages(java, pages, tmp_path)
        assert not errors, report(errors, where)

    assert client.post(f"/webhooks/{subscription.id}/slet").status_code == 303
    assert "Ingen abonnementer endnu" in text_of(client.get("/webhooks"))


def test_an_internal_receiver_is_refused_on_the_page_with_the_reason(
    client, logged_in, body, monkeypatch, text_of
):
    from workflow.webhooks import targets

    monkeypatch.setenv(targets.ALLOW_PRIVATE_SETTING, "0")
    logged_in("secretariat@SU-NORD-SOM")
    refused = client.post(
        "/webhooks",
        data={
            "body": body("SU-NORD-SOM").id,
            "url": "http://127.0.0.1/x",
            "types": ["case.created"],
        },
    )
    assert refused.status_code == 422
    assert "intern" in text_of(refused)


def test_a_member_who_keeps_no_webhooks_gets_no_page(client, logged_in, text_of):
    logged_in("member@SU-NORD-SOM")
    refused = client.get("/webhooks")
    assert refused.status_code == 403
    # The refusal says why and what to do, not a bare 403.
    assert "ikke sekretariat for noget organ" in text_of(refused)
    assert "Kontakt en administrator" in text_of(refused)
