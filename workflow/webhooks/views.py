"""The webhooks page: a body's secretariat (or an admin) subscribes receivers, reads the
delivery log, redelivers and ends subscriptions. The same operations as the API."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from models import Body, WebhookSubscription
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.engine.errors import WorkflowError
from workflow.web import db
from workflow.web.fields import IdSelectField, LineField
from workflow.web.i18n import _, _l, pick
from workflow.webhooks import events, queries
from workflow.webhooks import operations as webhooks

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")


class SubscribeForm(FlaskForm):  # type: ignore[misc]
    """A receiver for one body's events; the event types come as checkboxes (`types`)."""

    body = IdSelectField(_l("Organ"), coerce=int, choices=[])
    url = LineField(_l("Modtagerens adresse (https://…)"), render_kw={"maxlength": 2000})
    description = LineField(_l("Beskrivelse"), render_kw={"maxlength": 300})


class ConfirmForm(FlaskForm):  # type: ignore[misc]
    """Only the CSRF token: what to do is in the address."""


def _kept() -> list[Body]:
    """The bodies whose webhooks the reader keeps; the rule's refusal for anyone who keeps none."""
    session, actor = db(), current_actor()
    policy.require(actor, "keep_webhooks", None, session)
    return queries.kept_bodies(session, actor)


def _form(bodies: list[Body], formdata: object = "default") -> SubscribeForm:
    form = SubscribeForm() if formdata == "default" else SubscribeForm(formdata=None)
    form.body.choices = [(b.id, f"{b.code} – {b.name}") for b in bodies]
    return form


def _page(
    form: SubscribeForm,
    *,
    created: WebhookSubscription | None = None,
    problem: str | None = None,
    chosen: list[str] | None = None,
) -> str:
    return render_template(
        "webhooks/index.html",
        form=form,
        subscriptions=queries.subscriptions(db(), current_actor()),
        event_types=[(t, pick(*events.DESCRIPTIONS[t])) for t in events.EVENT_TYPES],
        chosen=chosen if chosen is not None else list(events.EVENT_TYPES),
        created=created,
        problem=problem,
        confirm=ConfirmForm(),
    )


@bp.get("")
@login_required
def index() -> str:
    """The subscriptions of the bodies the user keeps, and a form to add one."""
    return _page(_form(_kept()))


@bp.post("")
@login_required
def create() -> tuple[str, int]:
    """Subscribe a receiver; the secret is shown on this answer only (never in a flash)."""
    bodies = _kept()
    form = _form(bodies)
    chosen = request.form.getlist("types")
    if not form.validate_on_submit():
        return _page(
            form, chosen=chosen, problem=_("Formularen kunne ikke sendes. Prøv igen.")
        ), 400
    body = next((b for b in bodies if b.id == form.body.data), None)
    if body is None:
        return _page(form, chosen=chosen, problem=_("Vælg et organ fra listen.")), 422
    try:
        created = webhooks.subscribe(
            db(), current_actor(), body, url=form.url.data or "", event_types=chosen,
            description=form.description.data or "",
        )  # fmt: skip
    except WorkflowError as refused:
        return _page(form, chosen=chosen, problem=pick(refused.message, refused.message_en)), 422
    return _page(_form(bodies, formdata=None), created=created), 201


def _subscription(subscription_id: int) -> WebhookSubscription:
    found = queries.subscription(db(), current_actor(), subscription_id)
    if found is None:
        abort(404)
    return found


@bp.get("/<int:subscription_id>")
@login_required
def detail(subscription_id: int) -> str:
    """One subscription and its delivery log (status, response, attempts, next attempt)."""
    subscription = _subscription(subscription_id)
    return render_template(
        "webhooks/detail.html",
        subscription=subscription,
        deliveries=queries.deliveries(db(), subscription),
        confirm=ConfirmForm(),
    )


@bp.post("/<int:subscription_id>/slet")
@login_required
def delete(subscription_id: int) -> Response:
    """End the subscription (its log stays)."""
    subscription = _subscription(subscription_id)
    if ConfirmForm().validate_on_submit():
        try:
            webhooks.unsubscribe(db(), current_actor(), subscription)
        except WorkflowError as refused:
            flash(pick(refused.message, refused.message_en), "error")
        else:
            flash(_("Abonnementet er afsluttet."), "success")
    return redirect(url_for("webhooks.index"), code=303)


@bp.post("/leverancer/<int:delivery_id>/send-igen")
@login_required
def redeliver(delivery_id: int) -> Response:
    """Send a delivery again at the next run, and go back to its subscription's log."""
    delivery = queries.delivery(db(), current_actor(), delivery_id)
    if delivery is None:
        abort(404)
    back = url_for("webhooks.detail", subscription_id=delivery.subscription_id)
    if ConfirmForm().validate_on_submit():
        try:
            webhooks.redeliver(db(), current_actor(), delivery)
        except WorkflowError as refused:
            flash(pick(refused.message, refused.message_en), "error")
        else:
            flash(_("Leverancen sendes igen ved næste kørsel."), "success")
    return redirect(back, code=303)
