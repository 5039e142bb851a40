"""A case's attachments through the API: list, attach and download, with the page's rules."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response, url_for

from models import Attachment
from workflow.api.cases import find_case
from workflow.api.files import FILE, upload_of
from workflow.api.problems import ApiProblem, json_response
from workflow.api.refusals import refusal
from workflow.api.serialize import INT, STR, TIME, iso, out
from workflow.api.spec import Call, Reply, operation
from workflow.cases import attachments
from workflow.cases.attachment_views import folder
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.web import db

ATTACHMENT = out(
    {"id": INT, "case_id": INT, "filename": STR, "content_type": STR, "size_bytes": INT,
     "sha256": STR, "created_at": TIME, "download": STR},
    "Attachment",
)  # fmt: skip
ATTACHMENTS = out({"items": {"type": "array", "items": ATTACHMENT}}, "AttachmentList")


def attachment_json(attachment: Attachment) -> dict[str, Any]:
    return {
        "id": attachment.id,
        "case_id": attachment.case_id,
        "filename": attachment.filename,
        "content_type": attachment.content_type,
        "size_bytes": attachment.size_bytes,
        "sha256": attachment.sha256,
        "created_at": iso(attachment.created_at),
        "download": url_for("api.download_attachment", attachment_id=attachment.id),
    }


@operation(
    "/cases/<int:case_id>/attachments", "get", tag="Bilag", summary="Sagens bilag",
    ok={200: Reply("Sagens bilag, som siden viser dem.", ATTACHMENTS)},
)  # fmt: skip
def list_attachments(call: Call) -> Response:
    """List the case's attachments (not the archived ones)."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    items = [attachment_json(a) for a in attachments.listed(session, case)]
    return json_response({"items": items})


@operation(
    "/cases/<int:case_id>/attachments", "post", tag="Bilag", summary="Vedhæft et bilag",
    body=FILE, ok={201: Reply("Bilaget er gemt og står på sagens tidslinje.", ATTACHMENT)},
    errors=(403, 413, 422),
)  # fmt: skip
def attach(call: Call) -> Response:
    """Attach a file to the case (who may, types and size as on the page; audited)."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    upload = upload_of(call.body, "(body)")
    assert upload is not None
    try:
        stored = attachments.upload(
            session, case, call.actor, upload.filename, upload.data, folder=folder()
        )
    except WorkflowError as error:
        raise refusal(error) from None
    response = json_response(attachment_json(stored), 201)
    response.headers["Location"] = url_for("api.download_attachment", attachment_id=stored.id)
    return response


@operation(
    "/attachments/<int:attachment_id>", "get", tag="Bilag", summary="Hent et bilag",
    ok={200: Reply("Filens indhold.", {"type": "string", "format": "binary"},
                   "application/octet-stream")},
)  # fmt: skip
def download_attachment(call: Call) -> Response:
    """Send the file to a caller who may see its case; its checksum is verified first."""
    session = db()
    attachment = session.get(Attachment, call.path["attachment_id"])
    missing = ApiProblem(
        "not-found",
        f"Bilag nr. {call.path['attachment_id']} findes ikke.",
        f"Attachment {call.path['attachment_id']} does not exist.",
    )
    if attachment is None:
        raise missing
    try:
        data = attachments.read(session, attachment, call.actor, folder=folder())
    except (NotAllowed, FileNotFoundError):
        raise missing from None
    except WorkflowError as error:
        raise refusal(error) from None
    return Response(
        data,
        content_type="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
        },
    )
