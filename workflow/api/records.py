"""A case's record (sagsakt) through the API: the ZIP an ESDH journalises (docs/record.md)."""

from __future__ import annotations

from flask import Response, request

from workflow.api.cases import find_case
from workflow.api.problems import ApiProblem
from workflow.api.refusals import refusal
from workflow.api.spec import Call, Reply, operation
from workflow.cases import operations
from workflow.cases.attachment_views import folder
from workflow.cases.record_views import head_response, zip_response
from workflow.engine.errors import NotAllowed, WorkflowError
from workflow.web import db

ZIP_MEDIA_TYPE = "application/zip"


@operation(
    "/cases/<int:case_id>/record", "get", tag="Sager", summary="Sagens sagsakt til journalisering",
    description=(
        "En ZIP med sagsakten som PDF/A (case.pdf), hændelserne med deres hashkæde "
        "(events.json), bilagene som gemt (attachments/) og manifest.json med SHA-256 for hver "
        "fil og sagens journaloplysninger. Samme sag giver de samme bytes. Hver udlevering "
        "logges i revisionssporet (hvem, hvornår, hvilken sag, manifestets SHA-256). Formatet "
        "er beskrevet i docs/record.md; `aftaleflow record verify FIL.zip` kontrollerer et "
        "udtræk."
    ),
    ok={200: Reply("Sagsakten som ZIP.", {"type": "string", "format": "binary"},
                   ZIP_MEDIA_TYPE)},
    errors=(422,),
)  # fmt: skip
def case_record(call: Call) -> Response:
    """Stream the case's record to a caller who may see the case (the disclosure is logged)."""
    session = db()
    case = find_case(session, call.path["case_id"], call.actor)
    case_id = case.id
    if request.method == "HEAD":
        return head_response()
    try:
        built = operations.export_record(session, case, call.actor, channel="api", folder=folder())
    except NotAllowed:
        raise ApiProblem(
            "not-found",
            f"Sag nr. {case_id} findes ikke.",
            f"Case {case_id} does not exist.",
        ) from None
    except WorkflowError as error:
        raise refusal(error) from None
    return zip_response(built)
