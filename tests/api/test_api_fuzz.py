"""Property: every API operation, sent arbitrary JSON bodies, raw bytes and query strings,
answers below 500, and every refusal is a problem document (issue 12).

The operations come from the OpenAPI document, so a new one is fuzzed without listing it
here. Bodies mix the operation's own field names with values of every JSON type, huge
numbers, control characters and deep nesting. Bounded: a few dozen examples per operation.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from models import Case, User
from workflow.api.spec import openapi_document
from workflow.auth import tokens

EXAMPLES = 25
DOCUMENT = openapi_document()
OPERATIONS = sorted(
    (method.upper(), path, operation)
    for path, methods in DOCUMENT["paths"].items()
    for method, operation in methods.items()
)
HOSTILE_STRINGS = (
    "", "x", "Titel\r\nBcc: alle@example.dk", "\x00", "\u2028", "2021-02-30", "2020-09-01",
    "2020-09-01T10:00:00+02:00", "signature_initiative", "SU-NORD-SOM", "submit", "approve",
    "javascript:alert(1)", "9" * 40, "NaN", "x" * 25_000,
)  # fmt: skip
HOSTILE_NUMBERS = (0, -1, 1, 2**31 - 1, 2**31, 2**53, 2**63, 10**30, 1.5, -0.0, 1e308)


def _schema_names(schema: dict[str, Any], found: set[str]) -> set[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return _schema_names(DOCUMENT["components"]["schemas"][name], found)
    for key, inner in schema.get("properties", {}).items():
        found.add(key)
        _schema_names(inner, found)
    return found


def json_values(names: list[str]) -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.sampled_from(HOSTILE_NUMBERS),
        st.integers(),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(HOSTILE_STRINGS),
        st.text(max_size=30),
    )
    keys = st.one_of(st.sampled_from(names or ["x"]), st.text(max_size=10))
    return st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=6)
        ),
        max_leaves=12,
    )


def raw_bodies(names: list[str]) -> st.SearchStrategy[bytes]:
    """Bodies as bytes: JSON of the operation's fields, or anything at all."""
    as_json = st.dictionaries(st.sampled_from(names or ["x"]), json_values(names), max_size=8).map(
        lambda value: json.dumps(value).encode()
    )
    nested = st.sampled_from([2, 1_000, 100_000]).map(lambda depth: b"[" * depth + b"]" * depth)
    return st.one_of(as_json, as_json, st.binary(max_size=64), nested)


@pytest.fixture
def api_app(
    make_app: Callable[..., Flask],
    session: Session,
    make_user: Callable[..., User],
    make_case: Callable[..., Case],
) -> tuple[Flask, str, list[int]]:
    """The app, a token of a user with roles in an SU and TSS, and a few cases' ids."""
    user = make_user("chair@SU-NORD-SOM", "secretariat@TSS", "member@SKU")
    cases = [make_case(title="Kladde"), make_case(state="at_tss", title="Ved TSS")]
    session.commit()
    return make_app(), tokens.create_token(session, user, "fuzz").plain, [c.id for c in cases]


@pytest.mark.parametrize(
    ("method", "path", "operation"), OPERATIONS, ids=[f"{m} {p}" for m, p, _ in OPERATIONS]
)
def test_every_api_operation_answers_below_500_whatever_it_is_sent(
    method: str, path: str, operation: dict[str, Any], api_app: tuple[Flask, str, list[int]]
) -> None:
    app, token, case_ids = api_app
    client = app.test_client()
    names = sorted(_schema_names(operation.get("requestBody", {}).get("content", {}).get(
        "application/json", {}).get("schema", {}), set()))  # fmt: skip
    query_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
    path_names = re.findall(r"\{(\w+)\}", path)
    ids = st.one_of(
        st.sampled_from(case_ids), st.sampled_from(HOSTILE_NUMBERS), st.text(max_size=12)
    )

    @given(
        path_values=st.fixed_dictionaries({name: ids for name in path_names}),
        query=st.dictionaries(
            st.sampled_from(query_names or ["x"]),
            st.one_of(st.sampled_from(HOSTILE_STRINGS), st.text(max_size=20), ids.map(str)),
            max_size=4,
        ),
        body=raw_bodies(names),
        content_type=st.sampled_from(
            ["application/json", "text/plain", "application/json; charset=latin-1"]
        ),
    )
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def send(path_values: dict[str, Any], query: dict[str, str], body: bytes,
             content_type: str) -> None:  # fmt: skip
        url = path
        for name, value in path_values.items():
            url = url.replace("{" + name + "}", str(value).replace("/", "%2F").replace("?", "%3F"))
        response = client.open(
            url,
            method=method,
            query_string=query,
            data=body if method in ("POST", "PATCH", "PUT") else None,
            headers={"Authorization": f"Bearer {token}", "Content-Type": content_type},
        )
        assert response.status_code < 500, f"{method} {url} {query} {body[:200]!r}"
        if response.status_code >= 400:
            assert response.content_type == "application/problem+json", url

    send()
