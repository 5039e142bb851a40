"""Errors as RFC 9457 problem details: `detail` in the request's language, `reasons` (and
`detail_da`, `detail_en`) in both, and the refusing rule's name in `rule`."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from flask import Response, g, has_request_context, request

from workflow.api.schema import Issue

PROBLEM_MEDIA_TYPE = "application/problem+json"
JSON_MEDIA_TYPE = "application/json"
DOCS_PATH = "/api/v1/docs"


@dataclass(frozen=True)
class ProblemType:
    """A kind of problem: its slug (anchor in the docs), status and titles."""

    slug: str
    status: int
    title_da: str
    title_en: str
    explanation: str

    @property
    def uri(self) -> str:
        return f"{DOCS_PATH}#problem-{self.slug}"


PROBLEM_TYPES = {
    p.slug: p
    for p in (
        ProblemType("bad-request", 400, "Forespørgslen er ugyldig", "Invalid request",
                    "Et felt, en parameter eller selve JSON-indholdet passer ikke til "
                    "dokumentationen; `errors` nævner hvert problem."),
        ProblemType("unauthorized", 401, "Log ind med en API-nøgle", "Authentication required",
                    "Nøglen mangler, er ukendt eller tilbagekaldt, eller brugeren er "
                    "deaktiveret. Send `Authorization: Bearer <nøgle>`."),
        ProblemType("not-allowed", 403, "Du må ikke udføre handlingen", "Not allowed",
                    "Nøglens bruger har ikke rollen; `allowed` nævner de roller, der må."),
        ProblemType("not-found", 404, "Findes ikke", "Not found",
                    "Der findes ingen ressource med den adresse eller det id."),
        ProblemType("method-not-allowed", 405, "Metoden findes ikke her", "Method not allowed",
                    "Adressen findes, men ikke med denne HTTP-metode; se `Allow`."),
        ProblemType("stale-version", 409, "Sagen er ændret siden", "Stale version",
                    "`expected_version` er ikke sagens version længere; hent sagen igen."),
        ProblemType("invalid-trigger", 409, "Handlingen er ikke mulig nu", "Invalid trigger",
                    "Handlingen findes ikke eller er ikke mulig i sagens tilstand; "
                    "`valid_triggers` nævner de mulige."),
        ProblemType("conflict", 409, "Ikke muligt nu", "Conflict",
                    "Ændringen strider mod det, der er gemt (en e-mailadresse eller kode, der er "
                    "i brug, et medlemskab, der allerede findes eller er afsluttet, en "
                    "administrator, der ville fratage sig selv adgangen); `rule` nævner reglen."),
        ProblemType("precondition-failed", 412, "Ændret siden", "Precondition failed",
                    "`If-Match` nævner ikke sagens (brugerens, partens) nuværende ETag; hent den "
                    "igen. Svaret har den nuværende `ETag`."),
        ProblemType("too-large", 413, "Indholdet er for stort", "Content too large",
                    "Forespørgslens krop er større end grænsen; den er afvist uden at blive "
                    "læst. Send mindre indhold."),
        ProblemType("guard-failed", 422, "Reglerne er ikke opfyldt", "Rules not satisfied",
                    "En eller flere af processens regler holder ikke; `errors` nævner hver "
                    "regel (`rule`) med besked på dansk og engelsk."),
        ProblemType("unprocessable", 422, "Oplysningerne kan ikke bruges", "Unprocessable",
                    "Indholdet er velformet, men henviser til noget, der ikke findes (en proces, "
                    "et organ, et fokusområde, et mål); `errors` nævner feltet."),
        ProblemType("precondition-required", 428, "Send versionen", "Precondition required",
                    "En ændring skal nævne den version, den bygger på: `If-Match` med sagens "
                    "(brugerens, partens) `ETag`, eller for en sag `expected_version` i "
                    "indholdet."),
        ProblemType("server-error", 500, "Der opstod en fejl", "Internal error",
                    "En uventet fejl; intet er ændret. Prøv igen, eller kontakt sekretariatet."),
    )
}  # fmt: skip


class ApiProblem(Exception):
    """Raise to answer with a problem document."""

    def __init__(
        self,
        slug: str,
        detail_da: str,
        detail_en: str,
        *,
        errors: Sequence[Mapping[str, Any]] = (),
        headers: Mapping[str, str] | None = None,
        rule: str | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail_da)
        self.kind = PROBLEM_TYPES[slug]
        self.detail_da = detail_da
        self.detail_en = detail_en
        self.errors = list(errors)
        self.headers = dict(headers or {})
        self.rule = rule
        self.extra = extra

    def response(self) -> Response:
        """Render the problem document."""
        kind = self.kind
        english = request_language() == "en"
        body: dict[str, Any] = {
            "type": kind.uri,
            "title": kind.title_en if english else kind.title_da,
            "title_en": kind.title_en,
            "status": kind.status,
            "detail": self.detail_en if english else self.detail_da,
            "detail_da": self.detail_da,
            "detail_en": self.detail_en,
            "reasons": {"da": self.detail_da, "en": self.detail_en},
            **self.extra,
        }
        if self.rule is not None:
            body["rule"] = self.rule
        if self.errors:
            body["errors"] = self.errors
        response = json_response(body, kind.status, PROBLEM_MEDIA_TYPE)
        response.headers.update(self.headers)
        return response


LANGUAGES = ("da", "en")


def request_language() -> str:
    """'en' when the request asks for English (Accept-Language), or its token's user reads
    English and the request names neither language; else Danish."""
    if not has_request_context():
        return "da"
    asked = request.accept_languages.best_match(LANGUAGES)
    if asked is not None:
        return asked
    user = g.get("api_user")
    return "en" if getattr(user, "locale", None) == "en" else "da"


def issue_errors(issues: Sequence[Issue]) -> list[dict[str, str]]:
    """Describe validation issues as problem `errors` entries."""
    return [
        {
            "field": i.field,
            "message": i.message_da,
            "message_da": i.message_da,
            "message_en": i.message_en,
        }
        for i in issues
    ]


def bad_request(issues: Sequence[Issue]) -> ApiProblem:
    """The problem for a request that does not match the documented schema."""
    return ApiProblem(
        "bad-request",
        " ".join(i.message_da for i in issues),
        " ".join(i.message_en for i in issues),
        errors=issue_errors(issues),
    )


def json_response(data: Any, status: int = 200, media_type: str = JSON_MEDIA_TYPE) -> Response:
    """Answer with UTF-8 JSON (letters as themselves, not \\u escapes)."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return Response(text.encode("utf-8"), status=status, content_type=media_type)
