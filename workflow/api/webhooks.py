"""Webhooks through the API: subscribe a receiver to a body's case events (the secret is in
the answer to the subscription only), list and end subscriptions, read the delivery log and
redeliver. The same operations and policy (`keep_webhooks`) as the admin page."""

from __future__ import annotations

from typing import Any

from flask import Response, url_for
from sqlalchemy import select

from models import Body, DeliveryStatus, WebhookDelivery, WebhookSubscription
from workflow.api.problems import ApiProblem, json_response
from workflow.api.reference_data import REFERENCE
from workflow.api.refusals import refusal
from workflow.api.schema import array, obj, string
from workflow.api.serialize import BODY_REF, BOOL, INT, STR, TIME, body_ref, iso, maybe, out
from workflow.api.spec import Call, Param, Reply, operation
from workflow.engine.errors import WorkflowError
from workflow.web import db
from workflow.webhooks import events, queries
from workflow.webhooks import operations as webhooks

TAG = "Webhooks"
EVENT_TYPE = {
    "type": "string",
    "enum": list(events.EVENT_TYPES),
    "description": "; ".join(f"{k}: {da}" for k, (da, _en) in events.DESCRIPTIONS.items()),
}
RECEIVER_URL = string(
    2000, 1, pattern=r"^https?://[^\s/?#@]+(/[^\s]*)?$", format="uri",
    examples=["https://esdh.example.org/aftaleflow/hooks"],
    description=(
        "Modtagerens adresse: http eller https til en offentlig adresse (interne adresser kun, "
        "hvor driften tillader det; se docs/webhooks.md)."
    ),
)  # fmt: skip
SUBSCRIBE_BODY = obj(
    {
        "body": {**string(32, 1), REFERENCE: "bodies"},
        "url": RECEIVER_URL,
        "event_types": array(EVENT_TYPE, minItems=1, maxItems=3, uniqueItems=True),
        "description": string(300),
    },
    required=("body", "url", "event_types"),
)
SUBSCRIPTION_PROPERTIES: dict[str, Any] = {
    "id": INT,
    "body": BODY_REF,
    "url": STR,
    "event_types": array(EVENT_TYPE),
    "description": STR,
    "created_at": TIME,
    "active": BOOL,
}
SUBSCRIPTION = out(SUBSCRIPTION_PROPERTIES, "WebhookSubscription")
CREATED = out(
    {
        **SUBSCRIPTION_PROPERTIES,
        "secret": {
            **STR,
            "description": "Nøglen til at kontrollere signaturen (whsec_…). Vises kun her.",
            "examples": ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
        },
    },
    "WebhookSubscriptionCreated",
)
ATTEMPT = out(
    {
        "attempt": INT,
        "attempted_at": TIME,
        "status_code": maybe(INT),
        "error": maybe(STR),
        "next_attempt_at": maybe(TIME),
    },
    "WebhookAttempt",
)
DELIVERY = out(
    {
        "id": INT,
        "webhook_id": {**STR, "examples": ["msg_812_3"]},
        "event_id": INT,
        "event_type": EVENT_TYPE,
        "status": {"type": "string", "enum": [s.value for s in DeliveryStatus]},
        "attempts": INT,
        "last_status_code": maybe(INT),
        "last_error": maybe(STR),
        "created_at": TIME,
        "next_attempt_at": maybe(TIME),
        "delivered_at": maybe(TIME),
        "failed_at": maybe(TIME),
        "log": array(ATTEMPT),
    },
    "WebhookDelivery",
)
SUBSCRIPTION_LINKS = {
    "GetWebhook": {
        "operationId": "get_webhook",
        "parameters": {"path.subscription_id": "$response.body#/id"},
    },
    "WebhookDeliveries": {
        "operationId": "webhook_deliveries",
        "parameters": {"path.subscription_id": "$response.body#/id"},
    },
    "DeleteWebhook": {
        "operationId": "delete_webhook",
        "parameters": {"path.subscription_id": "$response.body#/id"},
    },
}
STATUS_FILTER = Param(
    "status", {"type": "string", "enum": [s.value for s in DeliveryStatus]},
    "Kun leverancer med denne status.",
)  # fmt: skip


def subscription_json(subscription: WebhookSubscription, *, secret: bool = False) -> dict[str, Any]:
    found = {
        "id": subscription.id,
        "body": body_ref(subscription.body),
        "url": subscription.url,
        "event_types": list(subscription.event_types),
        "description": subscription.description,
        "created_at": iso(subscription.created_at),
        "active": subscription.active,
    }
    if secret:
        found["secret"] = subscription.secret
    return found


def delivery_json(delivery: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "webhook_id": delivery.webhook_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "status": delivery.status.value,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": iso(delivery.created_at),
        "next_attempt_at": iso(delivery.next_attempt_at),
        "delivered_at": iso(delivery.delivered_at),
        "failed_at": iso(delivery.failed_at),
        "log": [attempt.as_dict() for attempt in delivery.log],
    }


