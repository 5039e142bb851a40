"""The in-app inbox: the user's notifications, the unread count in the header, mark as read."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms.widgets import HiddenInput

from workflow import policy
from workflow.auth.login import current_actor, current_user, login_required
from workflow.engine.errors import NotAllowed
from workflow.notifications import delivery as notify
from workflow.notifications import operations
from workflow.web import db
from workflow.web.fields import IdField
from workflow.web.i18n import _, pick

bp = Blueprint("notifications", __name__, url_prefix="/beskeder")

INBOX_LIMIT = 100
# Row ids are integers of the database's widest type; anything larger names no notification.
LARGEST_ID = 2**31 - 1


class MarkReadForm(FlaskForm):  # type: ignore[misc]
    """Mark one notification read (`besked`), or all of them when it is empty."""

    besked = IdField(widget=HiddenInput())


@bp.app_context_processor
def _unread_in_header() -> dict[str, Callable[[], int]]:
    """Give templates `unread_notifications()`, counted only when a page shows it."""

    def unread_notifications() -> int:
        user = current_user()
        if user is None:
            return 0
        return notify.unread_count(db(), user.id, policy.visible_cases(db(), user))

    return {"unread_notifications": unread_notifications}


@bp.get("")
@login_required
def index() -> str:
    """List the user's notifications, newest first; ?ulaeste=1 shows only the unread."""
    unread_only = request.args.get("ulaeste") == "1"
    user = current_actor()
    # A notification of a case the user may no longer see (a draft again, a membership ended)
    # is left out: its subject names the case.
    visible = policy.visible_cases(db(), user)
    items = notify.inbox(db(), user.id, unread_only=unread_only, limit=INBOX_LIMIT, visible=visible)
    return render_template(
        "notifications/index.html",
        items=items,
        unread_only=unread_only,
        unread=notify.unread_count(db(), user.id, visible),
    )


@bp.post("/laest")
@login_required
def mark_read() -> Response:
    """Mark one notification (or all of them) read, and go back to the inbox."""
    form = MarkReadForm()
    back = url_for("notifications.index", ulaeste="1" if request.args.get("ulaeste") else None)
    if not form.validate_on_submit():
        flash(_("Formularen kunne ikke sendes. Genindlæs siden, og prøv igen."), "error")
        return redirect(back, code=303)
    chosen = form.besked.data
    user = current_actor()
    if chosen is not None:
        count = notify.mark_read(db(), user.id, [chosen])
        message = _("Beskeden er markeret som læst.") if count else _("Beskeden var allerede læst.")
    else:
        count = notify.mark_read(db(), user.id)
        message = _("%(count)s beskeder er markeret som læst.", count=count)
    flash(message, "success")
    return redirect(back, code=303)


class RetryForm(FlaskForm):  # type: ignore[misc]
    """Send one notification given up on again (the form carries only its CSRF token)."""


@bp.post("/<int:notification_id>/send-igen")
@login_required
def retry(notification_id: int) -> Response:
    """Put a notification given up on back in the outbox (admins; audited), and go back to
    the overview's list of failed deliveries."""
    user = current_actor()
    policy.require(user, "retry_delivery", None, db())
    # The operations page sends its retries with ?tilbage=drift and gets the admin back there.
    if request.args.get("tilbage") == "drift":
        back = url_for("ops.index") + "#fejlede"
    else:
        back = url_for("dashboard.index") + "#fejlede-beskeder"
    if not RetryForm().validate_on_submit():
        flash(_("Formularen kunne ikke sendes. Genindlæs siden, og prøv igen."), "error")
        return redirect(back, code=303)
    if notification_id > LARGEST_ID:
        abort(404)
    try:
        item = operations.retry_delivery(db(), user, notification_id)
    except operations.NotificationNotFound:
        abort(404)
    except (operations.NotRetryable, NotAllowed) as refused:
        flash(pick(refused.message, refused.message_en), "error")
        return redirect(back, code=303)
    flash(
        _(
            "Beskeden til %(name)s er sat til at blive sendt igen.",
            name=item.recipient.name,
        ),
        "success",
    )
    return redirect(back, code=303)
