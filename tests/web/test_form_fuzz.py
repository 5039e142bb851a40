"""Property: every form of the web app, posted with a valid CSRF token and arbitrary field
values, answers below 500 (issue 12).

The POST routes are discovered from the app's URL map, so a new form is fuzzed without
listing it here. The field names are every field the app's forms declare plus the few read
from `request.form` directly; each example sends an arbitrary subset with hostile values
(control characters, huge numbers, impossible dates, `javascript:` links, lists, files).
Bounded: a few examples per route on the demo data, well under a minute in all.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_wtf import FlaskForm
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from support.demo_data import DemoDatabase, demo_session
from support.web import build_app
from werkzeug.routing import Rule
from wtforms.fields.core import UnboundField

from models import (
    AgendaItem,
    ApiToken,
    Body,
    Case,
    ConsultationResponse,
    DecisionTemplate,
    FollowUpItem,
    ImplementationStatus,
    Indicator,
    Meeting,
    Membership,
    Party,
    PlanningArea,
    User,
)
from workflow import demo
from workflow.app import create_app
from workflow.engine import clock
from workflow.engine.processes import registry

DEMO_PASSWORD = "aftaleflow-demo"
LOGINS = ("admin", "sekretariat.tss", "formand.tss", "sekretariat.su-nord-som")
EXAMPLES_PER_ROUTE = 5
# Logging out would end the fuzzing user's session; /login is fuzzed without one.
NOT_FUZZED = {"/logout"}
# Read from request.form by views that use no form class.
RAW_FIELDS = (
    "handling", "sag", "kommentar", "meeting_id", "sprog", "tilbage", "template_id", "comment",
    "all_answered", "besked", "expected_version",
    # The process designer's form names its inputs by the definition's key paths.
    "states.draft.reminders", "states.draft.deadline.days", "transitions[0].allowed",
    "ny_tilstand.name", "ny_overgang.trigger", "map-1-draft",
)  # fmt: skip
EXPENSE_ROWS = tuple(
    f"expenses-{row}-{name}" for row in range(2) for name in ("party_id", "amount", "note")
)
HOSTILE = (
    "", "0", "1", "-1", "2", "2147483647", "2147483648", "9223372036854775808", "9" * 30,
    "99999999999999999999999999", "1e400", "-1e400", "NaN", "Infinity", "12.500,50",
    "2020-02-30", "2020-11-13", "9999-12-31", "0001-01-01", "12:00", "25:99",
    "javascript:alert(1)", "https://example.dk/møde", "Titel\r\nBcc: alle@example.dk",
    "\x00", "a\x00b", "\u2028", "y", "on", "true", "nej", "TSS", "SU-NORD-SOM", "KK",
    "decision", "information", "weekly", "monthly", "op", "ned", "en", "da", "<script>",
    "' OR 1=1 --", "x" * 5000,
)  # fmt: skip
WORDS = (
    "TSS", "SKU", "SU-NORD-SOM", "FORUM-DATA", "signature_initiative", "forum_matter",
    "submit", "approve", "publish", "send_for_review", "approve_minutes", "hold", "op", "ned",
    "arkiver", "genaktiver", "archive", "restore",
)  # fmt: skip


# Where the demo's existing values of each path parameter come from; the examples use them
# most of the time, so the forms are reached, not only their 404s.
ID_SOURCES: dict[str, Any] = {
    "case_id": Case.id, "meeting_id": Meeting.id, "item_id": AgendaItem.id,
    "follow_up_id": FollowUpItem.id, "response_id": ConsultationResponse.id,
    "user_id": User.id, "membership_id": Membership.id, "template_id": DecisionTemplate.id,
    "unit_id": ImplementationStatus.id, "token_id": ApiToken.id,
}  # fmt: skip
CODE_SOURCES = (Body.code, Party.code, Indicator.code, PlanningArea.code)
Known = dict[str, list[Any]]


def form_field_names() -> list[str]:
    """Every field name a FlaskForm subclass of the app declares."""
    names: set[str] = set()
    pending = list(FlaskForm.__subclasses__())
    while pending:
        form = pending.pop()
        pending += form.__subclasses__()
        names |= {n for n in dir(form) if isinstance(getattr(form, n, None), UnboundField)}
    return sorted(names)


def post_rules(app: Flask) -> list[Rule]:
    return sorted(
        (
            rule
            for rule in app.url_map.iter_rules()
            if "POST" in (rule.methods or set())
            and not rule.rule.startswith("/api/")
            and rule.rule not in NOT_FUZZED
        ),
        key=lambda rule: rule.rule,
    )


@pytest.fixture(scope="module")
def demo_app(demo_database: DemoDatabase) -> Iterator[tuple[Flask, Known]]:
    """The demo data with CSRF checks on, rolled back afterwards; and the values that exist
    for each path parameter."""
    with demo_session(demo_database) as session:
        yield from _fuzzed(session, demo_database.url)


def _fuzzed(session: Session, database_url: str) -> Iterator[tuple[Flask, Known]]:
    assert session.scalar(select(User).where(User.email == "admin@demo.aftaleflow.dk"))
    known: Known = {
        name: list(session.scalars(select(column).order_by(column).limit(30)))
        for name, column in ID_SOURCES.items()
    }
    known["code"] = [code for column in CODE_SOURCES for code in session.scalars(select(column))]
    known["year"] = [2020, 2021, 2022]
    # An agenda item's address names its meeting too.
    known["meeting_item"] = [
        (meeting_id, item_id)
        for meeting_id, item_id in session.execute(
            select(AgendaItem.meeting_id, AgendaItem.id).limit(30)
        )
    ]
    words = sorted(
        {t.trigger for d in registry.all_latest(session) for t in d.transitions}
        | {f.name for d in registry.all_latest(session) for t in d.transitions for f in t.fields}
    )
    # Process names too, so the process designer's pages (/admin/procesdesigner/<name>) are
    # reached, not only their 404.
    words += registry.names(session)
    known["trigger"] = known["name"] = known["action"] = known["process"] = [*WORDS, *words]
    clock.set_time(demo.load_script().today)
    try:
        # A 500 must show up as its status (the log has the traceback), not stop the run.
        yield (
            build_app(session, database_url, PROPAGATE_EXCEPTIONS=False, WTF_CSRF_ENABLED=True),
            known,
        )
    finally:
        clock.set_time(None)


def _csrf_token(client: FlaskClient, page: str) -> str:
    html = client.get(page).get_data(as_text=True)
    found = re.search(r'name="csrf_token"(?: type="hidden")? value="([^"]+)"', html)
    assert found is not None, f"no CSRF token on {page}"
    return found.group(1)


@pytest.fixture(scope="module")
def clients(demo_app: tuple[Flask, Known]) -> list[tuple[FlaskClient, str]]:
    """A logged-in client per demo role, with its CSRF token."""
    app, _known = demo_app
    logged_in = []
    for login in LOGINS:
        client = app.test_client()
        token = _csrf_token(client, "/login")
        email = f"{login}@{demo.MAIL_DOMAIN}"
        answer = client.post(
            "/login", data={"email": email, "password": DEMO_PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 303, login
        logged_in.append((client, _csrf_token(client, "/profil")))
    return logged_in


def field_values() -> st.SearchStrategy[Any]:
    single = st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=40),
        st.integers().map(str),
        st.dates().map(str),
    )
    return st.one_of(single, st.lists(single, min_size=2, max_size=3))


def uploads() -> st.SearchStrategy[tuple[io.BytesIO, str]]:
    contents = st.one_of(st.just(b"%PDF-1.4\n"), st.just(b""), st.binary(max_size=64))
    names = st.one_of(
        st.sampled_from(["svar.pdf", "a\x00b.pdf", "../../x.csv", "x.exe", ".pdf", "data.csv"]),
        st.text(st.characters(blacklist_characters='\r\n"'), max_size=20),
    )
    return st.tuples(contents.map(io.BytesIO), names)


def path_value(converter: str, known: list[Any]) -> st.SearchStrategy[Any]:
    """Mostly a value that exists, so the form behind the address is what gets fuzzed."""
    if converter == "int":
        return st.sampled_from([*known, 0, 2147483647]) if known else st.integers(0, 60)
    other = st.text(min_size=1, max_size=20)
    return st.one_of(st.sampled_from([*known, "x"]), other) if known else other


RULES = post_rules(create_app({"TESTING": True, "DATABASE_URL": "sqlite://"}))
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


@pytest.mark.parametrize("rule", RULES, ids=[r.rule for r in RULES])
def test_every_form_answers_below_500_whatever_it_is_sent(
    rule: Rule,
    demo_app: tuple[Flask, Known],
    clients: list[tuple[FlaskClient, str]],
) -> None:
    app, known = demo_app
    names = sorted({*form_field_names(), *RAW_FIELDS, *EXPENSE_ROWS})
    arguments = {
        name: path_value(kind, known.get(name, [])) for kind, name in PARAMETER.findall(rule.rule)
    }
    if {"meeting_id", "item_id"} <= arguments.keys() and known["meeting_item"]:
        pair = st.sampled_from(known["meeting_item"])
        arguments["meeting_id"] = arguments["item_id"] = pair
    adapter = app.url_map.bind("localhost")

    @given(
        who=st.integers(0, len(clients) - 1),
        path=st.fixed_dictionaries(arguments),
        fields=st.fixed_dictionaries({}, optional=dict.fromkeys(names, field_values())),
        upload=st.one_of(st.none(), uploads()),
        with_token=st.booleans() if rule.rule == "/login" else st.just(True),
    )
    @settings(
        max_examples=EXAMPLES_PER_ROUTE,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def post(who: int, path: dict[str, Any], fields: dict[str, Any], upload: Any,
             with_token: bool) -> None:  # fmt: skip
        client, token = clients[who]
        if rule.rule == "/login":
            client = app.test_client()
            token = _csrf_token(client, "/login")
        if isinstance(path.get("item_id"), tuple):
            path["meeting_id"], path["item_id"] = path["item_id"]
        url = adapter.build(rule.endpoint, path, method="POST")
        data = {**fields, **({"csrf_token": token} if with_token else {})}
        if upload is not None:
            data["file"] = upload
        response = client.post(url, data=data)
        assert response.status_code < 500, f"POST {url} {fields!r}: {response.status_code}"

    post()
