"""Benchmark: pages served while transitions are written, through waitress as `aftaleflow serve`.

Reader threads fetch the dashboard, the case list and case pages with a logged-in session;
writer threads push their own cases round a loop of transitions through the API. Prints pages
per second, their latency (median, 95th percentile, worst), transitions per second and the
server errors (there should be none). SQLite, and PostgreSQL when $TEST_DATABASE_URL points at
a server. Run with `python -m bench.reads` (part of `make bench`).
"""

from __future__ import annotations

import http.client
import json
import logging
import multiprocessing
import os
import re
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Body, Membership, Role, User
from workflow.app import create_app
from workflow.auth import passwords, tokens
from workflow.engine import core as workflow_engine
from workflow.engine import migrate
from workflow.engine.db import make_engine, scratch_postgres_database
from workflow.organisation import seed
from workflow.web.server import serving

SECONDS = float(os.environ.get("BENCH_READS_SECONDS", "6"))
READERS = int(os.environ.get("BENCH_READERS", "6"))
WRITERS = int(os.environ.get("BENCH_WRITERS", "2"))
EMAIL, PASSWORD = "formand@bench.dk", "bench adgangskode æøå"
LOOP = {
    "draft": ("raise", None),
    "in_forum": ("escalate", "TSS skal drøfte sagen."),
    "at_tss": ("tss_return_to_forum", "Forummet beslutter."),
}


def _populate(url: str, cases: int) -> tuple[str, list[int]]:
    engine = make_engine(url)
    migrate.upgrade(engine)
    with Session(engine, expire_on_commit=False) as session:
        seed.run(session)
        forum = session.scalar(select(Body).where(Body.code == "FORUM-HJERNE"))
        tss = session.scalar(select(Body).where(Body.code == "TSS"))
        assert forum is not None and tss is not None
        user = User(email=EMAIL, name="Bench", password_hash=passwords.hash_password(PASSWORD))
        session.add(user)
        session.flush()
        for body, role in ((forum, Role.SECRETARIAT), (forum, Role.CHAIR), (tss, Role.CHAIR)):
            session.add(Membership(user_id=user.id, body_id=body.id, role=role))
        session.commit()
        token = tokens.create_token(session, user, "bench").plain
        ids = [
            workflow_engine.create_case(
                session, process="forum_matter", title=f"Sag {n}", originating_body=forum,
                actor=user,
            ).id
            for n in range(cases)
        ]  # fmt: skip
    engine.dispose()
    return token, ids


def _call(address: tuple[str, int], method: str, path: str, headers: dict[str, str],
          body: Any = None) -> tuple[int, bytes, Any]:  # fmt: skip
    connection = http.client.HTTPConnection(*address, timeout=120)
    headers = dict(headers)
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        return response.status, response.read(), response
    finally:
        connection.close()


def _log_in(address: tuple[str, int]) -> str:
    _, page, form = _call(address, "GET", "/login", {})
    cookie = (form.getheader("Set-Cookie") or "").split(";", 1)[0]
    token = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert token is not None
    connection = http.client.HTTPConnection(*address, timeout=120)
    form_body = {"csrf_token": token.group(1).decode(), "email": EMAIL, "password": PASSWORD}
    connection.request(
        "POST", "/login", body=urlencode(form_body),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
    )  # fmt: skip
    answer = connection.getresponse()
    answer.read()
    connection.close()
    assert answer.status == 303, answer.status
    return (answer.getheader("Set-Cookie") or "").split(";", 1)[0]


@dataclass
class Results:
    page_seconds: list[float] = field(default_factory=list)
    transitions: int = 0
    conflicts: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _measure(url: str) -> Results:
    token, ids = _populate(url, READERS + WRITERS)
    # The server runs in a process of its own, as `aftaleflow serve` does, so the clients here
    # do not compete with it for the interpreter lock.
    ports: Any = multiprocessing.get_context("spawn").Queue()
    serving = multiprocessing.get_context("spawn").Process(target=_serve, args=(url, ports))
    serving.start()
    address = ("127.0.0.1", ports.get(timeout=120))
    results = Results()
    cookie = {"Cookie": _log_in(address)}
    api = {"Authorization": f"Bearer {token}"}
    start = threading.Barrier(READERS + WRITERS + 1)
    until = [0.0]

    def read(number: int) -> None:
        paths = ["/", "/sager", *(f"/sager/{case_id}" for case_id in ids)]
        start.wait()
        turn = number
        while time.perf_counter() < until[0]:
            path = paths[turn % len(paths)]
            turn += 1
            began = time.perf_counter()
            status, body, _ = _call(address, "GET", path, cookie)
            with results.lock:
                results.page_seconds.append(time.perf_counter() - began)
                if status >= 500:
                    results.server_errors.append(f"GET {path} {status}: {body[:200]!r}")

    def write(case_id: int) -> None:
        status, body, _ = _call(address, "GET", f"/api/v1/cases/{case_id}", api)
        case = json.loads(body)
        start.wait()
        while time.perf_counter() < until[0]:
            trigger, comment = LOOP[case["state"]]
            payload = {"trigger": trigger, "expected_version": case["version"]}
            if comment:
                payload["comment"] = comment
            status, body, _ = _call(
                address, "POST", f"/api/v1/cases/{case_id}/transitions", api, payload
            )
            with results.lock:
                if status == 200:
                    results.transitions += 1
                    case = json.loads(body)
                elif status == 409:
                    results.conflicts += 1
                elif status >= 500:
                    results.server_errors.append(f"POST {trigger} {status}: {body[:200]!r}")

    threads = [threading.Thread(target=read, args=(n,)) for n in range(READERS)]
    threads += [threading.Thread(target=write, args=(ids[READERS + n],)) for n in range(WRITERS)]
    for thread in threads:
        thread.start()
    until[0] = time.perf_counter() + SECONDS
    start.wait()
    for thread in threads:
        thread.join()
    serving.terminate()
    serving.join()
    return results


def _serve(url: str, ports: Any) -> None:
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # busy is the point here
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 32})
    with serving(app, threads=8) as (_, port):
        ports.put(port)
        threading.Event().wait()  # until _measure terminates this process


def _report(name: str, results: Results) -> None:
    pages = sorted(results.page_seconds)
    p95 = pages[int(len(pages) * 0.95) - 1] if pages else 0.0
    print(
        f"{name:<11} {len(pages) / SECONDS:7.1f} sider/s  "
        f"median {statistics.median(pages) * 1000:6.0f} ms  95 % {p95 * 1000:6.0f} ms  "
        f"værst {pages[-1] * 1000:6.0f} ms   {results.transitions / SECONDS:6.1f} overgange/s  "
        f"{len(results.server_errors)} serverfejl ({READERS} læsere, {WRITERS} skrivere, "
        f"{SECONDS:g} s)"
    )
    for error in results.server_errors[:5]:
        print("   ", error)


def main() -> None:
    """Print page and transition rates under a mixed load for each database."""
    with tempfile.TemporaryDirectory() as tmp:
        _report("SQLite", _measure(f"sqlite:///{Path(tmp) / 'reads.db'}"))
    server = os.environ.get("TEST_DATABASE_URL")
    if server:
        with scratch_postgres_database(server) as scratch:
            _report("PostgreSQL", _measure(scratch))


if __name__ == "__main__":
    main()
