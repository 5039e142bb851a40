"""Operations declared beside their views, and the OpenAPI 3.1 document built from them.

`operation()` registers a view on the blueprint and records what it accepts and answers; the
wrapper authenticates the caller and checks the query and body against the same schemas the
document publishes.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, g, request

from models import User
from workflow.api.problems import (
    JSON_MEDIA_TYPE,
    PROBLEM_MEDIA_TYPE,
    PROBLEM_TYPES,
    ApiProblem,
    bad_request,
)
from workflow.api.schema import Issue, Schema, normalise, ref, validate
from workflow.auth import tokens
from workflow.engine import values
from workflow.web import db

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"
REALM = 'Bearer realm="aftaleflow"'

COMPONENTS: dict[str, Schema] = {}

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


def component(name: str, schema: Schema) -> Schema:
    """Publish `schema` under components/schemas and return a reference to it."""
    COMPONENTS[name] = schema
    return ref(name)


PROBLEM = component(
    "Problem",
    {
        "type": "object",
        "description": (
            "RFC 9457 problem details. `detail` is in the request's language (Accept-Language "
            "da or en; else the token user's language; else Danish); `reasons` and "
            "`detail_da`/`detail_en` carry both. A refusal (409, 412, 422, 403) names its rule in "
            "`rule` (e.g. `within_mandate`, `financing_follows`); `rules` lists every failed "
            "rule when several hold the action back."
        ),
        "required": ["type", "title", "status", "detail", "detail_da", "detail_en", "reasons"],
        "properties": {
            "type": {"type": "string", "format": "uri-reference"},
            "title": {"type": "string"},
            "title_en": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "detail_da": {"type": "string"},
            "detail_en": {"type": "string"},
            "reasons": {
                "type": "object",
                "properties": {"da": {"type": "string"}, "en": {"type": "string"}},
                "required": ["da", "en"],
            },
            "rule": {"type": "string", "examples": ["within_mandate", "financing_follows"]},
            "rules": {"type": "array", "items": {"type": "string"}},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "field": {"type": "string"},
                        "rule": {"type": "string"},
                        "message": {"type": "string"},
                        "message_da": {"type": "string"},
                        "message_en": {"type": "string"},
                    },
                    "required": ["message", "message_da", "message_en"],
                },
            },
            "allowed": {
                "type": "array",
                "items": {"type": "string"},
                "description": "Roles that may act, e.g. `chair@SKU`.",
            },
            "valid_triggers": {"type": "array", "items": {"type": "string"}},
            "expected_version": {"type": ["integer", "null"]},
            "actual_version": {"type": ["integer", "null"]},
        },
    },
)


@dataclass(frozen=True)
class Param:
    """A query parameter: its schema, and what it does."""

    name: str
    schema: Schema
    description: str


@dataclass(frozen=True)
class Reply:
    """A documented response."""

    description: str
    schema: Schema | None = None
    media_type: str = JSON_MEDIA_TYPE
    headers: Mapping[str, Schema] = field(default_factory=dict)
    # OpenAPI links: how a client (or a stateful fuzzer) goes on from this answer.
    links: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass
class Call:
    """What a view gets: the caller, path values, the checked query and body."""

    user: User | None
    path: dict[str, Any]
    args: dict[str, Any]
    body: dict[str, Any]

    @property
    def actor(self) -> User:
        assert self.user is not None, "only public operations have no caller"
        return self.user


View = Callable[[Call], Response]


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the document describes it."""

    rule: str
    method: str
    endpoint: str
    tag: str
    summary: str
    description: str
    query: tuple[Param, ...]
    body: Schema | None
    ok: Mapping[int, Reply]
    errors: tuple[int, ...]
    public: bool
    path_params: dict[str, Schema] = field(default_factory=dict)
    headers: tuple[Param, ...] = ()

    @property
    def path(self) -> str:
        return openapi_path(self.rule)


OPERATIONS: list[Operation] = []

CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")
PATH_SCHEMAS = {
    "int": {"type": "integer", "minimum": 1, "maximum": values.ID_MAX},
    None: {"type": "string", "minLength": 1, "pattern": "^[a-z0-9_]+$"},
}


def openapi_path(rule: str) -> str:
    """Turn a Flask rule (`/cases/<int:case_id>`) into an OpenAPI path (`/cases/{case_id}`)."""
    return API_PREFIX + CONVERTER.sub(lambda m: "{" + m.group(2) + "}", rule)


def operation(
    rule: str,
    method: str,
    *,
    tag: str,
    summary: str,
    description: str = "",
    query: tuple[Param, ...] = (),
    body: Schema | None = None,
    ok: Mapping[int, Reply] | None = None,
    errors: tuple[int, ...] = (),
    public: bool = False,
    headers: tuple[Param, ...] = (),
) -> Callable[[View], View]:
    """Register `view` for `method rule` and record it for the OpenAPI document."""

    def register(view: View) -> View:
        path_params = {
            name: PATH_SCHEMAS["int" if conv == "int" else None]
            for conv, name in CONVERTER.findall(rule)
        }
        op = Operation(
            rule, method.lower(), view.__name__, tag, summary, description or (view.__doc__ or ""),
            query, body, ok or {200: Reply("OK")}, errors, public, path_params, headers,
        )  # fmt: skip
        OPERATIONS.append(op)

        @functools.wraps(view)
        def handle(**path: Any) -> Response:
            user = None if public else authenticate()
            return view(Call(user, path, read_query(op.query), read_body(op.body)))

        bp.add_url_rule(rule, view.__name__, handle, methods=[method.upper()])
        return view

    return register


