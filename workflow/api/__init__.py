"""/api/v1: a JSON API on the engine, authenticated by personal bearer tokens.

`register(app)` adds the API (exempt from CSRF: bearer tokens are not cookies, so a forged
cross-site request cannot carry one) and the profile page where users manage their tokens.
"""

from __future__ import annotations

from collections.abc import Iterable

from flask import Flask, Response, current_app, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed, NotFound, RequestEntityTooLarge
from werkzeug.routing import Map

from workflow.api import (
    admin,
    attachments,
    cases,
    consultations,
    docs,
    follow_ups,
    implementation,
    indicators,
    meetings,
    notifications,
    plans,
    records,
    reference,
    search,
    webhooks,
)
from workflow.api import profile_views as profile
from workflow.api.i18n import gettext
from workflow.api.problems import ApiProblem
from workflow.api.spec import API_PREFIX, OPERATIONS, bp

__all__ = [
    "admin",
    "attachments",
    "bp",
    "cases",
    "consultations",
    "docs",
    "follow_ups",
    "http_problem",
    "implementation",
    "indicators",
    "is_api_request",
    "meetings",
    "notifications",
    "plans",
    "records",
    "reference",
    "register",
    "search",
    "webhooks",
]

CATCH_ALL = "not_found"
ALL_METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE"]


def register(app: Flask) -> None:
    """Register the API and the token page on `app`."""
    app.register_blueprint(bp)
    app.register_blueprint(profile.bp)
    csrf = app.extensions.get("csrf")
    if csrf is not None:
        csrf.exempt(bp)
    # Until Flask-Babel is set up, templates get the Danish source text.
    app.jinja_env.globals.setdefault("_", gettext)


@bp.errorhandler(ApiProblem)
def _problem(problem: ApiProblem) -> Response:
    return problem.response()


def is_api_request() -> bool:
    """Whether the request is for the API (also when no API rule matched its address)."""
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


@bp.errorhandler(HTTPException)
def http_problem(error: HTTPException) -> Response:
    """Answer an HTTP error as a problem document (the app's handler calls this for API
    addresses that matched no rule, e.g. an id beyond the bounded `<int:…>` converter)."""
    if isinstance(error, NotFound):
        return ApiProblem(
            "not-found", "Adressen findes ikke i API'et.", "No such API address."
        ).response()
    if isinstance(error, MethodNotAllowed):
        return _method_not_allowed(error.valid_methods or [])
    if isinstance(error, RequestEntityTooLarge):
        limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
        return ApiProblem(
            "too-large",
            f"Indholdet er større end de {limit} byte, API'et modtager. Send mindre indhold.",
            f"The content is larger than the {limit} bytes the API accepts.",
        ).response()
    return ApiProblem(
        "bad-request",
        "Forespørgslen kunne ikke behandles.",
        f"The request could not be handled ({error.code}).",
    ).response()


@bp.errorhandler(500)
def _server_error(_error: Exception) -> Response:
    return ApiProblem(
        "server-error",
        "Der opstod en uventet fejl; intet er ændret. Prøv igen, eller kontakt sekretariatet.",
        "An unexpected error occurred; nothing was changed.",
    ).response()


def _method_not_allowed(methods: Iterable[str]) -> Response:
    allowed = ", ".join(sorted(methods))
    return ApiProblem(
        "method-not-allowed",
        f"Metoden {request.method} findes ikke på denne adresse. Brug: {allowed}.",
        f"{request.method} is not allowed here. Use: {allowed}.",
        headers={"Allow": allowed},
    ).response()


def _api_map() -> Map:
    """The API's own rules (not the catch-all), to tell 404 from 405."""
    cached: Map | None = current_app.extensions.get("aftaleflow.api_map")
    if cached is None:
        rules = [
            rule.empty()
            for rule in current_app.url_map.iter_rules()
            if rule.endpoint.startswith(f"{bp.name}.") and rule.endpoint != f"{bp.name}.{CATCH_ALL}"
        ]
        cached = Map(rules)
        current_app.extensions["aftaleflow.api_map"] = cached
    return cached


@bp.route("/", defaults={"rest": ""}, endpoint=CATCH_ALL, methods=ALL_METHODS)
@bp.route("/<path:rest>", endpoint=CATCH_ALL, methods=ALL_METHODS)
def not_found(rest: str) -> Response:
    """Answer unknown API addresses (and wrong methods) as problems, not HTML pages."""
    adapter = _api_map().bind("localhost")
    try:
        adapter.match(request.path, method=request.method)
    except MethodNotAllowed as error:
        return _method_not_allowed(error.valid_methods or [])
    except HTTPException:
        pass
    raise ApiProblem(
        "not-found",
        f"Adressen {API_PREFIX}/{rest} findes ikke. Se {API_PREFIX}/docs.",
        f"{API_PREFIX}/{rest} does not exist. See {API_PREFIX}/docs.",
    )


assert OPERATIONS, "the API's operations are registered on import"
