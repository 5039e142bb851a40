"""Attachments in the web app: a case's files, upload and download."""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response as BaseResponse

from models import Attachment, Case
from workflow import policy
from workflow.auth.login import current_actor, login_required
from workflow.cases import attachments
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.web import db

bp = Blueprint("attachments", __name__, url_prefix="/bilag")


class UploadForm(FlaskForm):  # type: ignore[misc]
    file = FileField(_l("Fil"), validators=[FileRequired(_l("Vælg en fil."))])


def folder() -> str | None:
    """The storage folder from the app's config, else the environment or the default."""
    configured = current_app.config.get("AFTALEFLOW_ATTACHMENTS_DIR")
    return str(configured) if configured else None


def _case(case_id: int) -> Case:
    case = db().get(Case, case_id)
    if case is None or not policy.may(current_actor(), "view", case, db()):
        abort(404)
    return case


@bp.get("/sag/<int:case_id>")
@login_required
def index(case_id: int) -> str:
    """List a case's attachments, with the upload form."""
    case = _case(case_id)
    return render_template(
        "consultations/attachments.html",
        case=case,
        files=attachments.listed(db(), case),
        form=UploadForm(),
        max_mb=attachments.MAX_BYTES // (1024 * 1024),
        kinds=", ".join(sorted(attachments.ALLOWED)),
    )


@bp.post("/sag/<int:case_id>")
@login_required
def upload(case_id: int) -> BaseResponse:
    """Store an uploaded file on the case."""
    case = _case(case_id)
    form = UploadForm()
    if not form.validate():
        flash(_("Vælg en fil at vedhæfte."), "error")
        return redirect(url_for("attachments.index", case_id=case.id))
    storage = form.file.data
    data = storage.read(attachments.MAX_BYTES + 1)
    try:
        attachments.upload(db(), case, current_actor(), storage.filename or "", data,
                           folder=folder())  # fmt: skip
    except WorkflowError as error:
        flash(error.message, "error")
        return redirect(url_for("attachments.index", case_id=case.id))
    flash(_("Bilaget er vedhæftet."), "success")
    return redirect(url_for("attachments.index", case_id=case.id))


@bp.get("/<int:attachment_id>")
@login_required
def download(attachment_id: int) -> Response:
    """Send a file to a user who may see its case."""
    session = db()
    attachment = session.get(Attachment, attachment_id)
    if attachment is None:
        abort(404)
    try:
        data = attachments.read(session, attachment, current_actor(), folder=folder())
    except NotAllowed:
        abort(404)
    except FileNotFoundError:
        abort(404)
    return Response(
        data,
        mimetype=attachment.content_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{_quote(attachment.filename)}"
        },
    )


def _quote(name: str) -> str:
    from urllib.parse import quote

    return quote(name, safe="")
