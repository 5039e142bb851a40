"""Pages are served beside the writer: a read never waits for SQLite's write lock, and under a
mixed load of page reads and transitions served by waitress (as `aftaleflow serve` does) no
response is a server error — on SQLite and, with $TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import http.client
import json
import os
import re
import sqlite3
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from support.web import PASSWORD, password_hash

from models import Body, Case, CaseEvent, Membership, Role, User
from workflow import scheduler
from workflow.app import create_app
from workflow.auth import tokens
from workflow.engine import core as engine
from workflow.engine import migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed
from workflow.web.server import serving

SECRET = "belastningstest-" + "x" * 32
EMAIL = "formand.belastning@test.aftaleflow.dk"
# A forum matter is raised in TSS only with all three aims described (rule triple_aim_described).
TRIPLE_AIM = {
    "triple_aim_quality": "Færre genindlæggelser efter udskrivning.",
    "triple_aim_economy": "Udgiftsneutral for parterne samlet.",
    "triple_aim_population": "Færre borgere bliver syge igen.",
    "triple_aim_experience": "Borgeren oplever ét samlet forløb.",
}


@dataclass(frozen=True)
class World:
    url: str
    token: str
    co_chair_token: str
    case_ids: list[int]


def _populate(url: str, cases: int) -> World:
    """Migrate and seed `url`; add a forum's secretariat and chair (also chair of TSS) with a
    password and an API token, the other co-chair of both with a token (a formandskab decision
    needs both), and `cases` forum matters in draft, each with the decision basis in Triple Aim
    that raising it in TSS asks for."""
    database = make_engine(url)
    migrate.upgrade(database)
    with Session(database, expire_on_commit=False) as session:
        seed.run(session)
        forum = session.scalar(select(Body).where(Body.code == "FORUM-HJERNE"))
        tss = session.scalar(select(Body).where(Body.code == "TSS"))
        assert forum is not None and tss is not None
        user = User(email=EMAIL, name="Sekretariatet", password_hash=password_hash())
        session.add(user)
        session.flush()
        session.add(Membership(user_id=user.id, body_id=forum.id, role=Role.SECRETARIAT))
        session.add(Membership(user_id=user.id, body_id=forum.id, role=Role.CHAIR))
        session.add(Membership(user_id=user.id, body_id=tss.id, role=Role.CHAIR))
        co_chair = User(email="medformand." + EMAIL, name="Medformanden")
        session.add(co_chair)
        session.flush()
        session.add(Membership(user_id=co_chair.id, body_id=forum.id, role=Role.CHAIR))
        session.add(Membership(user_id=co_chair.id, body_id=tss.id, role=Role.CHAIR))
        session.commit()
        token = tokens.create_token(session, user, "belastning").plain
        co_chair_token = tokens.create_token(session, co_chair, "belastning").plain
        ids = [
            engine.create_case(
                session, process="forum_matter", title=f"Belastning {number}",
                originating_body=forum, actor=user, **TRIPLE_AIM,
            ).id
            for number in range(cases)
        ]  # fmt: skip
    database.dispose()
    return World(url, token, co_chair_token, ids)


@pytest.fixture
def own_database(db_engine: Engine, tmp_path: Path) -> Iterator[str]:
    """A database of the test's own whose commits are real: a SQLite file, or a scratch
    database on $TEST_DATABASE_URL's server when the suite runs on PostgreSQL."""
    if db_engine.dialect.name == "postgresql":
        with scratch_postgres_database(os.environ["TEST_DATABASE_URL"]) as url:
            yield url
        return
    yield f"sqlite:///{tmp_path / 'load.db'}"


def _app(url: str, **config: Any) -> Flask:
    """The app as it runs in production: its own engine, a session per request."""
    return create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET, **config})


def _dispose(app: Flask) -> None:
    database_engine = app.extensions["aftaleflow.database"].engine
    if database_engine is not None:
        database_engine.dispose()


# --- a read beside a writer holding the lock ------------------------------------------------


