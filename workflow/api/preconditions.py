"""Optimistic concurrency over HTTP: an object's `ETag` and the `If-Match` that names it.

The ETag names the stored version of the case (strong, so `If-Match` may compare it, RFC 9110
§13.1.1). A write sends it back in `If-Match` or sends `expected_version` in its body; with
neither, the write is refused (428), so an integration cannot overwrite a change it never saw.
Admin objects (users, parties) carry no version column: their ETag names a fingerprint of
their audited values, the one the admin pages' forms carry, and an edit must send it.
"""

from __future__ import annotations

import re

from flask import request

from models import Case
from workflow.api.problems import ApiProblem

ETAG_PATTERN = r'^"case-[0-9]+-v[0-9]+"$'
IF_MATCH_SCHEMA = {
    "type": "string",
    "maxLength": 500,
    "pattern": r'^(\*|"[^"]*"(\s*,\s*"[^"]*")*)$',
    "description": 'Sagens ETag fra GET (fx "case-12-v3"), eller * for enhver version.',
}
_TAG = re.compile(r'(W/)?"([^"]*)"')


def case_etag(case: Case) -> str:
    """The strong entity tag of the case's current version."""
    return f'"case-{case.id}-v{case.version}"'


def _names(header: str, current: str) -> bool:
    """Whether an If-Match header names `current` (or is `*`)."""
    # Weak tags never match under If-Match (strong comparison).
    tags = [f'"{m.group(2)}"' for m in _TAG.finditer(header) if not m.group(1)]
    return header.strip() == "*" or current in tags


def require_current(current: str, what_da: str, what_en: str) -> None:
    """Refuse an edit whose `If-Match` does not name `current` (412), or that has none (428)."""
    header = request.headers.get("If-Match")
    if header is None:
        raise ApiProblem(
            "precondition-required",
            f"Send {what_da}s ETag fra GET i headeren If-Match, så en ændring, du ikke har set, "
            "ikke overskrives.",
            f"Send the {what_en}'s ETag from GET in If-Match, so a change you have not seen is "
            "not overwritten.",
            rule="current_version",
        )
    if not _names(header, current):
        raise ApiProblem(
            "precondition-failed",
            f"{what_da.capitalize()} er ændret, siden du hentede den: If-Match nævner "
            f"{header.strip()}, men nu er den {current}. Hent den igen, og prøv igen.",
            f"The {what_en} changed since you read it: If-Match names {header.strip()}, it is "
            f"now {current}. Read it again and retry.",
            headers={"ETag": current},
            rule="current_version",
        )


def expected_version(case: Case, from_body: int | None) -> int:
    """The version the caller read: from `If-Match` (412 when it names another version) or
    from the body's `expected_version`; 428 when the request names neither."""
    header = request.headers.get("If-Match")
    if header is not None:
        current = case_etag(case)
        if not _names(header, current):
            raise ApiProblem(
                "precondition-failed",
                f"Sagen er ændret, siden du hentede den: If-Match nævner {header.strip()}, men "
                f"sagen er nu {current}. Hent sagen igen, og prøv igen.",
                f"The case changed since you read it: If-Match names {header.strip()}, the "
                f"case is now {current}. Read it again and retry.",
                headers={"ETag": current},
                rule="current_version",
                actual_version=case.version,
            )
        if from_body is None:
            return case.version
    if from_body is None:
        raise ApiProblem(
            "precondition-required",
            "Send sagens ETag i headeren If-Match (eller 'expected_version' i indholdet), så "
            "en ændring, du ikke har set, ikke overskrives.",
            "Send the case's ETag in If-Match (or 'expected_version' in the body), so a change "
            "you have not seen is not overwritten.",
            rule="current_version",
        )
    return from_body
