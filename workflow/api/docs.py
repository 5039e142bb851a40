"""The OpenAPI document and its readable page, both served from here (no other hosts)."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, render_template

from workflow.api.problems import PROBLEM_TYPES, json_response
from workflow.api.reference_data import with_reference_data
from workflow.api.spec import Call, Reply, component, openapi_document, operation
from workflow.web import db

OPENAPI = component("OpenApiDocument", {"type": "object", "required": ["openapi", "paths"]})


@operation(
    "/openapi.json", "get", tag="Dokumentation", summary="OpenAPI-dokumentet",
    ok={200: Reply("Dette dokument (OpenAPI 3.1).", OPENAPI)}, public=True,
)  # fmt: skip
def openapi_json(call: Call) -> Response:
    """Serve the OpenAPI 3.1 document built from the registered operations, with the
    processes, triggers, bodies and goals that exist now as enums and examples."""
    return json_response(with_reference_data(openapi_document(), db()))


@operation(
    "/docs", "get", tag="Dokumentation", summary="Dokumentationen som webside",
    ok={200: Reply("Dokumentationen som HTML.", {"type": "string"}, "text/html")}, public=True,
)  # fmt: skip
def docs(call: Call) -> Response:
    """Render the OpenAPI document as a readable page."""
    # The readable page describes the shapes; the values that exist now (processes, triggers,
    # bodies …) are listed in /api/v1/openapi.json, not as raw keys on a page for people.
    document = openapi_document()
    operations: list[dict[str, Any]] = []
    for path, methods in document["paths"].items():
        for method, op in methods.items():
            operations.append({"path": path, "method": method.upper(), **op})
    html = render_template(
        "api/docs.html",
        document=document,
        operations=operations,
        problems=list(PROBLEM_TYPES.values()),
        pretty=_pretty,
    )
    return Response(html, content_type="text/html; charset=utf-8")


def _pretty(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, indent=2)