def authenticate() -> User:
    """Return the user of the request's bearer token, or answer 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiProblem(
            "unauthorized",
            "Send en API-nøgle i headeren 'Authorization: Bearer <nøgle>'. Du laver en nøgle "
            "under Profil → API-nøgler eller med 'aftaleflow tokens create'.",
            "Send an API token in the header 'Authorization: Bearer <token>'.",
            headers={"WWW-Authenticate": REALM},
        )
    user = tokens.authenticate(db(), token.strip())
    if user is None:
        raise ApiProblem(
            "unauthorized",
            "API-nøglen er ukendt eller tilbagekaldt, eller dens bruger er deaktiveret. "
            "Lav en ny nøgle, eller kontakt en administrator.",
            "The API token is unknown or revoked, or its user is deactivated.",
            headers={"WWW-Authenticate": f'{REALM}, error="invalid_token"'},
        )
    g.api_user = user
    return user


def _query_value(param: Param, raw: str) -> Any:
    kind = param.schema.get("type")
    if kind == "integer":
        return int(raw) if re.fullmatch(r"[+-]?\d{1,30}", raw) else raw
    if kind == "boolean":
        return {"true": True, "false": False}.get(raw, raw)
    return raw


def read_query(params: tuple[Param, ...]) -> dict[str, Any]:
    """Convert and check the declared query parameters; answer 400 on a bad one."""
    values: dict[str, Any] = {}
    issues: list[Issue] = []
    for param in params:
        raw = request.args.get(param.name)
        if raw is None:
            if "default" in param.schema:
                values[param.name] = param.schema["default"]
            continue
        value = _query_value(param, raw)
        found = validate(param.schema, value, param.name)
        if found:
            issues += found
        else:
            values[param.name] = value
    if issues:
        raise bad_request(issues)
    return values


def read_body(schema: Schema | None) -> dict[str, Any]:
    """Parse and check the JSON body; answer 400 when it is not what the document says."""
    if schema is None:
        return {}
    raw = request.get_data(cache=True)
    try:
        # NaN and Infinity are not JSON; refuse them rather than store them.
        value = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
    except RecursionError:
        raise bad_request(
            [
                Issue(
                    "(body)",
                    "JSON-indholdet er for dybt indlejret. Send et objekt som i dokumentationen.",
                    "The JSON body is nested too deeply. Send an object as documented.",
                )
            ]
        ) from None
    except (UnicodeDecodeError, ValueError):
        raise bad_request(
            [
                Issue(
                    "(body)",
                    "Indholdet skal være gyldig JSON i UTF-8.",
                    "The body must be valid UTF-8 JSON.",
                )
            ]
        ) from None
    value = normalise(schema, value)
    issues = validate(schema, value)
    if issues:
        raise bad_request(issues)
    assert isinstance(value, dict)
    return value


def _refuse_constant(name: str) -> Any:
    raise ValueError(name)


def _responses(op: Operation) -> dict[str, Any]:
    replies: dict[str, Any] = {}
    for status, reply in op.ok.items():
        entry: dict[str, Any] = {"description": reply.description}
        if reply.schema is not None:
            entry["content"] = {reply.media_type: {"schema": reply.schema}}
        if reply.headers:
            entry["headers"] = {
                name: {"schema": schema, "required": True} for name, schema in reply.headers.items()
            }
        if reply.links:
            entry["links"] = {name: dict(link) for name, link in reply.links.items()}
        replies[str(status)] = entry
    codes = set(op.errors)
    if op.query or op.body is not None:
        codes.add(400)
    if not op.public:
        codes.add(401)
    if op.path_params:
        codes.add(404)
    for status in sorted(codes):
        kinds = [p for p in PROBLEM_TYPES.values() if p.status == status]
        entry = {
            "description": " / ".join(f"{p.title_da} ({p.title_en})" for p in kinds),
            "content": {PROBLEM_MEDIA_TYPE: {"schema": PROBLEM}},
        }
        if status == 401:
            entry["headers"] = {
                "WWW-Authenticate": {"schema": {"type": "string"}, "required": True}
            }
        if status == 412:
            entry["headers"] = {"ETag": {"schema": {"type": "string"}, "required": True}}
        replies[str(status)] = entry
    return replies


def _operation_document(op: Operation) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = [
        {"name": name, "in": "path", "required": True, "schema": schema}
        for name, schema in op.path_params.items()
    ]
    parameters += [
        {"name": p.name, "in": "header", "required": False, "description": p.description,
         "schema": p.schema}
        for p in op.headers
    ]  # fmt: skip
    parameters += [
        {
            "name": p.name,
            "in": "query",
            "required": False,
            "description": p.description,
            "schema": p.schema,
        }
        for p in op.query
    ]
    document: dict[str, Any] = {
        "operationId": op.endpoint,
        "tags": [op.tag],
        "summary": op.summary,
        "description": " ".join(op.description.split()),
        "responses": _responses(op),
    }
    if parameters:
        document["parameters"] = parameters
    if op.body is not None:
        document["requestBody"] = {
            "required": True,
            "content": {JSON_MEDIA_TYPE: {"schema": op.body}},
        }
    if op.public:
        document["security"] = []
    return document


def openapi_document() -> dict[str, Any]:
    """Build the OpenAPI 3.1 document from the registered operations."""
    paths: dict[str, dict[str, Any]] = {}
    for op in OPERATIONS:
        paths.setdefault(op.path, {})[op.method] = _operation_document(op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Aftaleflow API",
            "version": API_VERSION,
            "description": (
                "Sager, tilstande, frister og beslutninger i sundhedsaftalen, Region "
                "Hovedstaden. Samme regler som web-siderne: hver tilstandsændring går gennem "
                "motoren. Godkend med en personlig API-nøgle: `Authorization: Bearer <nøgle>`. "
                "Fejl er `application/problem+json` (RFC 9457) på dansk og engelsk. "
                "Tidspunkter er ISO 8601 med tidszone."
            ),
        },
        "servers": [{"url": "/"}],
        "security": [{"bearerAuth": []}],
        "tags": [{"name": name} for name in dict.fromkeys(op.tag for op in OPERATIONS)],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(COMPONENTS.items())),
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "En personlig API-nøgle (afl_…).",
                }
            },
        },
    }
