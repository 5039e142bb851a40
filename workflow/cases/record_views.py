"""The case record (sagsakt) from the case page: the same ZIP as the API's."""

from __future__ import annotations

from urllib.parse import quote

from flask import Blueprint, Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from models import Case
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import operations, record
from workflow.cases.attachment_views import folder
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.web import db
from workflow.web.i18n import pick

bp = Blueprint("case_record", __name__, url_prefix="/sager")


def zip_response(built: record.Record) -> Response:
    """Stream a built record. No request context is kept for the stream (no
    `stream_with_context`): the record holds what it needs, so the request's session is closed
    at teardown as usual and the download holds no database connection."""
    return Response(
        built.chunks(),
        content_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(built.filename)}",
            "Cache-Control": "no-store",
        },
    )


def head_response() -> Response:
    """A HEAD asks whether the record can be had, not for it: nothing is built, nothing is
    disclosed, so nothing is logged."""
    return Response(content_type="application/zip", headers={"Cache-Control": "no-store"})


@bp.get("/<int:case_id>/sagsakt.zip")
@login_required
def download(case_id: int) -> BaseResponse:
    """Stream the case's record to a user who may take it (others get 404, as for the case);
    the disclosure is logged (operations.export_record)."""
    session = db()
    user = current_actor()
    case = session.get(Case, case_id)
    if case is None or not policy.may(user, "export_record", case, session):
        abort(404)
    if request.method == "HEAD":
        return head_response()
    try:
        built = operations.export_record(session, case, user, channel="page", folder=folder())
    except NotAllowed:
        abort(404)
    except WorkflowError as error:
        reason = pick(error.message, error.message_en)
        flash(_("Sagsakten kunne ikke dannes: %(reason)s", reason=reason), "error")
        return redirect(url_for("cases.detail", case_id=case_id), code=303)
    return zip_response(built)