@pytest.mark.sqlite_only
def test_pages_are_served_while_another_connection_holds_the_write_lock(own_database):
    """Regression: every transaction began with BEGIN IMMEDIATE, reads included, so a page
    waited for the writer and failed with "database is locked" after the busy timeout."""
    world = _populate(own_database, cases=1)
    app = _app(world.url, TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    assert client.post("/login", data={"email": EMAIL, "password": PASSWORD}).status_code == 303
    api = {"Authorization": f"Bearer {world.token}"}
    assert client.get("/api/v1/cases", headers=api).status_code == 200  # notes the token's use
    case_id = world.case_ids[0]

    writer = sqlite3.connect(world.url.removeprefix("sqlite:///"), isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE cases SET title = 'Ikke gemt endnu' WHERE id = ?", (case_id,))
    try:
        for path in ("/", "/sager", f"/sager/{case_id}"):
            page = client.get(path)
            assert page.status_code == 200, path
            assert "Ikke gemt endnu" not in page.get_data(as_text=True)
        listed = client.get("/api/v1/cases", headers=api)
        assert listed.status_code == 200
        assert [item["title"] for item in listed.get_json()["items"]] == ["Belastning 0"]
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        _dispose(app)


@pytest.mark.sqlite_only
def test_each_request_reads_what_was_committed_before_it(own_database):
    """A read keeps its snapshot only for its request: the next page shows a later commit."""
    world = _populate(own_database, cases=1)
    app = _app(world.url, TESTING=True, WTF_CSRF_ENABLED=False)
    client = app.test_client()
    client.post("/login", data={"email": EMAIL, "password": PASSWORD})
    case_id = world.case_ids[0]
    try:
        assert "Belastning 0" in client.get(f"/sager/{case_id}").get_data(as_text=True)
        writer = sqlite3.connect(world.url.removeprefix("sqlite:///"), isolation_level=None)
        writer.execute("UPDATE cases SET title = 'Omdøbt' WHERE id = ?", (case_id,))
        writer.close()
        assert "Omdøbt" in client.get(f"/sager/{case_id}").get_data(as_text=True)
    finally:
        _dispose(app)


# --- the mixed load -------------------------------------------------------------------------


@dataclass
class Tally:
    """Every response's status, and the unexpected ones with what was asked."""

    statuses: Counter[int] = field(default_factory=Counter)
    unexpected: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def note(self, what: str, status: int, body: bytes, allowed: tuple[int, ...]) -> None:
        with self.lock:
            self.statuses[status] += 1
            if status not in allowed:
                self.unexpected.append(f"{what} → {status}: {body[:300]!r}")


class Client:
    """HTTP over loopback, one connection per request, as a browser or a script would."""

    def __init__(self, address: tuple[str, int], headers: dict[str, str]) -> None:
        self.address = address
        self.headers = headers

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, bytes]:
        connection = http.client.HTTPConnection(*self.address, timeout=60)
        headers = dict(self.headers)
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        try:
            connection.request(method, path, body=payload, headers=headers)
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


def _log_in(address: tuple[str, int]) -> str:
    """Log in through the form (CSRF and all); return the session cookie."""
    connection = http.client.HTTPConnection(*address, timeout=60)
    connection.request("GET", "/login")
    form = connection.getresponse()
    page = form.read().decode()
    cookie = form.getheader("Set-Cookie", "").split(";", 1)[0]
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None, page[:500]
    connection.close()
    connection = http.client.HTTPConnection(*address, timeout=60)
    connection.request(
        "POST", "/login",
        body=urlencode({"csrf_token": token.group(1), "email": EMAIL, "password": PASSWORD}),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )  # fmt: skip
    answer = connection.getresponse()
    answer.read()
    assert answer.status == 303
    logged_in = answer.getheader("Set-Cookie", "").split(";", 1)[0]
    connection.close()
    return logged_in


# Each writer takes its own cases through the whole process; all of them push the shared cases
# round the escalation loop with the version they read, so most of those attempts are stale.
OWN_PATH = [
    ("raise", None),
    ("escalate", "TSS skal drøfte sagen."),
    ("tss_return_to_forum", "Forummet beslutter inden for rammerne."),
    ("decide", "Besluttet i forummet."),
    ("start", None),
    ("close", "Gennemført."),
]
NEXT_IN_LOOP = {
    "draft": ("raise", None),
    "in_forum": ("escalate", "TSS skal drøfte sagen."),
    "at_tss": ("tss_return_to_forum", "Forummet beslutter inden for rammerne."),
}
READERS, WRITERS, OWN_CASES, SHARED_CASES, READ_ROUNDS, SHARED_ROUNDS = 4, 4, 2, 2, 6, 4


def _transition(client: Client, case_id: int, trigger: str, comment: str | None, version: int):
    body: dict[str, Any] = {"trigger": trigger, "expected_version": version}
    if comment:
        body["comment"] = comment
    return client.call("POST", f"/api/v1/cases/{case_id}/transitions", body)


def _proposed(status: int, body: bytes) -> int | None:
    """The case's new version when the answer is one co-chair's proposal, else None."""
    if status != 200:
        return None
    answer = json.loads(body)
    return answer["version"] if answer["event"]["trigger"] == "formandskab_proposed" else None


def _step(
    api: Client, co_chair: Client, case_id: int, step: tuple[str, str | None], version: int,
    tally: Tally,
) -> int:  # fmt: skip
    """Fire one step of a case's path with the version read (a formandskab decision proposed
    by one co-chair and taken by the other); return the case's new version."""
    trigger, comment = step
    status, body = _transition(api, case_id, trigger, comment, version)
    tally.note(f"POST {trigger} on own {case_id}", status, body, (200,))
    proposed = _proposed(status, body)
    if proposed is not None:
        status, body = _transition(co_chair, case_id, trigger, comment, proposed)
        tally.note(f"POST {trigger} (consent) on own {case_id}", status, body, (200,))
    return json.loads(body)["version"] if status == 200 else version


def _push_round_the_loop(api: Client, co_chair: Client, case_id: int, tally: Tally) -> int:
    """Read the case, fire its next step in the loop with the version read (a formandskab
    decision: the other co-chair consents at once); return how many of the posts won."""
    status, body = api.call("GET", f"/api/v1/cases/{case_id}")
    tally.note(f"GET /api/v1/cases/{case_id}", status, body, (200,))
    read = json.loads(body)
    trigger, comment = NEXT_IN_LOOP[read["state"]]
    status, body = _transition(api, case_id, trigger, comment, read["version"])
    # 422: another writer's proposal by the same co-chair is pending (read after it was made).
    tally.note(f"POST {trigger} on shared {case_id}", status, body, (200, 409, 422))
    proposed = _proposed(status, body)
    if proposed is None:
        return int(status == 200)
    status, body = _transition(co_chair, case_id, trigger, comment, proposed)
    tally.note(f"POST {trigger} (consent) on shared {case_id}", status, body, (200, 409))
    return 1 + int(status == 200)


def test_mixed_reads_and_transitions_under_load_never_answer_a_server_error(own_database):
    world = _populate(own_database, cases=WRITERS * OWN_CASES + SHARED_CASES)
    shared = world.case_ids[:SHARED_CASES]
    own = world.case_ids[SHARED_CASES:]
    app = _app(world.url)
    tally = Tally()
    won_on_shared: Counter[int] = Counter()
    errors: list[BaseException] = []
    with serving(app, threads=8) as address:
        pages = Client(address, {"Cookie": _log_in(address)})
        api = Client(address, {"Authorization": f"Bearer {world.token}"})
        co_chair = Client(address, {"Authorization": f"Bearer {world.co_chair_token}"})
        start = threading.Barrier(READERS + WRITERS + 1)

        def read() -> None:
            start.wait()
            for round_ in range(READ_ROUNDS):
                case_id = world.case_ids[round_ % len(world.case_ids)]
                for path in ("/", "/sager", f"/sager/{case_id}"):
                    tally.note(f"GET {path}", *pages.call("GET", path), (200,))
                tally.note("GET /api/v1/cases", *api.call("GET", "/api/v1/cases"), (200,))

        def write(mine: list[int]) -> None:
            versions = {case_id: 1 for case_id in mine}
            start.wait()
            for round_ in range(max(len(OWN_PATH), SHARED_ROUNDS)):
                if round_ < len(OWN_PATH):
                    for case_id in mine:  # the only writer of these: every step succeeds
                        read = versions[case_id]
                        versions[case_id] = _step(
                            api, co_chair, case_id, OWN_PATH[round_], read, tally
                        )
                        if round_ == 0:  # the same form submitted again: a conflict
                            status, body = _transition(api, case_id, "escalate", "Igen.", read)
                            tally.note(f"POST stale escalate on {case_id}", status, body, (409,))
                if round_ < SHARED_ROUNDS:
                    for case_id in shared:  # raced: a stale version or state is a 409
                        won = _push_round_the_loop(api, co_chair, case_id, tally)
                        with tally.lock:
                            won_on_shared[case_id] += won

        def guarded(target: Any, *args: Any) -> threading.Thread:
            def run() -> None:
                try:
                    target(*args)
                except BaseException as exc:  # collected and asserted below
                    errors.append(exc)
                    start.abort()

            return threading.Thread(target=run)

        threads = [guarded(read) for _ in range(READERS)] + [
            guarded(write, own[n * OWN_CASES : (n + 1) * OWN_CASES]) for n in range(WRITERS)
        ]
        for thread in threads:
            thread.start()
        start.wait()
        # The scheduler sweeps beside the load, through its lease, as `serve --with-scheduler`.
        sweeper_engine = make_engine(world.url)
        for _ in range(3):
            with Session(sweeper_engine) as sweeper:
                scheduler.sweep(sweeper, holder="belastning")
        sweeper_engine.dispose()
        for thread in threads:
            thread.join()
    _dispose(app)

    assert errors == []
    assert tally.unexpected == []
    assert not [status for status in tally.statuses if status >= 500]
    assert tally.statuses[409] >= WRITERS * OWN_CASES  # at least the stale resubmissions
    check_engine = make_engine(world.url)
    with Session(check_engine) as check:
        for case_id in own:
            assert check.get(Case, case_id).state == "closed"
        # Each success (a proposal or a decision) is in the audit trail once, nothing else.
        for case_id in shared:
            events = check.scalars(select(CaseEvent.trigger).where(CaseEvent.case_id == case_id))
            assert len([e for e in events if e != "create"]) == won_on_shared[case_id]
    check_engine.dispose()
