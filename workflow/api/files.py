"""Files in the API's JSON: a name and base64 content, decoded and size-checked at the edge.

JSON keeps one request format for the whole API (and lets the document describe and a fuzzer
generate it); the domain's attachment rules (types, size, content) run on the decoded bytes.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from workflow.api.problems import ApiProblem
from workflow.api.schema import Schema, obj, string
from workflow.cases import attachments

# Base64 grows the bytes by a third; the domain refuses a file over MAX_BYTES with its reason.
BASE64_MAX = (attachments.MAX_BYTES // 3 + 2) * 4
FILE: Schema = obj(
    {
        "filename": string(255, 1, examples=["hoeringssvar.pdf", "notat.txt"]),
        "content_base64": {
            "type": "string",
            "maxLength": BASE64_MAX,
            "contentEncoding": "base64",
            "pattern": "^[A-Za-z0-9+/]*={0,2}$",
            "description": "Filens indhold, base64-kodet (RFC 4648).",
            "examples": ["SMO4cmluZ3NzdmFy"],
        },
    },
    required=("filename", "content_base64"),
    description="En fil: navn (med endelse) og indhold. Tilladte typer: "
    + ", ".join(sorted(attachments.ALLOWED))
    + f"; højst {attachments.MAX_BYTES // (1024 * 1024)} MB.",
)


def upload_of(value: dict[str, Any] | None, field: str = "file") -> attachments.Upload | None:
    """The decoded file of a request body's file object, or None; 400 for invalid base64."""
    if value is None:
        return None
    try:
        data = base64.b64decode(value["content_base64"], validate=True)
    except (binascii.Error, ValueError):
        da = f"'{field}.content_base64' er ikke gyldig base64."
        en = f"'{field}.content_base64' is not valid base64."
        raise ApiProblem(
            "bad-request", da, en,
            errors=[{"field": f"{field}.content_base64", "message": da, "message_da": da,
                     "message_en": en}],
        ) from None  # fmt: skip
    return attachments.Upload(value["filename"], data)
