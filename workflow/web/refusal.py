"""The one refusal page: a `NotAllowed` that reaches Flask becomes the 403 page with the
refusing rule's reason (workflow.policy), in the reader's language.

HTML views ask `policy.require(...)` and let its `NotAllowed` rise; the handler registered here
renders `error.html`. Under /api the same refusal is answered as the API's problem document, so
an API handler that lets one rise keeps its problem+json 403.
"""

from __future__ import annotations

from flask import Flask, Response, render_template

from workflow.api import is_api_request
from workflow.api.refusals import refusal
from workflow.engine.errors import NotAllowed
from workflow.web.i18n import _, pick

# A rule that grants to administrators alone is named as such in the page's title.
ADMINS_ONLY = ["admin"]


def refused_page(error: NotAllowed) -> tuple[str, int]:
    """The 403 page for `error`: the rule's reason in the reader's language."""
    if error.allowed == ADMINS_ONLY:
        title = _("Kun for administratorer")
    else:
        title = _("Du har ikke adgang")
    message = pick(error.message, error.message_en)
    return render_template("error.html", title=title, message=message, status=403), 403


def _not_allowed(error: NotAllowed) -> Response | tuple[str, int]:
    if is_api_request():
        return refusal(error).response()
    return refused_page(error)


def init_refusals(app: Flask) -> None:
    """Answer every `NotAllowed` a view, or a blueprint's before_request hook, lets rise."""
    app.register_error_handler(NotAllowed, _not_allowed)