def _subscription(call: Call) -> WebhookSubscription:
    """The caller's active subscription; an ended one is gone from the API (DELETE means
    gone), its log stays on the page."""
    found = queries.subscription(db(), call.actor, call.path["subscription_id"])
    if found is None or not found.active:
        number = call.path["subscription_id"]
        raise ApiProblem(
            "not-found", f"Webhook nr. {number} findes ikke.", f"Webhook {number} does not exist."
        )
    return found


@operation(
    "/webhooks", "get", tag=TAG, summary="Organernes webhooks",
    ok={200: Reply("Abonnementerne på de organer, kalderen holder webhooks for (uden nøgler).",
                   array(SUBSCRIPTION))},
)  # fmt: skip
def list_webhooks(call: Call) -> Response:
    """The active subscriptions of the bodies whose webhooks the caller keeps (every body's
    for an administrator)."""
    return json_response([subscription_json(s) for s in queries.subscriptions(db(), call.actor)])


@operation(
    "/webhooks", "post", tag=TAG, summary="Abonnér på et organs sagshændelser",
    body=SUBSCRIBE_BODY,
    ok={201: Reply("Abonnementet med dets nøgle, som kun vises denne ene gang.", CREATED,
                   links=SUBSCRIPTION_LINKS)},
    errors=(403, 422),
)  # fmt: skip
def create_webhook(call: Call) -> Response:
    """Subscribe a receiver to a body's case events of the chosen types (the body's
    secretariat or an administrator). Payloads are signed per Standard Webhooks with the
    secret in the answer."""
    session = db()
    body = session.scalar(select(Body).where(Body.code == call.body["body"]))
    if body is None:
        rule = "known_body"
        da, en = f"Organet '{call.body['body']}' findes ikke.", "No such body."
        raise ApiProblem(
            "unprocessable", da, en, rule=rule,
            errors=[{"field": "body", "rule": rule, "message": da, "message_da": da,
                     "message_en": en}],
        )  # fmt: skip
    try:
        subscription = webhooks.subscribe(
            session, call.actor, body, url=call.body["url"],
            event_types=call.body["event_types"], description=call.body.get("description") or "",
        )  # fmt: skip
    except WorkflowError as error:
        raise refusal(error) from None
    response = json_response(subscription_json(subscription, secret=True), 201)
    response.headers["Location"] = url_for("api.get_webhook", subscription_id=subscription.id)
    return response


@operation(
    "/webhooks/<int:subscription_id>", "get", tag=TAG, summary="Et webhook-abonnement",
    ok={200: Reply("Abonnementet (uden nøgle).", SUBSCRIPTION, links=SUBSCRIPTION_LINKS)},
)  # fmt: skip
def get_webhook(call: Call) -> Response:
    """One active subscription of a body whose webhooks the caller keeps."""
    return json_response(subscription_json(_subscription(call)))


@operation(
    "/webhooks/<int:subscription_id>", "delete", tag=TAG, summary="Afslut et webhook-abonnement",
    ok={204: Reply("Abonnementet er afsluttet; dets log kan stadig ses på siden.")},
    errors=(403,),
)  # fmt: skip
def delete_webhook(call: Call) -> Response:
    """End the subscription: no more deliveries are written for it; afterwards it is gone
    from the API (404), its log stays readable on the webhooks page."""
    session = db()
    subscription = _subscription(call)
    try:
        webhooks.unsubscribe(session, call.actor, subscription)
    except WorkflowError as error:
        raise refusal(error) from None
    return Response(status=204)


@operation(
    "/webhooks/<int:subscription_id>/deliveries", "get", tag=TAG,
    summary="Leveranceloggen for et abonnement", query=(STATUS_FILTER,),
    ok={200: Reply("De seneste 50 leverancer, nyeste først, med hvert forsøg.",
                   array(DELIVERY))},
)  # fmt: skip
def webhook_deliveries(call: Call) -> Response:
    """The subscription's delivery log: status, response code, attempts and the next attempt."""
    found = queries.deliveries(db(), _subscription(call), status=call.args.get("status"))
    return json_response([delivery_json(d) for d in found])


@operation(
    "/webhook-deliveries/<int:delivery_id>/redeliver", "post", tag=TAG,
    summary="Send en leverance igen",
    ok={200: Reply("Leverancen venter på næste afsendelse, med samme webhook-id.", DELIVERY)},
    errors=(403, 422),
)  # fmt: skip
def redeliver_webhook(call: Call) -> Response:
    """Send a delivery again (given up, or delivered and lost by the receiver) with a fresh
    count of attempts and the same message id."""
    session = db()
    delivery = queries.delivery(session, call.actor, call.path["delivery_id"])
    if delivery is None:
        number = call.path["delivery_id"]
        raise ApiProblem(
            "not-found",
            f"Leverance nr. {number} findes ikke.",
            f"Delivery {number} does not exist.",
        )
    try:
        webhooks.redeliver(session, call.actor, delivery)
    except WorkflowError as error:
        raise refusal(error) from None
    return json_response(delivery_json(delivery))
