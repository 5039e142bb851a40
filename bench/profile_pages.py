"""Time the key pages in process (Flask's test client) on a generated database, with the SQL
statements each one runs: `python -m bench.profile_pages sqlite:///var/bench.db`.

A quick look for where a page spends its time, before and after a fix; `make bench` measures
the same pages through the production server under load.
"""

from __future__ import annotations

import statistics
import sys
import time
from typing import Any

from flask import Flask
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from models import Case, Meeting, MeetingStatus, User
from workflow import volume
from workflow.app import create_app
from workflow.auth import tokens
from workflow.engine.db import make_engine
from workflow.web import EXTENSION_KEY


def key_pages(url: str) -> tuple[dict[str, tuple[str, str]], str]:
    """The pages `make bench` measures, as name -> (user e-mail, path), and an API token."""
    engine = make_engine(url)
    with Session(engine) as session:
        forum_case = session.scalar(
            select(Case.id).where(Case.process == "forum_matter").order_by(Case.id.desc()).limit(1)
        )
        meeting = session.scalar(
            select(Meeting.id)
            .where(Meeting.status == MeetingStatus.CLOSED)
            .order_by(Meeting.starts_at.desc())
            .limit(1)
        )
        chair = session.scalar(select(User).where(User.email == volume.CHAIR_EMAIL))
        assert chair is not None, "generate the data first: aftaleflow bench-data"
        token = tokens.create_token(session, chair, "bench").plain
    engine.dispose()
    chair_mail, secretary = volume.CHAIR_EMAIL, volume.SECRETARIAT_EMAIL
    pages = {
        "dashboard (chair)": (chair_mail, "/"),
        "dashboard (secretariat)": (secretary, "/"),
        "case list page 1": (chair_mail, "/sager"),
        "case list filtered": (chair_mail, "/sager?proces=forum_matter&overskredet=1"),
        "case detail": (chair_mail, f"/sager/{forum_case}"),
        "meeting page": (secretary, f"/moeder/{meeting}"),
        "API case list": ("token", "/api/v1/cases"),
    }
    return pages, token


def logged_in(url: str) -> tuple[Flask, dict[str, tuple[str, str]], str, dict[str, Any]]:
    """The app over `url`, the key pages, an API token and a test client logged in as each
    bench user (by e-mail)."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench-" + "x" * 32})
    app.config["WTF_CSRF_ENABLED"] = False
    pages, token = key_pages(url)
    clients: dict[str, Any] = {}
    for email in (volume.CHAIR_EMAIL, volume.SECRETARIAT_EMAIL):
        client = app.test_client()
        answer = client.post("/login", data={"email": email, "password": volume.BENCH_PASSWORD})
        assert answer.status_code == 303, answer.status_code
        clients[email] = client
    return app, pages, token, clients


def main() -> None:
    url = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    app, pages, token, clients = logged_in(url)
    statements: list[str] = []
    engine = app.extensions[EXTENSION_KEY].engine

    timings: list[tuple[float, str]] = []

    @event.listens_for(engine, "before_cursor_execute")
    def _count(conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        statements.append(statement)
        conn.info["bench_began"] = time.perf_counter()

    @event.listens_for(engine, "after_cursor_execute")
    def _time(conn, _cursor, statement, *_args):  # type: ignore[no-untyped-def]
        timings.append((time.perf_counter() - conn.info.pop("bench_began", 0.0), statement))

    for name, (who, path) in pages.items():
        headers = {"Authorization": f"Bearer {token}"} if who == "token" else {}
        client = clients.get(who) or app.test_client()
        times = []
        for _ in range(rounds):
            statements.clear()
            timings.clear()
            began = time.perf_counter()
            answer = client.get(path, headers=headers)
            times.append((time.perf_counter() - began) * 1000)
            assert answer.status_code == 200, (path, answer.status_code)
        print(f"{name:<26} {statistics.median(times):8.1f} ms  {len(statements):3d} statements")
        if "-v" in sys.argv:
            for seconds, statement in sorted(timings, reverse=True)[:3]:
                if seconds > 0.005:
                    print(f"    {seconds * 1000:7.1f} ms  {' '.join(statement.split())[:3000]}")


if __name__ == "__main__":
    main()
